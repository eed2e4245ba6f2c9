using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector;

/// <summary>
/// The evidence log, in the Linux IMA binary measurement-list format so Tpm.Hardware's
/// <see cref="ImaLog"/> parses and replays it: per record u32le PCR ‖ SHA-1 template hash (20) ‖
/// u32le name length ‖ <see cref="TemplateName"/> ‖ u32le data length ‖ the record's canonical
/// encoding. As IMA does for every bank but SHA-1, bank B of the PCR is extended with
/// H_B(canonical encoding); the template hash is SHA-1 of it.
/// </summary>
public sealed class EvidenceLogWriter
{
    /// <summary>The template name of evidence entries.</summary>
    public const string TemplateName = "ts-evidence";

    private readonly MemoryStream _buffer = new();

    /// <summary>Entries written so far.</summary>
    public int Count { get; private set; }

    /// <summary>Appends one record's canonical encoding.</summary>
    public void Append(int pcr, ReadOnlySpan<byte> canonical)
    {
        Span<byte> u32 = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)pcr);
        _buffer.Write(u32);
        _buffer.Write(SHA1.HashData(canonical));
        BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)TemplateName.Length);
        _buffer.Write(u32);
        _buffer.Write(Encoding.ASCII.GetBytes(TemplateName));
        BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)canonical.Length);
        _buffer.Write(u32);
        _buffer.Write(canonical);
        Count++;
    }

    /// <summary>The log so far.</summary>
    public byte[] ToArray() => _buffer.ToArray();
}

/// <summary>A parsed evidence log: its records, and every problem found (each a reason for p_tpm).</summary>
/// <param name="Records">The records decoded from entries that passed every check, in log order.</param>
/// <param name="Problems">What is wrong: unparsable log, foreign entries, template hashes that do not match, undecodable records.</param>
/// <param name="Replayed">The PCR value the log replays to in the requested bank, or null when the log did not parse.</param>
public sealed record EvidenceLogContents(IReadOnlyList<EvidenceRecord> Records, IReadOnlyList<string> Problems, byte[]? Replayed)
{
    /// <summary>The number of entries in the log, good or not (0 when it did not parse).</summary>
    public int Entries { get; init; }

    /// <summary>Reads a log and replays it into <paramref name="pcr"/> of <paramref name="bank"/>.</summary>
    public static EvidenceLogContents Read(ReadOnlySpan<byte> log, int pcr, TpmAlgId bank)
    {
        ImaLog parsed;
        try
        {
            parsed = ImaLog.ParseBinary(log);
        }
        catch (EventLogFormatException e)
        {
            return new EvidenceLogContents([], [$"the evidence log does not parse: {e.Message}"], null);
        }

        var records = new List<EvidenceRecord>(parsed.Events.Count);
        var problems = new List<string>();
        var index = 0;
        foreach (var e in parsed.Events)
        {
            if (e.Pcr != pcr)
            {
                problems.Add($"entry {index} is for PCR {e.Pcr}, not the evidence PCR {pcr}");
            }
            else if (e.TemplateName != EvidenceLogWriter.TemplateName)
            {
                problems.Add($"entry {index} has template '{e.TemplateName}', not '{EvidenceLogWriter.TemplateName}'");
            }
            else if (!e.TemplateHashMatches)
            {
                problems.Add($"entry {index}: the template hash is not SHA-1 of the record (edited log)");
            }
            else
            {
                try
                {
                    records.Add(EvidenceRecord.FromCanonical(e.TemplateData));
                }
                catch (FormatException f)
                {
                    problems.Add($"entry {index} is not a canonical record: {f.Message}");
                }
            }

            index++;
        }

        var values = parsed.Replay(bank);
        var replayed = values.TryGetValue(bank, pcr, out var v) ? v : new byte[TpmHash.DigestSize(bank)];
        return new EvidenceLogContents(records, problems, replayed) { Entries = parsed.Events.Count };
    }
}
