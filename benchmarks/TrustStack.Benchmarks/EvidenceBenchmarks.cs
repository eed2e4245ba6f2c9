using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Options;
using TrustStack.Evidence.Collector;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// Evidence.Collector on this host: each built-in source, one full round (all sources, no TPM),
/// one full round with the embedded TPM (self-measurement, one PCR_Extend per record, quote),
/// hashing 1,000 files of 64 KiB (against <c>sha256sum</c> on the same files in the same run),
/// and appraisal of a report with N log entries.
/// </summary>
[MemoryDiagnoser]
public class EvidenceBenchmarks
{
    private static readonly byte[] Nonce = new byte[32];
    private string _dir = null!;
    private string[] _files = null!;
    private EvidenceCollectionContext _context = null!;
    private EvidenceCollector _collector = null!;
    private EvidenceTpm _tpm = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("ts-evidence-bench-").FullName;
        var content = new byte[64 * 1024];
        _files = new string[1000];
        for (var i = 0; i < _files.Length; i++)
        {
            Random.Shared.NextBytes(content);
            _files[i] = Path.Combine(_dir, i.ToString("D4", CultureInfo.InvariantCulture));
            File.WriteAllBytes(_files[i], content);
        }

        var options = new EvidenceCollectorOptions { Files = ["/etc/passwd", "/etc/hosts"], PolicyFiles = ["/etc/passwd"], Sysctls = ["kernel.ostype"] };
        _context = new EvidenceCollectionContext(options, new FileHasher(options.HashConcurrency));
        IEvidenceSource[] sources = [new MemoryEvidenceSource(), new CpuEvidenceSource(), new ProcessEvidenceSource(), new NetworkEvidenceSource(), new FileEvidenceSource(), new PolicyDataEvidenceSource(), new ImaEvidenceSource()];
        _collector = new EvidenceCollector(sources, Options.Create(options), TimeProvider.System);
        _tpm = new EvidenceTpm(new Tpm2(new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = 1 }), ownsTransport: true), ownsClient: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _tpm.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Description = "source: memory")]
    public Task<IReadOnlyList<EvidenceRecord>> Memory() => new MemoryEvidenceSource().CollectAsync(_context, default);

    [Benchmark(Description = "source: cpu")]
    public Task<IReadOnlyList<EvidenceRecord>> Cpu() => new CpuEvidenceSource().CollectAsync(_context, default);

    [Benchmark(Description = "source: processes (+exe SHA-256)")]
    public Task<IReadOnlyList<EvidenceRecord>> Processes() => new ProcessEvidenceSource().CollectAsync(Fresh(), default);

    [Benchmark(Description = "source: network")]
    public Task<IReadOnlyList<EvidenceRecord>> Network() => new NetworkEvidenceSource().CollectAsync(_context, default);

    [Benchmark(Description = "source: policy-data")]
    public Task<IReadOnlyList<EvidenceRecord>> PolicyData() => new PolicyDataEvidenceSource().CollectAsync(Fresh(), default);

    [Benchmark(Description = "round: all sources, no TPM")]
    public Task<EvidenceRound> Round() => _collector.CollectAsync();

    [Benchmark(Description = "round: all sources + embedded TPM extend/quote")]
    public Task<EvidenceReport> RoundWithTpm() => _collector.RunAsync(_tpm, Nonce);

    [Benchmark(Description = "hash 1,000 x 64 KiB: FileHasher")]
    public Task<IReadOnlyDictionary<string, FileDigest>> HashFiles() => new FileHasher(Math.Max(2, Environment.ProcessorCount)).HashAllAsync(_files, default);

    [Benchmark(Description = "hash 1,000 x 64 KiB: sha256sum")]
    public int HashFilesSha256sum()
    {
        var start = new ProcessStartInfo("sha256sum") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var f in _files)
        {
            start.ArgumentList.Add(f);
        }

        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode;
    }

    private EvidenceCollectionContext Fresh() => _context with { Hasher = new FileHasher(_context.Options.HashConcurrency) };
}

/// <summary>Appraisal (quote check, log replay, record decoding, all three properties) of a report with N log entries.</summary>
[MemoryDiagnoser]
public class EvidenceAppraisalBenchmarks
{
    private static readonly byte[] Nonce = new byte[32];
    private EvidenceReport _report = null!;
    private AppraisalPolicy _policy = null!;

    /// <summary>Log entries of the appraised report.</summary>
    [Params(1_000, 10_000)]
    public int Records { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        using var tpm = new EvidenceTpm(new Tpm2(new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = 1 }), ownsTransport: true), ownsClient: true);
        _report = new EvidenceCollector([new SyntheticSource(Records)], Options.Create(new EvidenceCollectorOptions()), TimeProvider.System).RunAsync(tpm, Nonce).GetAwaiter().GetResult();
        var digests = Enumerable.Range(0, Records).ToDictionary(i => $"/usr/lib/file{i}", i => (IReadOnlyList<string>)[Hex(i)]);
        _policy = new AppraisalPolicy
        {
            Tpm = new TpmPolicy { TrustedAkNames = [_report.Manifest.AkName] },
            Software = new SoftwarePolicy { Digests = digests },
        };
    }

    [Benchmark(Description = "appraise a report of N entries")]
    public AppraisalResult Appraise() => EvidenceAppraiser.Appraise(_report, _policy, Nonce);

    private static string Hex(int i) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)));

    private sealed class SyntheticSource(int count) : IEvidenceSource
    {
        public string Name => "synthetic";

        public Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<EvidenceRecord>>(Enumerable.Range(0, count - 1)
                .Select(i => EvidenceRecord.Create(EvidenceRecordTypes.File, $"/usr/lib/file{i}", ("sha256", Hex(i)), ("size", "65536")))
                .ToArray());
    }
}
