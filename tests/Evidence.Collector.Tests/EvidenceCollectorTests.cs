using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector.Tests;

public sealed class EvidenceCollectorTests : IDisposable
{
    private readonly ProcFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void AddEvidenceCollector_BuiltInAndCustomSources_AllResolved()
    {
        var services = new ServiceCollection();
        services.AddEvidenceCollector(o => o.ProcRoot = _fixture.Proc);
        services.AddEvidenceCollector();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEvidenceSource, ThrowingSource>());
        using var provider = services.BuildServiceProvider();

        var collector = provider.GetRequiredService<EvidenceCollector>();

        Assert.Equal(["memory", "cpu", "processes", "network", "files", "policy-data", "ima", "broken"], collector.Sources.Select(s => s.Name));
        Assert.Equal(_fixture.Proc, collector.Options.ProcRoot);
    }

    [Fact]
    public void AddEvidenceCollector_InvalidPcr_FailsValidation()
    {
        using var provider = new ServiceCollection().AddEvidenceCollector(o => o.EvidencePcr = 24).BuildServiceProvider();

        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<EvidenceCollector>());
    }

    [Fact]
    public async Task CollectAsync_SourceThrows_RoundCompletesWithCollectorErrorRecord()
    {
        var progress = new List<string>();
        var collector = EvidenceTestKit.Collector(_fixture.Options(), new MemoryEvidenceSource(), new ThrowingSource(), new CpuEvidenceSource());

        var round = await collector.CollectAsync(new SyncProgress(progress.Add));

        Assert.Equal(["memory", "collector-error", "cpu"], round.Records.Select(r => r.Type));
        Assert.Equal("InvalidOperationException: sensor unplugged", round.Records[1]["error"]);
        Assert.Contains(progress, p => p.StartsWith("broken: FAILED", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_Fixture_AgentFirstLogReplaysToTheTpmPcr()
    {
        using var tpm = EvidenceTestKit.NewTpm();
        var collector = EvidenceTestKit.Collector(_fixture.Options());

        var report = await collector.RunAsync(tpm, EvidenceTestKit.Nonce);

        var contents = EvidenceLogContents.Read(report.Log, 23, TpmAlgId.Sha256);
        Assert.Empty(contents.Problems);
        Assert.Equal(EvidenceRecordTypes.Agent, contents.Records[0].Type);
        Assert.Equal(tpm.ReadPcr(23, TpmAlgId.Sha256), contents.Replayed);
        Assert.Equal(report.Manifest.Records, contents.Records.Count);
        Assert.Equal(FixedTime.Now, report.Manifest.Created);
        Assert.Equal(Convert.ToHexStringLower(tpm.AttestationKey.GetName()), report.Manifest.AkName);
    }

    [Fact]
    public async Task RunAsync_TwoRounds_PcrResetSoEachReplaysFromZero()
    {
        using var tpm = EvidenceTestKit.NewTpm();
        var collector = EvidenceTestKit.Collector(_fixture.Options(), new MemoryEvidenceSource());

        await collector.RunAsync(tpm, EvidenceTestKit.Nonce);
        var second = await collector.RunAsync(tpm, EvidenceTestKit.Nonce);

        Assert.Equal(tpm.ReadPcr(23, TpmAlgId.Sha256), EvidenceLogContents.Read(second.Log, 23, TpmAlgId.Sha256).Replayed);
    }

    [Fact]
    public void MeasureSelf_ConfigurationFile_DigestsAssembliesAndConfig()
    {
        var config = Path.Combine(_fixture.Root, "agent.json");
        File.WriteAllText(config, "{}");
        var options = _fixture.Options();
        options.ConfigurationFile = config;

        var agent = EvidenceTestKit.Collector(options).MeasureSelf();

        Assert.Equal(EvidenceEvidenceHex("{}"), agent["config.sha256"]);
        Assert.Matches("^[0-9a-f]{64}$", agent["assembly.truststack.evidence.collector.sha256"]!);
        Assert.Matches("^[0-9a-f]{64}$", agent["assembly.truststack.tpm.hardware.sha256"]!);
    }

    [Fact]
    public async Task WriteRead_ReportDirectory_RoundTripsAndRecordsSnapshot()
    {
        using var tpm = EvidenceTestKit.NewTpm();
        var report = await EvidenceTestKit.Collector(_fixture.Options(), new MemoryEvidenceSource(), new ProcessEvidenceSource(), new NetworkEvidenceSource(), new FileEvidenceSource(), new PolicyDataEvidenceSource())
            .RunAsync(tpm, EvidenceTestKit.Nonce);
        var dir = Path.Combine(_fixture.Root, "report");

        report.Write(dir);
        var read = EvidenceReport.Read(dir);

        Assert.Equal(report.Log, read.Log);
        Assert.Equal(report.QuoteMessage, read.QuoteMessage);
        Assert.Equal(report.Signature, read.Signature);
        Assert.Equal(report.AkPublic.GetName(), read.AkPublic.GetName());
        Assert.Equal(report.Manifest with { Sources = [] }, read.Manifest with { Sources = [] });
        Assert.Equal(["ak.pub", "evidence.log", "quote.attest", "quote.sig", "records.json", "report.json"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());

        // Everything but the agent record (assembly digests change with every build) is deterministic on the fixture.
        var records = EvidenceLogContents.Read(read.Log, 23, TpmAlgId.Sha256).Records.Skip(1);
        Snapshooter.Xunit.Snapshot.Match(_fixture.Scrub(EvidenceReport.RecordsJson(records)).Split('\n'));
    }

    [Fact]
    public async Task RunAsync_RealHost_BuiltInSourcesProduceAReport()
    {
        using var tpm = EvidenceTestKit.NewTpm();
        var collector = EvidenceTestKit.Collector(new EvidenceCollectorOptions { Files = ["/etc/passwd"], PolicyFiles = ["/etc/hosts"] });

        var report = await collector.RunAsync(tpm, EvidenceTestKit.Nonce);

        Assert.All(report.Manifest.Sources, s => Assert.Null(s.Error));
        var contents = EvidenceLogContents.Read(report.Log, 23, TpmAlgId.Sha256);
        Assert.Contains(contents.Records, r => r.Type == EvidenceRecordTypes.Process && r["pid"] == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var tpmVerdict = EvidenceAppraiser.Appraise(report, new AppraisalPolicy { Tpm = new TpmPolicy { TrustedAkNames = [report.Manifest.AkName] } }, EvidenceTestKit.Nonce)["tpm"];
        Assert.Equal(Verdict.Trusted, tpmVerdict.Verdict);
    }

    private static string EvidenceEvidenceHex(string text) => EvidenceSourcesTests.Sha256Hex(text);

    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (this)
            {
                report(value);
            }
        }
    }
}
