using System.CommandLine;
using TrustStack.Tests.Shared;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Tests;

/// <summary><c>truststack quote verify</c> on real tpm2-tools output.</summary>
public sealed class QuoteVerifyCommandTests(TpmToolsQuoteFiles files) : IClassFixture<TpmToolsQuoteFiles>
{
    [Fact]
    public void Verify_TpmToolsSerializedQuote_ExitsZeroAndPrintsEachCheck()
    {
        var (code, output, error) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", TpmToolsQuoteFiles.NonceHex, "--pcr-list", TpmToolsQuoteFiles.PcrList);

        Assert.True(code == 0, output + error);
        foreach (var check in new[] { "Structure", "Magic", "Type", "Nonce", "SigningKey", "SignatureScheme", "Signature", "QualifiedSigner", "PcrSelection", "PcrDigest" })
        {
            Assert.Matches($"(?m)^{check} +ok ", output);
        }

        Assert.Matches("(?m)^Clock +skipped +clock [0-9]+ ms, resetCount [0-9]+, restartCount [0-9]+, safe (yes|no); no earlier quote", output);
        Assert.Matches("(?m)^FirmwareVersion +skipped +firmwareVersion 0x[0-9a-f]{16}", output);

        Assert.EndsWith("quote: valid\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Empty(error);
    }

    [Fact]
    public void Verify_PemKeyPlainSignatureValuesPcrs_ExitsZeroSayingTheAttributesWereNotChecked()
    {
        var (code, output, error) = Invoke("quote", "verify", "-u", files.PathOf("ak.pub"), "-m", files.PathOf("plain.msg"), "-s", files.PathOf("plain.sig"), "-f", files.PathOf("pcrs.val"), "-F", "values", "-q", TpmToolsQuoteFiles.NonceHex);

        Assert.True(code == 0, output + error);
        Assert.Matches("(?m)^SigningKey +skipped +.*attributes could not be checked", output);
        Assert.Matches("(?m)^PcrSelection +ok ", output);
        Assert.Contains("quote: valid, BUT the signing key's attributes could not be checked", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--require-restricted")]
    [InlineData("--require-ak")]
    public void Verify_PemKeyWithStrictness_ExitsOne(string option)
    {
        var (code, output, _) = Invoke("quote", "verify", "-u", files.PathOf("ak.pub"), "-m", files.PathOf("plain.msg"), "-s", files.PathOf("plain.sig"), "-f", files.PathOf("pcrs.val"), "-F", "values", "-q", TpmToolsQuoteFiles.NonceHex, option);

        Assert.Equal(1, code);
        Assert.Matches("(?m)^  - SigningKey: the key is a bare public key \\(PEM/DER\\): its attributes could not be checked", output);
    }

    [Fact]
    public void Verify_TpmToolsAkWithEveryStrictness_ExitsZero()
    {
        // plain.msg was quoted after quote.msg by the same AK.
        var firmware = TpmsAttest.Parse(File.ReadAllBytes(files.PathOf("plain.msg"))).FirmwareVersion;
        var (code, output, error) = Invoke(
            "quote", "verify", "-u", files.PathOf("ak.tss"), "-m", files.PathOf("plain.msg"), "-s", files.PathOf("plain.sig"), "-f", files.PathOf("pcrs.val"), "-F", "values", "-q", TpmToolsQuoteFiles.NonceHex,
            "--pcr-list", TpmToolsQuoteFiles.PcrList, "--require-ak", "--qualified-name", files.PathOf("ak.qname"), "--previous-message", files.PathOf("quote.msg"),
            "--firmware-version", $"0x{firmware:x}", "--require-safe-clock");

        Assert.True(code == 0, output + error);
        Assert.DoesNotContain("skipped", output, StringComparison.Ordinal);
        Assert.Matches("(?m)^SigningKey +ok +attestation key", output);
    }

    [Fact]
    public void Attack_EarlierQuoteAfterALaterOne_ExitsOneNamingTheClock()
    {
        var (code, output, _) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", TpmToolsQuoteFiles.NonceHex, "--previous-message", files.PathOf("plain.msg"));

        Assert.Equal(1, code);
        Assert.Matches("(?m)^  - Clock: clock went back from the previous quote's [0-9]+ ms to [0-9]+ ms", output);
    }

    [Fact]
    public void Verify_OtherFirmwareVersion_ExitsOne()
    {
        var (code, output, _) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", TpmToolsQuoteFiles.NonceHex, "--firmware-version", "1");

        Assert.Equal(1, code);
        Assert.Matches("(?m)^  - FirmwareVersion: firmwareVersion 0x[0-9a-f]{16} is not the expected 0x0000000000000001", output);
    }

    [Theory]
    [InlineData("--firmware-version", "12x")]
    [InlineData("--previous-message", "quote.sig")]
    public void Verify_UnusableStrictnessInput_ExitsTwo(string option, string value)
    {
        var argument = option == "--previous-message" ? files.PathOf(value) : value;
        var (code, output, error) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", TpmToolsQuoteFiles.NonceHex, option, argument);

        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains(option, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_WrongNonce_ExitsOneWithTheReason()
    {
        var (code, output, _) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", "00" + TpmToolsQuoteFiles.NonceHex);

        Assert.Equal(1, code);
        Assert.Contains("quote: INVALID", output, StringComparison.Ordinal);
        Assert.Matches("(?m)^  - Nonce: extraData a1b2c3d4", output);
    }

    [Fact]
    public void Verify_PcrsOfTheOtherQuoteWithOtherSelection_ExitsOne()
    {
        var (code, output, _) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", TpmToolsQuoteFiles.NonceHex, "--pcr-list", "sha256:0,1,7");

        Assert.Equal(1, code);
        Assert.Matches("(?m)^PcrSelection +FAILED ", output);
    }

    [Fact]
    public void Verify_BadHexNonce_ExitsTwoWithMessageOnStderr()
    {
        var (code, output, error) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", "xyz");

        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains("--nonce 'xyz' is not hex", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_MissingFile_ExitsTwo()
    {
        var (code, _, error) = Invoke("quote", "verify", "--public", files.PathOf("no-such.pub"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", "00");

        Assert.Equal(2, code);
        Assert.Contains("no-such.pub", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_MissingOption_ExitsTwo()
    {
        var (code, _, error) = Invoke("quote", "verify", "--message", files.PathOf("quote.msg"));

        Assert.Equal(2, code);
        Assert.Contains("--public is required", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ValuesFileReadAsSerialized_ExitsTwo()
    {
        var (code, _, error) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("plain.msg"), "--signature", files.PathOf("plain.sig"), "--pcrs", files.PathOf("pcrs.val"), "--nonce", TpmToolsQuoteFiles.NonceHex);

        Assert.Equal(2, code);
        Assert.Contains("PCR file pcrs.val", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_MessageIsNotAnAttestation_ExitsOne()
    {
        var (code, output, _) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.sig"), "--signature", files.PathOf("quote.sig"), "--pcrs", files.PathOf("pcrs.ser"), "--nonce", TpmToolsQuoteFiles.NonceHex);

        Assert.Equal(1, code);
        Assert.Matches("(?m)^Structure +FAILED ", output);
    }

    [Fact]
    public void Attack_UnrestrictedKeyForgedQuote_ExitsOneNamingTheRestrictedAttribute()
    {
        var (code, output, _) = Invoke("quote", "verify", "--public", files.PathOf(TpmToolsForgery.KeyPublic), "--message", files.PathOf(TpmToolsForgery.Message), "--signature", files.PathOf(TpmToolsForgery.Signature), "--pcrs", files.PathOf(TpmToolsForgery.Pcrs), "--nonce", TpmToolsQuoteFiles.NonceHex, "--pcr-list", TpmToolsQuoteFiles.PcrList);

        Assert.Equal(1, code);
        Assert.Contains("quote: INVALID", output, StringComparison.Ordinal);
        Assert.Matches("(?m)^  - SigningKey: restricted is CLEAR", output);
    }

    [Fact]
    public void Attack_PcrFileWithAnUnquotedPcr_ExitsOne()
    {
        // The PCR file (its own selection) claims sha256:16 too, which the quote does not cover.
        var values = PcrValues.ParseSerialized(File.ReadAllBytes(files.PathOf("pcrs.ser")), out var selection);
        var wider = PcrSelectionList.Parse(TpmToolsQuoteFiles.PcrList.Replace("sha256:0,1,7", "sha256:0,1,7,16", StringComparison.Ordinal));
        var path = files.PathOf("pcrs-wider.ser");
        File.WriteAllBytes(path, values.With(TpmAlgId.Sha256, 16, new byte[32]).ToSerializedFormat(wider));

        var (code, output, _) = Invoke("quote", "verify", "--public", files.PathOf("ak.tss"), "--message", files.PathOf("quote.msg"), "--signature", files.PathOf("quote.sig"), "--pcrs", path, "--nonce", TpmToolsQuoteFiles.NonceHex);

        Assert.Equal(1, code);
        Assert.Matches("(?m)^PcrSelection +FAILED ", output);
        Assert.NotEqual(selection.Enumerate(), wider.Enumerate());
    }

    [Theory]
    [InlineData("ak.tss", "quote.msg", "quote.sig", "pcrs.ser", "serialized")]
    [InlineData("ak.pub", "plain.msg", "plain.sig", "pcrs.val", "values")]
    public void MutationSweep_QuoteVerifyOnEveryChangedOctetAndTruncation_RejectsWithAReason(string key, string message, string signature, string pcrs, string format)
    {
        // As QuoteFilesMutationSweepTests, through the command line: exit 1 with "quote: INVALID",
        // or exit 2 with "error: " — never an unhandled exception, never exit 0 outside the
        // allow-list (pcrs.ser octets the C-struct dump does not define; the PEM's final line break).
        var root = CliApp.Build();
        var names = new[] { key, message, signature, pcrs };
        var dir = Path.Combine(files.Directory, $"sweep-{format}");
        Directory.CreateDirectory(dir);
        foreach (var name in names)
        {
            File.Copy(files.PathOf(name), Path.Combine(dir, name), overwrite: true);
        }

        var failures = new List<string>();
        var kept = 0;
        foreach (var name in names)
        {
            var original = File.ReadAllBytes(files.PathOf(name));
            var variants = Enumerable.Range(0, original.Length).Select(i => ($"{name}[{i}] ^0x01", Mutate(original, i), Allowed(name, original, i, truncated: false)))
                .Concat(Enumerable.Range(0, original.Length).Select(l => ($"{name} truncated to {l}", original[..l], Allowed(name, original, l, truncated: true))));
            foreach (var (what, bytes, allowed) in variants)
            {
                File.WriteAllBytes(Path.Combine(dir, name), bytes);
                using var output = new StringWriter();
                using var error = new StringWriter();
                var code = root.Parse(["quote", "verify", "-u", Path.Combine(dir, key), "-m", Path.Combine(dir, message), "-s", Path.Combine(dir, signature), "-f", Path.Combine(dir, pcrs), "-F", format, "-q", TpmToolsQuoteFiles.NonceHex, "-l", TpmToolsQuoteFiles.PcrList])
                    .Invoke(new InvocationConfiguration { Output = output, Error = error });
                var text = output.ToString();
                var said = error.ToString();
                var ok = code switch
                {
                    0 => allowed,
                    1 => text.Contains("quote: INVALID", StringComparison.Ordinal) && text.Contains("\n  - ", StringComparison.Ordinal) && said.Length == 0,
                    2 => said.StartsWith("error: ", StringComparison.Ordinal) && !said.Contains("   at ", StringComparison.Ordinal),
                    _ => false,
                };
                kept += code == 0 ? 1 : 0;
                if (!ok)
                {
                    failures.Add($"{what}: exit {code} {said}{text}");
                }
            }

            File.WriteAllBytes(Path.Combine(dir, name), original);
        }

        Assert.True(failures.Count == 0, $"{failures.Count} wrong outcomes ({kept} allow-listed still valid): {string.Join(" | ", failures.Take(10))}");

        static byte[] Mutate(byte[] original, int i)
        {
            var copy = (byte[])original.Clone();
            copy[i] ^= 0x01;
            return copy;
        }
    }

    /// <summary>The allow-list of the sweep: octets the file's format does not define (see QuoteFilesMutationSweepTests).</summary>
    private static bool Allowed(string name, byte[] file, int at, bool truncated)
    {
        if (name.EndsWith(".pub", StringComparison.Ordinal))
        {
            // The PEM key: only its final line break, after the END line, may change or go.
            var text = System.Text.Encoding.ASCII.GetString(file);
            var endLine = text.IndexOf("-----", text.IndexOf("-----END", StringComparison.Ordinal) + 5, StringComparison.Ordinal) + 5;
            return at >= endLine;
        }

        if (!name.EndsWith(".ser", StringComparison.Ordinal) || truncated)
        {
            return false;
        }

        // TPML_PCR_SELECTION slots: {u16 hash, u8 sizeofSelect, u8 pcrSelect[4], u8 pad} × 16 after u32 count.
        var count = BitConverter.ToInt32(file, 0);
        if (at < PcrValues.SerializedSelectionSize)
        {
            var slot = (at - 4) / 8;
            var used = slot < count ? 3 + file[4 + (slot * 8) + 2] : 0;
            return at >= 4 && (at - 4) % 8 >= used;
        }

        // TPML_DIGEST lists after u32 list count: u32 count, 8 × {u16 size, u8 buffer[64]}.
        var inLists = at - PcrValues.SerializedSelectionSize - 4;
        if (inLists < 0)
        {
            return false;
        }

        var listAt = PcrValues.SerializedSelectionSize + 4 + (inLists / PcrValues.SerializedDigestListSize * PcrValues.SerializedDigestListSize);
        var inList = at - listAt;
        if (inList < 4)
        {
            return false;
        }

        var d = (inList - 4) / 66;
        var digests = BitConverter.ToInt32(file, listAt);
        var size = d < digests ? 2 + BitConverter.ToUInt16(file, listAt + 4 + (d * 66)) : 0;
        return (inList - 4) % 66 >= size;
    }

    internal static (int ExitCode, string Output, string Error) Invoke(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CliApp.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
