using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace TrustStack.Tpm.Hardware;

/// <summary>The two forms of a Linux IMA measurement list.</summary>
public enum ImaLogFormat
{
    /// <summary>Detect: a list that starts with an ASCII digit is ASCII, anything else binary.</summary>
    Auto,

    /// <summary><c>/sys/kernel/security/ima/ascii_runtime_measurements</c>.</summary>
    Ascii,

    /// <summary><c>/sys/kernel/security/ima/binary_runtime_measurements</c> (little-endian).</summary>
    Binary,
}

/// <summary>
/// One IMA measurement. <see cref="TemplateData"/> is the template data exactly as the binary
/// list carries it; the parsed fields are filled in for the templates ima, ima-ng and ima-sig.
/// </summary>
/// <param name="Offset">Octet offset of the entry (binary list) or its 0-based line (ASCII list).</param>
/// <param name="Pcr">The PCR (normally 10).</param>
/// <param name="TemplateHash">The SHA-1 template hash the list records; all zero marks a violation.</param>
/// <param name="TemplateName">The template: ima, ima-ng, ima-sig, ...</param>
/// <param name="TemplateData">The template data as in the binary list.</param>
public sealed record ImaEvent(long Offset, uint Pcr, byte[] TemplateHash, string TemplateName, byte[] TemplateData)
{
    /// <summary>The file digest's algorithm name ("sha256", "sha1", ...), when the template has a digest field.</summary>
    public string? FileDigestAlgorithm { get; init; }

    /// <summary>The file digest, when the template has a digest field.</summary>
    public byte[]? FileDigest { get; init; }

    /// <summary>The file name (hint), when the template has a name field.</summary>
    public string? FileName { get; init; }

    /// <summary>The file signature (ima-sig; empty when the file has none).</summary>
    public byte[]? Signature { get; init; }

    /// <summary>True for a violation entry (an all-zero template hash): the kernel extended all-0xFF instead.</summary>
    public bool IsViolation => !TemplateHash.AsSpan().ContainsAnyExcept((byte)0);

    /// <summary>
    /// The octets the kernel hashes for this entry's PCR extensions (ima_calc_field_array_hash):
    /// the template data, except for the original "ima" template, which hashes the 20-octet
    /// digest and the name NUL-padded to 256 octets, without length fields.
    /// </summary>
    public byte[] HashInput => ImaLog.HashInput(TemplateName, TemplateData);

    /// <summary>H_<paramref name="bank"/>(<see cref="HashInput"/>): what a non-violation entry extends into that bank.</summary>
    public byte[] ComputeTemplateHash(TpmAlgId bank) => TpmHash.Hash(bank, HashInput);

    /// <summary>True when the recorded SHA-1 template hash is SHA-1 of the template data (always false for violations).</summary>
    public bool TemplateHashMatches => !IsViolation && ComputeTemplateHash(TpmAlgId.Sha1).AsSpan().SequenceEqual(TemplateHash);
}

/// <summary>
/// A Linux IMA measurement list, ASCII or binary, for the templates ima-ng (d-ng|n-ng), ima-sig
/// (d-ng|n-ng|sig) and ima (d|n); the binary list may hold other templates, kept as raw data.
/// <see cref="Replay"/> computes the PCR values the kernel extended.
/// </summary>
public sealed class ImaLog
{
    /// <summary>The original template, whose entries have no length fields and a fixed-size name area.</summary>
    public const string ImaTemplate = "ima";

    /// <summary>The default template: d-ng|n-ng.</summary>
    public const string ImaNgTemplate = "ima-ng";

    /// <summary>d-ng|n-ng|sig.</summary>
    public const string ImaSigTemplate = "ima-sig";

    // IMA_EVENT_NAME_LEN_MAX (255) + 1: the "ima" template hashes its name in a zero-padded area of this size.
    private const int ImaNameArea = 256;
    private const int MaxTemplateNameLength = 255; // TCG_EVENT_NAME_LEN_MAX
    private const int Sha1Size = 20;

    private ImaLog(IReadOnlyList<ImaEvent> events) => Events = events;

    /// <summary>The measurements, in list order.</summary>
    public IReadOnlyList<ImaEvent> Events { get; }

    /// <summary>Parses a list in <paramref name="format"/> (detected by default).</summary>
    /// <exception cref="EventLogFormatException">The list is malformed; says where.</exception>
    public static ImaLog Parse(ReadOnlySpan<byte> list, ImaLogFormat format = ImaLogFormat.Auto)
    {
        if (format == ImaLogFormat.Auto)
        {
            format = list.Length > 0 && list[0] is >= (byte)'0' and <= (byte)'9' ? ImaLogFormat.Ascii : ImaLogFormat.Binary;
        }

        return format switch
        {
            ImaLogFormat.Ascii => ParseAscii(list),
            ImaLogFormat.Binary => ParseBinary(list),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown IMA list format."),
        };
    }

    /// <summary>
    /// Parses <c>binary_runtime_measurements</c>: per entry u32 PCR, the 20-octet SHA-1 template
    /// hash, u32 template-name length, the name, then (except for the "ima" template) u32
    /// template-data length and the data. The "ima" template's data is the 20-octet SHA-1 file
    /// digest, u32 name length and the name without NUL.
    /// </summary>
    /// <exception cref="EventLogFormatException">The list is malformed; says where.</exception>
    public static ImaLog ParseBinary(ReadOnlySpan<byte> list)
    {
        var reader = new LittleEndianReader(list);
        var events = new List<ImaEvent>();
        while (reader.Remaining > 0)
        {
            var offset = reader.Offset;
            var pcr = reader.ReadU32("PCR");
            CheckPcr(pcr, offset);
            var templateHash = reader.ReadBytes(Sha1Size, "template hash").ToArray();
            var nameLength = reader.ReadLength("template name", MaxTemplateNameLength);
            var templateName = Ascii(reader.ReadBytes(nameLength, "template name"), reader.Offset - nameLength);
            byte[] data;
            if (templateName == ImaTemplate)
            {
                var dataStart = reader.Position;
                reader.ReadBytes(Sha1Size, "ima file digest");
                var fileNameLength = reader.ReadLength("ima file name", ImaNameArea - 1);
                reader.ReadBytes(fileNameLength, "ima file name");
                data = list[dataStart..reader.Position].ToArray();
            }
            else
            {
                var dataLength = reader.ReadLength("template data");
                data = reader.ReadBytes(dataLength, "template data").ToArray();
            }

            events.Add(Describe(new ImaEvent(offset, pcr, templateHash, templateName, data), offset));
        }

        return new ImaLog(events);
    }

    /// <summary>
    /// Parses <c>ascii_runtime_measurements</c>: per line "PCR template-hash template-name" and the
    /// fields — for ima-ng "alg:filedigest filename", ima-sig adds " signature" (hex, empty when
    /// none), ima "sha1-filedigest filename". The template data is rebuilt from the fields, so the
    /// other templates cannot be read from ASCII. File names run to the end of the line (ima-sig:
    /// up to a last hex word).
    /// </summary>
    /// <exception cref="EventLogFormatException">The list is malformed; <see cref="EventLogFormatException.Offset"/> is the 0-based line.</exception>
    public static ImaLog ParseAscii(ReadOnlySpan<byte> list)
    {
        var events = new List<ImaEvent>();
        var line = 0;
        while (list.Length > 0)
        {
            var end = list.IndexOf((byte)'\n');
            var text = end < 0 ? list : list[..end];
            list = end < 0 ? [] : list[(end + 1)..];
            if (text.Length > 0 && text[^1] == (byte)'\r')
            {
                text = text[..^1];
            }

            if (text.Length > 0)
            {
                events.Add(ParseAsciiLine(text, line));
            }

            line++;
        }

        return new ImaLog(events);
    }

    /// <summary>
    /// Replays the list into the PCR values the kernel extended, for each bank in
    /// <paramref name="banks"/> (SHA-1 and SHA-256 by default). The SHA-1 bank extends the
    /// recorded template hash; other banks extend H_bank(template data), as the kernel does for
    /// every allocated bank (ima_calc_field_array_hash). A violation (all-zero template hash) is
    /// extended as all-0xFF in every bank (ima_add_template_entry). PCRs start at zero.
    /// </summary>
    /// <exception cref="ArgumentException">A bank is not a supported hash.</exception>
    public PcrValues Replay(params IEnumerable<TpmAlgId> banks)
    {
        ArgumentNullException.ThrowIfNull(banks);
        var bankList = banks.Distinct().ToArray();
        if (bankList.Length == 0)
        {
            bankList = [TpmAlgId.Sha1, TpmAlgId.Sha256];
        }

        if (!bankList.All(TpmHash.IsSupported))
        {
            throw new ArgumentException("Every bank must be a supported hash.", nameof(banks));
        }

        var pcrs = new Dictionary<(TpmAlgId, int), byte[]>();
        foreach (var e in Events)
        {
            foreach (var bank in bankList)
            {
                var size = TpmHash.DigestSize(bank);
                var key = (bank, (int)e.Pcr);
                var value = pcrs.TryGetValue(key, out var current) ? current : new byte[size];
                byte[] digest;
                if (e.IsViolation)
                {
                    digest = new byte[size];
                    digest.AsSpan().Fill(0xFF);
                }
                else
                {
                    digest = bank == TpmAlgId.Sha1 ? e.TemplateHash : e.ComputeTemplateHash(bank);
                }

                pcrs[key] = TpmHash.Extend(bank, value, digest);
            }
        }

        return PcrValues.Create(pcrs.Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value)));
    }

    /// <inheritdoc />
    public override string ToString() => $"IMA measurement list: {Events.Count} entries";

    internal static byte[] HashInput(string templateName, byte[] templateData)
    {
        if (templateName != ImaTemplate)
        {
            return templateData;
        }

        // digest[20] ‖ u32 length ‖ name  →  digest[20] ‖ name NUL-padded to 256 octets.
        var nameLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(templateData.AsSpan(Sha1Size));
        var input = new byte[Sha1Size + ImaNameArea];
        templateData.AsSpan(0, Sha1Size).CopyTo(input);
        templateData.AsSpan(Sha1Size + 4, nameLength).CopyTo(input.AsSpan(Sha1Size));
        return input;
    }

    /// <summary>The template data of an ima-ng / ima-sig entry: each field as u32 length ‖ octets.</summary>
    internal static byte[] NgTemplateData(string digestAlgorithm, ReadOnlySpan<byte> fileDigest, ReadOnlySpan<byte> fileName, byte[]? signature)
    {
        var digestField = new List<byte>(Encoding.ASCII.GetBytes(digestAlgorithm)) { (byte)':', 0 };
        digestField.AddRange(fileDigest);
        var nameField = new List<byte>(fileName.ToArray()) { 0 };
        var data = new List<byte>();
        AddField(data, [.. digestField]);
        AddField(data, [.. nameField]);
        if (signature is not null)
        {
            AddField(data, signature);
        }

        return [.. data];
    }

    /// <summary>The template data of an "ima" entry as the binary list carries it.</summary>
    internal static byte[] ImaTemplateData(ReadOnlySpan<byte> sha1Digest, ReadOnlySpan<byte> fileName)
    {
        var data = new List<byte>(sha1Digest.ToArray());
        AddField(data, fileName.ToArray());
        return [.. data];
    }

    private static void AddField(List<byte> data, byte[] field)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)field.Length);
        data.AddRange(length);
        data.AddRange(field);
    }

    private static ImaEvent ParseAsciiLine(ReadOnlySpan<byte> text, int line)
    {
        var pcrText = NextWord(ref text, "PCR", line);
        if (!uint.TryParse(Encoding.ASCII.GetString(pcrText), NumberStyles.None, CultureInfo.InvariantCulture, out var pcr))
        {
            throw new EventLogFormatException($"Line {line}: PCR '{Printable(pcrText)}' is not a number", line);
        }

        CheckPcr(pcr, line);
        var templateHash = Hex(NextWord(ref text, "template hash", line), line, "template hash");
        if (templateHash.Length != Sha1Size)
        {
            throw new EventLogFormatException($"Line {line}: the template hash has {templateHash.Length} octets, not {Sha1Size}", line);
        }

        var templateName = Ascii(NextWord(ref text, "template name", line), line);
        switch (templateName)
        {
            case ImaTemplate:
            {
                var digest = Hex(NextWord(ref text, "file digest", line), line, "file digest");
                if (digest.Length != Sha1Size)
                {
                    throw new EventLogFormatException($"Line {line}: an ima file digest has {Sha1Size} octets, not {digest.Length}", line);
                }

                if (text.Length > ImaNameArea - 1)
                {
                    throw new EventLogFormatException($"Line {line}: an ima file name has at most {ImaNameArea - 1} octets", line);
                }

                return Describe(new ImaEvent(line, pcr, templateHash, templateName, ImaTemplateData(digest, text)), line);
            }

            case ImaNgTemplate or ImaSigTemplate:
            {
                var digestWord = NextWord(ref text, "file digest", line);
                var colon = digestWord.IndexOf((byte)':');
                if (colon <= 0)
                {
                    throw new EventLogFormatException($"Line {line}: file digest '{Printable(digestWord)}' is not alg:hex", line);
                }

                var algorithm = Ascii(digestWord[..colon], line);
                var digest = Hex(digestWord[(colon + 1)..], line, "file digest");
                byte[]? signature = null;
                var name = text;
                if (templateName == ImaSigTemplate)
                {
                    // The kernel writes " " before every field and nothing for an empty one, so an
                    // unsigned entry ends in "name " and a signed one in "name hex".
                    var lastSpace = text.LastIndexOf((byte)' ');
                    if (lastSpace >= 0 && IsHex(text[(lastSpace + 1)..]))
                    {
                        signature = Hex(text[(lastSpace + 1)..], line, "signature");
                        name = text[..lastSpace];
                    }
                    else
                    {
                        signature = [];
                    }
                }

                return Describe(new ImaEvent(line, pcr, templateHash, templateName, NgTemplateData(algorithm, digest, name, signature)), line);
            }

            default:
                throw new EventLogFormatException($"Line {line}: template '{templateName}' cannot be rebuilt from an ASCII list (ima, ima-ng and ima-sig can)", line);
        }
    }

    /// <summary>Fills the parsed fields of a known template; the data must be well formed for it.</summary>
    private static ImaEvent Describe(ImaEvent e, long offset)
    {
        var data = new LittleEndianReader(e.TemplateData);
        switch (e.TemplateName)
        {
            case ImaTemplate:
            {
                var digest = data.ReadBytes(Sha1Size, "ima file digest").ToArray();
                var length = data.ReadLength("ima file name", ImaNameArea - 1);
                var name = data.ReadBytes(length, "ima file name");
                return e with { FileDigestAlgorithm = "sha1", FileDigest = digest, FileName = Encoding.UTF8.GetString(name) };
            }

            case ImaNgTemplate or ImaSigTemplate:
            {
                try
                {
                    var digestField = data.ReadBytes(data.ReadLength("d-ng field"), "d-ng field");
                    var separator = digestField.IndexOf((byte)':');
                    if (separator <= 0 || separator + 1 >= digestField.Length || digestField[separator + 1] != 0)
                    {
                        throw new EventLogFormatException("the d-ng field is not \"alg:\\0digest\"", offset);
                    }

                    var algorithm = Ascii(digestField[..separator], offset);
                    var digest = digestField[(separator + 2)..].ToArray();
                    var expected = DigestSize(algorithm);
                    if (expected is not null && digest.Length != expected)
                    {
                        throw new EventLogFormatException($"the {algorithm} file digest has {digest.Length} octets, not {expected}", offset);
                    }

                    var nameField = data.ReadBytes(data.ReadLength("n-ng field"), "n-ng field");
                    if (nameField.Length == 0 || nameField[^1] != 0)
                    {
                        throw new EventLogFormatException("the n-ng field is not NUL-terminated", offset);
                    }

                    byte[]? signature = null;
                    if (e.TemplateName == ImaSigTemplate)
                    {
                        signature = data.ReadBytes(data.ReadLength("sig field"), "sig field").ToArray();
                    }

                    if (data.Remaining != 0)
                    {
                        throw new EventLogFormatException($"{data.Remaining} octets follow the last {e.TemplateName} field", offset);
                    }

                    return e with
                    {
                        FileDigestAlgorithm = algorithm,
                        FileDigest = digest,
                        FileName = Encoding.UTF8.GetString(nameField[..^1]),
                        Signature = signature,
                    };
                }
                catch (EventLogFormatException inner) when (inner.Offset != offset)
                {
                    throw new EventLogFormatException($"{e.TemplateName} template data: {inner.Message}", offset);
                }
            }

            default:
                return e;
        }
    }

    private static int? DigestSize(string algorithm) => algorithm switch
    {
        "md5" => 16,
        "sha1" => 20,
        "sha224" => 28,
        "sha256" or "sm3" or "sm3-256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        _ => null,
    };

    private static void CheckPcr(uint pcr, long offset)
    {
        if (pcr > PcrValues.MaxPcr)
        {
            throw new EventLogFormatException($"PCR {pcr} exceeds {PcrValues.MaxPcr}", offset);
        }
    }

    private static ReadOnlySpan<byte> NextWord(ref ReadOnlySpan<byte> text, string what, int line)
    {
        var space = text.IndexOf((byte)' ');
        var word = space < 0 ? text : text[..space];
        if (word.Length == 0)
        {
            throw new EventLogFormatException($"Line {line}: {what} is missing", line);
        }

        text = space < 0 ? [] : text[(space + 1)..];
        return word;
    }

    private static bool IsHex(ReadOnlySpan<byte> word)
    {
        if (word.Length % 2 != 0)
        {
            return false;
        }

        foreach (var c in word)
        {
            if (!char.IsAsciiHexDigit((char)c))
            {
                return false;
            }
        }

        return true;
    }

    private static byte[] Hex(ReadOnlySpan<byte> word, long line, string what)
    {
        if (!IsHex(word))
        {
            throw new EventLogFormatException($"Line {line}: {what} '{Printable(word)}' is not hex", line);
        }

        return Convert.FromHexString(Encoding.ASCII.GetString(word));
    }

    private static string Ascii(ReadOnlySpan<byte> bytes, long offset)
    {
        foreach (var b in bytes)
        {
            if (b is < 0x21 or > 0x7E)
            {
                throw new EventLogFormatException($"'{Printable(bytes)}' is not printable ASCII", offset);
            }
        }

        return Encoding.ASCII.GetString(bytes);
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes[..Math.Min(bytes.Length, 64)])
        {
            text.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        }

        return text.ToString();
    }
}
