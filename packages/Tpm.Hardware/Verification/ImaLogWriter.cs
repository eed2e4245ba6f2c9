using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Builds IMA measurement lists in both forms, with template hashes computed as the kernel does,
/// for tests and demos: the same entries written with <see cref="ToAscii"/> and
/// <see cref="ToBinary"/> parse to the same <see cref="ImaLog"/>.
/// </summary>
public sealed class ImaLogWriter
{
    private readonly List<ImaEvent> _events = [];

    /// <summary>The entries added so far.</summary>
    public IReadOnlyList<ImaEvent> Events => _events;

    /// <summary>Adds an ima-ng entry (d-ng|n-ng).</summary>
    /// <param name="fileName">The file path.</param>
    /// <param name="digestAlgorithm">The kernel's hash name ("sha256", "sha1", ...).</param>
    /// <param name="fileDigest">The file digest.</param>
    /// <param name="pcr">The PCR (10 by default).</param>
    public ImaLogWriter AddImaNg(string fileName, string digestAlgorithm, byte[] fileDigest, uint pcr = 10) =>
        Add(ImaLog.ImaNgTemplate, pcr, ImaLog.NgTemplateData(CheckAlgorithm(digestAlgorithm), fileDigest, Name(fileName), null), violation: false);

    /// <summary>Adds an ima-sig entry (d-ng|n-ng|sig); an empty <paramref name="signature"/> is an unsigned file.</summary>
    public ImaLogWriter AddImaSig(string fileName, string digestAlgorithm, byte[] fileDigest, byte[] signature, uint pcr = 10)
    {
        ArgumentNullException.ThrowIfNull(signature);
        return Add(ImaLog.ImaSigTemplate, pcr, ImaLog.NgTemplateData(CheckAlgorithm(digestAlgorithm), fileDigest, Name(fileName), signature), violation: false);
    }

    /// <summary>Adds an entry of the original "ima" template (SHA-1 file digest, name of at most 255 octets).</summary>
    /// <exception cref="ArgumentException">The digest is not 20 octets or the name is too long.</exception>
    public ImaLogWriter AddIma(string fileName, byte[] sha1FileDigest, uint pcr = 10)
    {
        ArgumentNullException.ThrowIfNull(sha1FileDigest);
        var name = Name(fileName);
        if (sha1FileDigest.Length != 20 || name.Length > 255)
        {
            throw new ArgumentException("An ima entry has a 20-octet SHA-1 digest and a name of at most 255 octets.");
        }

        return Add(ImaLog.ImaTemplate, pcr, ImaLog.ImaTemplateData(sha1FileDigest, name), violation: false);
    }

    /// <summary>
    /// Adds a violation (a file opened for write while measured, or similar): an ima-ng entry with
    /// a zero file digest and an all-zero template hash, which the kernel extends as all-0xFF.
    /// </summary>
    public ImaLogWriter AddViolation(string fileName, string digestAlgorithm = "sha256", uint pcr = 10)
    {
        var size = DigestSize(CheckAlgorithm(digestAlgorithm));
        return Add(ImaLog.ImaNgTemplate, pcr, ImaLog.NgTemplateData(digestAlgorithm, new byte[size], Name(fileName), null), violation: true);
    }

    /// <summary>The list as <c>ascii_runtime_measurements</c>.</summary>
    public string ToAscii()
    {
        var text = new StringBuilder();
        foreach (var e in _events)
        {
            text.Append(e.Pcr.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(Convert.ToHexStringLower(e.TemplateHash)).Append(' ')
                .Append(e.TemplateName).Append(' ');
            if (e.TemplateName == ImaLog.ImaTemplate)
            {
                text.Append(Convert.ToHexStringLower(e.FileDigest!)).Append(' ').Append(e.FileName);
            }
            else
            {
                text.Append(e.FileDigestAlgorithm).Append(':').Append(Convert.ToHexStringLower(e.FileDigest!)).Append(' ').Append(e.FileName);
                if (e.Signature is not null)
                {
                    // The kernel writes a space before each field and nothing for an empty one.
                    text.Append(' ').Append(Convert.ToHexStringLower(e.Signature));
                }
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The list as <c>binary_runtime_measurements</c> (little-endian).</summary>
    public byte[] ToBinary()
    {
        var output = new List<byte>();
        Span<byte> u32 = stackalloc byte[4];
        foreach (var e in _events)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(u32, e.Pcr);
            output.AddRange(u32);
            output.AddRange(e.TemplateHash);
            var name = Encoding.ASCII.GetBytes(e.TemplateName);
            BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)name.Length);
            output.AddRange(u32);
            output.AddRange(name);
            if (e.TemplateName != ImaLog.ImaTemplate)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)e.TemplateData.Length);
                output.AddRange(u32);
            }

            output.AddRange(e.TemplateData);
        }

        return [.. output];
    }

    private ImaLogWriter Add(string template, uint pcr, byte[] data, bool violation)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pcr, (uint)PcrValues.MaxPcr);
        var templateHash = violation ? new byte[20] : TpmHash.Hash(TpmAlgId.Sha1, ImaLog.HashInput(template, data));
        var parsed = ImaLog.ParseBinary(SingleEntry(pcr, templateHash, template, data)).Events[0];
        _events.Add(parsed with { Offset = 0 });
        return this;
    }

    private static byte[] SingleEntry(uint pcr, byte[] templateHash, string template, byte[] data)
    {
        var w = new ImaLogWriter();
        w._events.Add(new ImaEvent(0, pcr, templateHash, template, data));
        return w.ToBinary();
    }

    private static byte[] Name(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        if (fileName.Contains('\n', StringComparison.Ordinal) || fileName.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("An IMA file name has no newline or NUL.", nameof(fileName));
        }

        return Encoding.UTF8.GetBytes(fileName);
    }

    private static string CheckAlgorithm(string algorithm)
    {
        ArgumentException.ThrowIfNullOrEmpty(algorithm);
        if (!algorithm.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new ArgumentException($"'{algorithm}' is not a kernel hash name.", nameof(algorithm));
        }

        return algorithm;
    }

    private static int DigestSize(string algorithm) => algorithm switch
    {
        "sha1" => 20,
        "sha256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        _ => throw new ArgumentException($"Violations are written for sha1/sha256/sha384/sha512, not {algorithm}.", nameof(algorithm)),
    };
}
