using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace TrustStack.Evidence.Collector;

/// <summary>
/// One piece of runtime evidence: a type ("process", "file", ...), a subject (what it is about:
/// a pid, a path, a socket) and named string fields. Its canonical encoding
/// (<see cref="ToCanonical"/>) is what is hashed, extended into the evidence PCR and carried in
/// the evidence log, so two equal records always encode to the same octets.
/// </summary>
/// <remarks>
/// Canonical encoding, version 1 (all integers big-endian, strings UTF-8):
/// <c>"TSEV" ‖ u8 version=1 ‖ u16 len ‖ type ‖ u16 len ‖ subject ‖ u16 fieldCount ‖
/// fieldCount × (u16 len ‖ name ‖ u32 len ‖ value)</c>, fields in ordinal order of their names,
/// names unique, of the characters <c>[a-z0-9._-]</c>. Types are of the same characters.
/// </remarks>
public sealed class EvidenceRecord : IEquatable<EvidenceRecord>
{
    /// <summary>The canonical encoding's magic, "TSEV".</summary>
    public static ReadOnlySpan<byte> Magic => "TSEV"u8;

    /// <summary>The canonical encoding's version.</summary>
    public const byte Version = 1;

    private readonly SortedDictionary<string, string> _fields;

    /// <summary>Creates a record.</summary>
    /// <param name="type">The record type, for example <see cref="EvidenceRecordTypes.Process"/>.</param>
    /// <param name="subject">What the record is about.</param>
    /// <param name="fields">The fields; names <c>[a-z0-9._-]</c>, unique.</param>
    /// <exception cref="ArgumentException">A name is empty, has other characters, or repeats.</exception>
    public EvidenceRecord(string type, string subject, IEnumerable<KeyValuePair<string, string>> fields)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(fields);
        CheckName(type, nameof(type));
        Type = type;
        Subject = subject;
        _fields = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in fields)
        {
            CheckName(name, nameof(fields));
            ArgumentNullException.ThrowIfNull(value, nameof(fields));
            if (!_fields.TryAdd(name, value))
            {
                throw new ArgumentException($"Field '{name}' repeats.", nameof(fields));
            }
        }
    }

    /// <summary>The record type.</summary>
    public string Type { get; }

    /// <summary>What the record is about (a pid, a path, a socket, ...).</summary>
    public string Subject { get; }

    /// <summary>The fields in ordinal order of their names.</summary>
    public IReadOnlyDictionary<string, string> Fields => _fields;

    /// <summary>Creates a record from name/value pairs.</summary>
    public static EvidenceRecord Create(string type, string subject, params (string Name, string Value)[] fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return new EvidenceRecord(type, subject, fields.Select(f => KeyValuePair.Create(f.Name, f.Value)));
    }

    /// <summary>A field's value, or null.</summary>
    public string? this[string name] => _fields.TryGetValue(name, out var v) ? v : null;

    /// <summary>A field as a 64-bit integer, or null when missing or not a number.</summary>
    public long? GetInt64(string name) =>
        this[name] is { } text && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>The canonical encoding (see the remarks of <see cref="EvidenceRecord"/>).</summary>
    public byte[] ToCanonical()
    {
        var size = 4 + 1 + 2 + Encoding.UTF8.GetByteCount(Type) + 2 + Encoding.UTF8.GetByteCount(Subject) + 2;
        foreach (var (name, value) in _fields)
        {
            size = checked(size + 2 + name.Length + 4 + Encoding.UTF8.GetByteCount(value));
        }

        var output = new byte[size];
        var span = output.AsSpan();
        Magic.CopyTo(span);
        span[4] = Version;
        var at = 5;
        at = WriteString16(span, at, Type, "type");
        at = WriteString16(span, at, Subject, "subject");
        if (_fields.Count > ushort.MaxValue)
        {
            throw new InvalidOperationException("A record has at most 65535 fields.");
        }

        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)_fields.Count);
        at += 2;
        foreach (var (name, value) in _fields)
        {
            at = WriteString16(span, at, name, "field name");
            var length = Encoding.UTF8.GetBytes(value, span[(at + 4)..]);
            BinaryPrimitives.WriteUInt32BigEndian(span[at..], (uint)length);
            at += 4 + length;
        }

        return output;
    }

    /// <summary>Decodes a canonical encoding; rejects anything that would not re-encode to the same octets.</summary>
    /// <exception cref="FormatException">Not a canonical version-1 record.</exception>
    public static EvidenceRecord FromCanonical(ReadOnlySpan<byte> data)
    {
        if (data.Length < 11 || !data[..4].SequenceEqual(Magic))
        {
            throw new FormatException("Not a canonical evidence record (no TSEV magic).");
        }

        if (data[4] != Version)
        {
            throw new FormatException($"Canonical evidence record version {data[4]} is not {Version}.");
        }

        var at = 5;
        var type = ReadString16(data, ref at, "type");
        var subject = ReadString16(data, ref at, "subject");
        var count = ReadU16(data, ref at, "field count");
        var fields = new List<KeyValuePair<string, string>>(count);
        string? previous = null;
        for (var i = 0; i < count; i++)
        {
            var name = ReadString16(data, ref at, "field name");
            if (previous is not null && string.CompareOrdinal(previous, name) >= 0)
            {
                throw new FormatException($"Field '{name}' is out of canonical order.");
            }

            if (data.Length - at < 4)
            {
                throw new FormatException($"Field '{name}' has no value length.");
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(data[at..]);
            at += 4;
            if (length > (uint)(data.Length - at))
            {
                throw new FormatException($"Field '{name}' runs past the end.");
            }

            fields.Add(KeyValuePair.Create(name, Utf8(data.Slice(at, (int)length), name)));
            at += (int)length;
            previous = name;
        }

        if (at != data.Length)
        {
            throw new FormatException($"{data.Length - at} octets follow the last field.");
        }

        try
        {
            return new EvidenceRecord(type, subject, fields);
        }
        catch (ArgumentException e)
        {
            throw new FormatException(e.Message, e);
        }
    }

    /// <summary>H_<paramref name="bank"/> of the canonical encoding: what the collector extends.</summary>
    public byte[] ComputeDigest(TrustStack.Tpm.Hardware.TpmAlgId bank) => TrustStack.Tpm.Hardware.TpmHash.Hash(bank, ToCanonical());

    /// <inheritdoc />
    public bool Equals(EvidenceRecord? other) =>
        other is not null && Type == other.Type && Subject == other.Subject && _fields.Count == other._fields.Count
        && _fields.All(kv => other._fields.TryGetValue(kv.Key, out var v) && v == kv.Value);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as EvidenceRecord);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Type, Subject, _fields.Count);

    /// <inheritdoc />
    public override string ToString() => $"{Type} {Subject} {{{string.Join(", ", _fields.Select(kv => $"{kv.Key}={kv.Value}"))}}}";

    internal static bool IsValidName(string name)
    {
        if (name.Length is 0 or > 128)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static void CheckName(string name, string parameter)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid name ([a-z0-9._-], 1..128 characters).", parameter);
        }
    }

    private static int WriteString16(Span<byte> span, int at, string text, string what)
    {
        var length = Encoding.UTF8.GetBytes(text, span[(at + 2)..]);
        if (length > ushort.MaxValue)
        {
            throw new InvalidOperationException($"The {what} is longer than 65535 octets.");
        }

        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)length);
        return at + 2 + length;
    }

    private static ushort ReadU16(ReadOnlySpan<byte> data, ref int at, string what)
    {
        if (data.Length - at < 2)
        {
            throw new FormatException($"The {what} is missing.");
        }

        var value = BinaryPrimitives.ReadUInt16BigEndian(data[at..]);
        at += 2;
        return value;
    }

    private static string ReadString16(ReadOnlySpan<byte> data, ref int at, string what)
    {
        var length = ReadU16(data, ref at, what);
        if (length > data.Length - at)
        {
            throw new FormatException($"The {what} runs past the end.");
        }

        var text = Utf8(data.Slice(at, length), what);
        at += length;
        return text;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string Utf8(ReadOnlySpan<byte> bytes, string what)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new FormatException($"The {what} is not UTF-8.", e);
        }
    }
}

/// <summary>The record types of the built-in sources.</summary>
public static class EvidenceRecordTypes
{
    /// <summary>The agent's self-measurement, always the first record of a round.</summary>
    public const string Agent = "agent";

    /// <summary>System memory totals (<c>/proc/meminfo</c>).</summary>
    public const string Memory = "memory";

    /// <summary>CPU totals and load (<c>/proc/stat</c>, <c>/proc/cpuinfo</c>, <c>/proc/loadavg</c>).</summary>
    public const string Cpu = "cpu";

    /// <summary>One process (<c>/proc/&lt;pid&gt;</c>), with its executable's SHA-256 and its memory and CPU time.</summary>
    public const string Process = "process";

    /// <summary>One TCP/UDP socket (<c>/proc/net/*</c>) with its owning process.</summary>
    public const string Socket = "socket";

    /// <summary>One configured file: SHA-256 and metadata.</summary>
    public const string File = "file";

    /// <summary>A configured policy/configuration file or value.</summary>
    public const string PolicyData = "policy-data";

    /// <summary>One entry of the Linux IMA measurement list.</summary>
    public const string Ima = "ima";

    /// <summary>A source that failed; the round completes and reports it.</summary>
    public const string CollectorError = "collector-error";
}
