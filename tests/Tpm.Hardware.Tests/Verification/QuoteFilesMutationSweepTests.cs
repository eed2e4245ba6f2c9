using System.Buffers.Binary;
using System.Text;
using Xunit.Abstractions;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

/// <summary>
/// Issue 19 mutation sweep over the tpm2-tools quote files of <see cref="SwtpmQuoteFixture"/>:
/// every single-octet change (XOR 0x01) and every truncation of each file is rejected — the
/// documented exception of its reader (<see cref="FormatException"/>) or an invalid quote with a
/// named failure — unless it is in the allow-list below. No other exception may escape. All
/// octets and all lengths of every file are swept (the files are small).
/// </summary>
/// <remarks>
/// Allow-list (changes that may leave the quote valid, and why):
/// <list type="bullet">
/// <item><c>pcrs.ser</c>: octets tpm2-tools' C-struct dump carries but the format does not define
/// — TPMS_PCR_SELECTION slots beyond the count, the padding octet of each slot and pcrSelect
/// octets beyond sizeofSelect, TPML_DIGEST slots beyond the count and buffer octets beyond each
/// digest's size.</item>
/// <item><c>ak.pem</c>: the line break after the END line, which PEM (RFC 7468 §2) lets a reader
/// ignore — changed or dropped by a truncation. The PEM key is a bare public key anyway: the
/// verifier reports its attributes unchecked.</item>
/// </list>
/// </remarks>
[Collection(SwtpmCollection.Name)]
public sealed class QuoteFilesMutationSweepTests(SwtpmQuoteFixture tpm, ITestOutputHelper output)
{
    private static readonly byte[] Nonce = Convert.FromHexString(SwtpmQuoteFixture.NonceHex);

    public static TheoryData<string, string, string, string, string> QuoteSets => new()
    {
        // key, message, signature, PCR file, PCR format
        { "ak.pub", "quote.msg", "quote.sig", "pcrs.ser", "serialized" },
        { "ak.pem", "quote-plain.msg", "quote-plain.sig", "pcrs.val", "values" },
        { "akrsa.pub", "quote-rsa.msg", "quote-rsa.sig", "pcrs-rsa.ser", "serialized" },
    };

    [Theory]
    [MemberData(nameof(QuoteSets))]
    public void MutationSweep_EveryOctetAndTruncation_RejectedOrAllowListed(string key, string message, string signature, string pcrs, string pcrFormat)
    {
        var files = new Dictionary<string, byte[]> { [key] = tpm.Read(key), [message] = tpm.Read(message), [signature] = tpm.Read(signature), [pcrs] = tpm.Read(pcrs) };
        Assert.True(Verify(files, key, message, signature, pcrs, pcrFormat).Valid, "the untouched files verify");
        var escaped = new List<string>();
        var accepted = new List<string>();
        foreach (var (name, original) in files.ToArray())
        {
            var allowed = AllowedOctets(name, original);
            var allowedLengths = AllowedLengths(name, original);
            var kept = 0;
            for (var i = 0; i < original.Length; i++)
            {
                var mutated = (byte[])original.Clone();
                mutated[i] ^= 0x01;
                var outcome = Verify(new Dictionary<string, byte[]>(files) { [name] = mutated }, key, message, signature, pcrs, pcrFormat);
                Classify(outcome, $"{name}[{i}] ^0x01", allowed.Contains(i), ref kept);
            }

            for (var length = 0; length < original.Length; length++)
            {
                var outcome = Verify(new Dictionary<string, byte[]>(files) { [name] = original[..length] }, key, message, signature, pcrs, pcrFormat);
                Classify(outcome, $"{name} truncated to {length}", allowedLengths.Contains(length), ref kept);
            }

            output.WriteLine($"{name}: {original.Length} octet changes and {original.Length} truncations, {kept} allow-listed ones still valid");
        }

        Assert.True(escaped.Count == 0, $"{escaped.Count} exceptions escaped: {string.Join("; ", escaped.Take(20))}");
        Assert.True(accepted.Count == 0, $"{accepted.Count} changes still verify outside the allow-list: {string.Join("; ", accepted.Take(20))}");

        void Classify((bool Valid, string? Escaped) outcome, string what, bool isAllowed, ref int kept)
        {
            if (outcome.Escaped is { } e)
            {
                escaped.Add($"{what}: {e}");
            }
            else if (outcome.Valid && isAllowed)
            {
                kept++;
                if (!what.Contains(".ser", StringComparison.Ordinal))
                {
                    output.WriteLine($"  allow-listed and still valid: {what}");
                }
            }
            else if (outcome.Valid)
            {
                accepted.Add(what);
            }
        }
    }

    /// <summary>What <c>truststack quote verify</c> does with the files, without the command line.</summary>
    private static (bool Valid, string? Escaped) Verify(Dictionary<string, byte[]> files, string key, string message, string signature, string pcrs, string pcrFormat)
    {
        try
        {
            var publicKey = TpmPublicKeys.Parse(files[key], out var form);
            var sig = TpmSignatureVerifier.ParseSignature(files[signature], publicKey, TpmAlgId.Sha256);
            var selection = PcrSelectionList.Parse(SwtpmQuoteFixture.PcrList);
            var values = pcrFormat == "values" ? PcrValues.ParseValues(files[pcrs], selection) : PcrValues.ParseSerialized(files[pcrs], out _);
            var result = QuoteVerifier.Verify(new QuoteVerificationRequest(publicKey, files[message], sig, Nonce, values) { ExpectedSelection = selection, SigningKeyForm = form });
            Assert.True(result.IsValid || result.Failures.Count > 0, "an invalid quote names its failures");
            return (result.IsValid, null);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            // The documented errors of the readers (ParseSignature: ArgumentException for a key that cannot sign).
            return (false, null);
        }
        catch (Exception e)
        {
            return (false, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static HashSet<int> AllowedOctets(string name, byte[] file)
    {
        var allowed = new HashSet<int>();
        if (name.EndsWith(".ser", StringComparison.Ordinal))
        {
            // TPML_PCR_SELECTION: u32 count, 16 × {u16 hash, u8 sizeofSelect, u8 pcrSelect[4], u8 pad}.
            var count = BinaryPrimitives.ReadInt32LittleEndian(file);
            for (var slot = 0; slot < PcrSelectionList.MaxBanks; slot++)
            {
                var at = 4 + (slot * 8);
                var used = slot < count ? 3 + file[at + 2] : 0;
                allowed.UnionWith(Enumerable.Range(at + used, 8 - used));
            }

            // u32 list count, then per TPML_DIGEST: u32 count, 8 × {u16 size, u8 buffer[64]}.
            var lists = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(PcrValues.SerializedSelectionSize));
            for (var list = 0; list < lists; list++)
            {
                var listAt = PcrValues.SerializedSelectionSize + 4 + (list * PcrValues.SerializedDigestListSize);
                var digests = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(listAt));
                for (var d = 0; d < 8; d++)
                {
                    var at = listAt + 4 + (d * 66);
                    var used = d < digests ? 2 + BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at)) : 0;
                    allowed.UnionWith(Enumerable.Range(at + used, 66 - used));
                }
            }
        }
        else if (name.EndsWith(".pem", StringComparison.Ordinal))
        {
            allowed.UnionWith(AllowedLengths(name, file));
        }

        return allowed;
    }

    private static HashSet<int> AllowedLengths(string name, byte[] file)
    {
        if (!name.EndsWith(".pem", StringComparison.Ordinal))
        {
            return [];
        }

        var text = Encoding.ASCII.GetString(file);
        var endLine = text.IndexOf("-----", text.IndexOf("-----END", StringComparison.Ordinal) + 5, StringComparison.Ordinal) + 5;
        return [.. Enumerable.Range(endLine, file.Length - endLine)];
    }
}
