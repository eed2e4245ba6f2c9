using System.Text.Json;
using Xunit.Abstractions;

namespace TrustStack.Evidence.Collector.Tests;

/// <summary>
/// Issue 19 mutation sweep over a captured evidence report (the fixture round on the seeded
/// embedded TPM, written as a report directory): every single-octet change (XOR 0x01) and every
/// truncation of each file the appraiser reads is rejected — <see cref="FormatException"/> on
/// reading, or a decision that is not trusted — unless it falls in the documented allow-list.
/// No other exception may escape.
/// </summary>
/// <remarks>
/// Sample: report.json, quote.attest, quote.sig and ak.pub in full (every octet, every length).
/// evidence.log (26 entries, 7.7 KiB) deterministically: every structural octet of every entry
/// (PCR, template hash, name length, name, data length), every 7th octet of the first entry's data
/// (the agent record) and every 17th octet of the other entries' data (all data is under the
/// same template hash check); truncated at every entry boundary, one octet either side of it, at the
/// start of each entry's data and every 61st octet within an entry.
/// Allow-list (octets whose change may leave the report trusted): in report.json the values of
/// <c>created</c>, <c>host</c> and <c>sources</c> — unsigned, informational fields the appraiser
/// never uses (it judges the quote and the records of the proven log). records.json is not read.
/// </remarks>
public sealed class EvidenceReportMutationSweepTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Informational = ["created", "host", "sources"];
    private readonly ProcFixture _fixture = new();
    private readonly EvidenceTpm _tpm = EvidenceTestKit.NewTpm();

    public void Dispose()
    {
        _tpm.Dispose();
        _fixture.Dispose();
    }

    [Fact]
    public async Task MutationSweep_EveryOctetAndTruncation_RejectedOrAllowListed()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var policy = EvidenceTestKit.GoldenPolicy(report);
        var dir = Path.Combine(_fixture.Root, "report");
        report.Write(dir);
        string[] names = [EvidenceReport.ManifestFile, EvidenceReport.LogFile, EvidenceReport.QuoteFile, EvidenceReport.SignatureFile, EvidenceReport.AkFile];
        var files = names.ToDictionary(n => n, n => File.ReadAllBytes(Path.Combine(dir, n)));
        Assert.Equal(Verdict.Trusted, Judge(files, policy).Decision);
        var allowed = InformationalSpans(files[EvidenceReport.ManifestFile]);

        var escaped = new List<string>();
        var accepted = new List<string>();
        var counts = new Dictionary<string, (int Mutations, int Truncations, int Allowed)>();
        foreach (var name in names)
        {
            var original = files[name];
            var (octets, lengths) = name == EvidenceReport.LogFile ? LogSample(original) : (Enumerable.Range(0, original.Length).ToArray(), Enumerable.Range(0, original.Length).ToArray());
            var allowedHere = 0;
            foreach (var i in octets)
            {
                var mutated = (byte[])original.Clone();
                mutated[i] ^= 0x01;
                switch (Outcome(files, name, mutated, policy))
                {
                    case { Escaped: { } e }:
                        escaped.Add($"{name}[{i}] ^0x01: {e}");
                        break;
                    case { Trusted: true } when name == EvidenceReport.ManifestFile && allowed.Any(s => i >= s.Start && i < s.End):
                        allowedHere++;
                        break;
                    case { Trusted: true }:
                        accepted.Add($"{name}[{i}] ^0x01");
                        break;
                }
            }

            foreach (var length in lengths)
            {
                switch (Outcome(files, name, original[..length], policy))
                {
                    case { Escaped: { } e }:
                        escaped.Add($"{name} truncated to {length}: {e}");
                        break;
                    case { Trusted: true }:
                        accepted.Add($"{name} truncated to {length}");
                        break;
                }
            }

            counts[name] = (octets.Length, lengths.Length, allowedHere);
        }

        foreach (var (name, c) in counts)
        {
            output.WriteLine($"{name}: {c.Mutations} octet changes, {c.Truncations} truncations, {c.Allowed} allow-listed changes still trusted");
        }

        Assert.True(escaped.Count == 0, $"{escaped.Count} exceptions escaped: {string.Join("; ", escaped.Take(20))}");
        Assert.True(accepted.Count == 0, $"{accepted.Count} changes still trusted outside the allow-list: {string.Join("; ", accepted.Take(20))}");
    }

    private static (bool Trusted, string? Escaped) Outcome(Dictionary<string, byte[]> files, string name, byte[] replacement, AppraisalPolicy policy)
    {
        var copy = new Dictionary<string, byte[]>(files) { [name] = replacement };
        try
        {
            var result = Judge(copy, policy);
            return (result.Decision == Verdict.Trusted, null);
        }
        catch (FormatException)
        {
            return (false, null); // rejected on reading, with the reason in the message
        }
        catch (Exception e)
        {
            return (false, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static AppraisalResult Judge(Dictionary<string, byte[]> files, AppraisalPolicy policy)
    {
        var report = EvidenceReport.FromFiles(files[EvidenceReport.ManifestFile], files[EvidenceReport.LogFile], files[EvidenceReport.QuoteFile], files[EvidenceReport.SignatureFile], files[EvidenceReport.AkFile]);
        var result = EvidenceAppraiser.Appraise(report, policy, EvidenceTestKit.Nonce);
        Assert.True(result.Decision == Verdict.Trusted || result.Properties.Any(p => p.Verdict != Verdict.Trusted && p.Reasons.Count > 0), "a verdict that is not trusted names why");
        return result;
    }

    /// <summary>Octet ranges of the values of the informational members of report.json.</summary>
    private static List<(long Start, long End)> InformationalSpans(byte[] json)
    {
        var spans = new List<(long, long)>();
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && Informational.Contains(reader.GetString()))
            {
                reader.Read();
                var start = reader.TokenStartIndex;
                reader.Skip();
                spans.Add((start, reader.BytesConsumed));
            }
        }

        return spans;
    }

    /// <summary>The sampled octets and truncation lengths of the evidence log (see the remarks).</summary>
    private static (int[] Octets, int[] Lengths) LogSample(byte[] log)
    {
        var octets = new SortedSet<int>();
        var lengths = new SortedSet<int> { log.Length - 1 };
        var first = true;
        for (var at = 0; at < log.Length;)
        {
            // Entry: u32le PCR ‖ SHA-1 template hash ‖ u32le name length ‖ name ‖ u32le data length ‖ data.
            var nameLength = BitConverter.ToInt32(log, at + 24);
            var dataStart = at + 32 + nameLength;
            var end = dataStart + BitConverter.ToInt32(log, at + 28 + nameLength);
            octets.UnionWith(Enumerable.Range(at, dataStart - at));
            octets.UnionWith(Enumerable.Range(dataStart, end - dataStart).Where(i => (i - dataStart) % (first ? 7 : 17) == 0));
            lengths.UnionWith(new[] { at - 1, at, at + 1, dataStart - 1, dataStart }.Concat(Enumerable.Range(at, end - at).Where(i => (i - at) % 61 == 30)).Where(l => l >= 0));
            first = false;
            at = end;
        }

        return (octets.ToArray(), lengths.Where(l => l < log.Length).ToArray());
    }
}
