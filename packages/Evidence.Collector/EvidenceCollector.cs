using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector;

/// <summary>The records of one collection round (without the TPM), and how each source did.</summary>
/// <param name="Records">The records, source by source in registration order.</param>
/// <param name="Sources">Per-source summaries.</param>
public sealed record EvidenceRound(IReadOnlyList<EvidenceRecord> Records, IReadOnlyList<SourceSummary> Sources);

/// <summary>
/// The collection agent. A round (<see cref="RunAsync"/>): reset the evidence PCR (optional),
/// measure the agent itself (its assemblies and configuration) and extend that record first,
/// run every <see cref="IEvidenceSource"/> concurrently, extend each record's canonical digest
/// into the evidence PCR and append it to the evidence log, then quote the evidence PCR with the
/// verifier's nonce.
/// </summary>
public sealed class EvidenceCollector
{
    private readonly IReadOnlyList<IEvidenceSource> _sources;
    private readonly EvidenceCollectorOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates the collector (normally through DI, <c>AddEvidenceCollector</c>).</summary>
    public EvidenceCollector(IEnumerable<IEvidenceSource> sources, IOptions<EvidenceCollectorOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _sources = sources.ToArray();
        _options = options.Value;
        _options.Validate();
        _time = time;
    }

    /// <summary>The registered sources.</summary>
    public IReadOnlyList<IEvidenceSource> Sources => _sources;

    /// <summary>The options.</summary>
    public EvidenceCollectorOptions Options => _options;

    /// <summary>
    /// The agent's self-measurement: SHA-256 of the collector and Tpm.Hardware assemblies, of the
    /// entry assembly, of each <see cref="EvidenceCollectorOptions.AgentFiles"/> entry and of the
    /// configuration file, plus a digest of the effective options.
    /// </summary>
    public EvidenceRecord MeasureSelf()
    {
        var fields = new List<(string, string)>
        {
            ("version", typeof(EvidenceCollector).Assembly.GetName().Version?.ToString() ?? "0"),
            ("options-sha256", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(_options, EvidenceReport.Json)))),
        };
        var files = new List<(string Name, string Path)>();
        foreach (var assembly in new[] { typeof(EvidenceCollector).Assembly, typeof(Tpm2).Assembly, System.Reflection.Assembly.GetEntryAssembly() })
        {
            if (assembly is not null && !string.IsNullOrEmpty(assembly.Location))
            {
                files.Add(("assembly." + Sanitize(assembly.GetName().Name ?? "unknown"), assembly.Location));
            }
        }

        for (var i = 0; i < _options.AgentFiles.Count; i++)
        {
            files.Add(("file." + i.ToString(CultureInfo.InvariantCulture), _options.AgentFiles[i]));
        }

        if (_options.ConfigurationFile is { } config)
        {
            files.Add(("config", config));
        }

        foreach (var (name, path) in files.DistinctBy(f => f.Name))
        {
            var digest = FileHasher.HashUncached(path);
            fields.Add((name + ".path", path));
            fields.Add((name + ".sha256", digest.Sha256Hex ?? "error:" + digest.Error));
        }

        return EvidenceRecord.Create(EvidenceRecordTypes.Agent, "truststack-evidence-agent", [.. fields]);
    }

    /// <summary>Runs every source concurrently; a source that throws yields one collector-error record.</summary>
    /// <param name="progress">Receives a line per source as it finishes.</param>
    /// <param name="cancellationToken">Cancels the round.</param>
    public async Task<EvidenceRound> CollectAsync(IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var context = new EvidenceCollectionContext(_options, new FileHasher(_options.HashConcurrency));
        var tasks = _sources.Select(source => Task.Run(
            async () =>
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    var records = await source.CollectAsync(context, cancellationToken).ConfigureAwait(false);
                    progress?.Report($"{source.Name}: {records.Count} records in {watch.ElapsedMilliseconds} ms");
                    return (Records: records, Summary: new SourceSummary(source.Name, records.Count, null));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    progress?.Report($"{source.Name}: FAILED: {e.Message}");
                    IReadOnlyList<EvidenceRecord> error = [EvidenceRecord.Create(EvidenceRecordTypes.CollectorError, source.Name, ("error", e.GetType().Name + ": " + e.Message))];
                    return (Records: error, Summary: new SourceSummary(source.Name, 1, e.Message));
                }
            },
            cancellationToken)).ToArray();
        var results = await Task.WhenAll(tasks).ConfigureAwait(false);
        return new EvidenceRound(results.SelectMany(r => r.Records).ToArray(), results.Select(r => r.Summary).ToArray());
    }

    /// <summary>
    /// A full round with the TPM: reset (optional) → self-measurement → collect → extend and log
    /// every record → quote the evidence PCR with <paramref name="nonce"/>.
    /// </summary>
    /// <param name="tpm">The agent's TPM.</param>
    /// <param name="nonce">The verifier's nonce (at most 64 octets; TPMS_ATTEST.extraData).</param>
    /// <param name="progress">Receives progress lines.</param>
    /// <param name="cancellationToken">Cancels the round.</param>
    /// <exception cref="TpmException">The TPM refused an operation.</exception>
    public async Task<EvidenceReport> RunAsync(EvidenceTpm tpm, byte[] nonce, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(nonce);
        var pcr = _options.EvidencePcr;
        var bank = _options.GetEvidenceBank();
        if (_options.ResetEvidencePcr)
        {
            tpm.ResetPcr(pcr);
        }

        var log = new EvidenceLogWriter();
        void Measure(EvidenceRecord record)
        {
            var canonical = record.ToCanonical();
            tpm.Extend(pcr, bank, TpmHash.Hash(bank, canonical));
            log.Append(pcr, canonical);
        }

        Measure(MeasureSelf());
        progress?.Report($"agent measured into PCR {pcr} ({PcrValues.BankName(bank)})");
        var round = await CollectAsync(progress, cancellationToken).ConfigureAwait(false);
        foreach (var record in round.Records)
        {
            Measure(record);
        }

        progress?.Report($"{log.Count} records extended; quoting");
        var quote = tpm.Quote(nonce, PcrSelectionList.Create(bank, pcr));
        var signature = new TpmWriter();
        quote.Signature.Marshal(signature);
        var manifest = new EvidenceReportManifest
        {
            Created = _time.GetUtcNow(),
            Host = Environment.MachineName,
            EvidencePcr = pcr,
            Bank = PcrValues.BankName(bank),
            Nonce = Convert.ToHexStringLower(nonce),
            AkName = Convert.ToHexStringLower(tpm.AttestationKey.GetName()),
            Records = log.Count,
            Sources = round.Sources,
        };
        return new EvidenceReport(manifest, log.ToArray(), quote.Quoted, signature.ToArray(), tpm.AttestationKey);
    }

    private static string Sanitize(string name) =>
        new(name.ToLowerInvariant().Select(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-' ? c : '_').ToArray());
}
