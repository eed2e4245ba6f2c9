using System.Buffers.Binary;
using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector.Tests;

/// <summary>The decision engine, with the named attacks each rejected.</summary>
public sealed class EvidenceAppraiserTests : IDisposable
{
    private readonly ProcFixture _fixture = new();
    private readonly EvidenceTpm _tpm = EvidenceTestKit.NewTpm();

    public void Dispose()
    {
        _tpm.Dispose();
        _fixture.Dispose();
    }

    [Fact]
    public async Task Appraise_CleanFixtureWithGoldenPolicy_Trusted()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);

        var result = EvidenceAppraiser.Appraise(report, EvidenceTestKit.GoldenPolicy(report), EvidenceTestKit.Nonce);

        Assert.True(result.Decision == Verdict.Trusted, result.ToText());
        Assert.All(result.Properties, p => Assert.Equal(Verdict.Trusted, p.Verdict));
    }

    [Fact]
    public async Task Attack_TamperedLog_EditedRecordRejected()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var log = (byte[])report.Log.Clone();
        log[LastRecordOffset(log) + 32 + EvidenceLogWriter.TemplateName.Length + 20] ^= 1;

        var result = EvidenceAppraiser.Appraise(report with { Log = log }, EvidenceTestKit.GoldenPolicy(report), EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("edited log", StringComparison.Ordinal));
        Assert.Equal(Verdict.Untrusted, result.Decision);
    }

    [Fact]
    public async Task Attack_TamperedLogWithRecomputedTemplateHash_DoesNotReplayToTheQuote()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var records = EvidenceLogContents.Read(report.Log, 23, TpmAlgId.Sha256).Records.ToList();
        var nc = records.FindIndex(r => r["comm"] == "nc");
        records[nc] = EvidenceRecord.Create("process", records[nc].Subject, records[nc].Fields.Where(f => f.Key != "comm").Select(f => (f.Key, f.Value)).Append(("comm", "innocent")).ToArray());
        var forged = new EvidenceLogWriter();
        records.ForEach(r => forged.Append(23, r.ToCanonical()));

        var result = EvidenceAppraiser.Appraise(report with { Log = forged.ToArray() }, EvidenceTestKit.GoldenPolicy(report), EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("does not replay to the quoted PCR 23", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_ReplayedReport_OldNonceRejected()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var freshNonce = SHA256.HashData("the verifier's new challenge"u8);

        var result = EvidenceAppraiser.Appraise(report, EvidenceTestKit.GoldenPolicy(report), freshNonce);

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("replayed or stale report", StringComparison.Ordinal));
        Assert.Equal(Verdict.Untrusted, result.Decision);
    }

    [Fact]
    public async Task Attack_PcrMismatch_TruncatedLogRejected()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var truncated = report.Log.AsSpan(0, LastRecordOffset(report.Log)).ToArray();

        var result = EvidenceAppraiser.Appraise(report with { Log = truncated }, EvidenceTestKit.GoldenPolicy(report), EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.StartsWith("the evidence log does not replay", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_PcrMismatch_EvidencePcrExtendedOutsideTheLog()
    {
        var collector = EvidenceTestKit.Collector(_fixture.Options(), new ExtendingSource(_tpm));

        var report = await collector.RunAsync(_tpm, EvidenceTestKit.Nonce);
        var result = EvidenceAppraiser.Appraise(report, EvidenceTestKit.GoldenPolicy(report), EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("PcrDigest", StringComparison.Ordinal) || r.Contains("does not replay", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_UntrustedAttestationKey_Rejected()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var policy = EvidenceTestKit.GoldenPolicy(report);

        var result = EvidenceAppraiser.Appraise(report, policy with { Tpm = policy.Tpm with { TrustedAkNames = ["000b" + new string('0', 64)] } }, EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("is not a trusted attestation key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_UnknownExecutable_SoftwareUntrusted()
    {
        var golden = EvidenceTestKit.GoldenPolicy(await EvidenceTestKit.Report(_fixture, _tpm));
        _fixture.Write("bin/miner", "cryptominer");
        _fixture.AddProcess(666, "miner", 1, "miner\0", Path.Combine(_fixture.Bin, "miner"), []);
        var options = _fixture.Options();
        options.Files = [Path.Combine(_fixture.Etc, "hosts")];

        var report = await EvidenceTestKit.Collector(options).RunAsync(_tpm, EvidenceTestKit.Nonce);
        var result = EvidenceAppraiser.Appraise(report, golden, EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Trusted, result["tpm"].Verdict);
        Assert.Equal(Verdict.Untrusted, result["software"].Verdict);
        Assert.Contains(result["software"].Reasons, r => r.Contains("miner", StringComparison.Ordinal) && r.Contains("unknown executable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_ExecutableReplacedAfterMeasurement_Rejected()
    {
        var report0 = await EvidenceTestKit.Report(_fixture, _tpm);
        var golden = EvidenceTestKit.GoldenPolicy(report0);
        _fixture.MarkExeDeleted(100, "trojaned sshd");

        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var result = EvidenceAppraiser.Appraise(report, golden, EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["behavior"].Verdict);
        Assert.Contains(result["behavior"].Reasons, r => r.Contains("replaced or deleted after it started", StringComparison.Ordinal));
        Assert.Equal(Verdict.Untrusted, result["software"].Verdict); // the file on disk has another digest now
        Assert.Contains(result["software"].Reasons, r => r.Contains("sshd: digest", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_ForbiddenProcess_BehaviorUntrusted()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var policy = EvidenceTestKit.GoldenPolicy(report);

        var result = EvidenceAppraiser.Appraise(report, policy with { Behavior = policy.Behavior with { ForbiddenProcesses = ["nc"] } }, EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["behavior"].Verdict);
        Assert.Contains(result["behavior"].Reasons, r => r.StartsWith("forbidden process nc runs: pid 200", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_UnexpectedListeningPort_BehaviorUntrusted()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var policy = EvidenceTestKit.GoldenPolicy(report);

        var result = EvidenceAppraiser.Appraise(report, policy with { Behavior = policy.Behavior with { AllowedListeningPorts = ["tcp:22", "udp:68"] } }, EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["behavior"].Verdict);
        Assert.Equal("unexpected listening port tcp 0.0.0.0:8080 (pid 200 nc)", Assert.Single(result["behavior"].Reasons, r => r.StartsWith("unexpected", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Attack_ConnectionToUnexpectedPeer_BehaviorUntrusted()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var policy = EvidenceTestKit.GoldenPolicy(report);

        var result = EvidenceAppraiser.Appraise(report, policy with { Behavior = policy.Behavior with { AllowedPeers = ["::1"] } }, EvidenceTestKit.Nonce);

        Assert.Contains(result["behavior"].Reasons, r => r.Contains("-> 10.0.0.9:51000 (pid 100 sshd)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_MissingRequiredItem_SoftwareUntrusted()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var policy = EvidenceTestKit.GoldenPolicy(report);
        var required = Path.Combine(_fixture.Etc, "audit.rules");

        var result = EvidenceAppraiser.Appraise(report, policy with { Software = policy.Software with { Required = [required] } }, EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["software"].Verdict);
        Assert.Contains($"missing required item {required}", result["software"].Reasons);
    }

    [Fact]
    public async Task Attack_MissingRequiredProcess_BehaviorUntrusted()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var policy = EvidenceTestKit.GoldenPolicy(report);

        var result = EvidenceAppraiser.Appraise(report, policy with { Behavior = policy.Behavior with { RequiredProcesses = ["auditd"] } }, EvidenceTestKit.Nonce);

        Assert.Contains("required process auditd is not running", result["behavior"].Reasons);
    }

    [Fact]
    public async Task Attack_ConfigurationValueChanged_SoftwareUntrusted()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var policy = EvidenceTestKit.GoldenPolicy(report);

        var result = EvidenceAppraiser.Appraise(report, policy with { Software = policy.Software with { Values = new Dictionary<string, string> { ["sysctl:net.ipv4.ip_forward"] = "1" } } }, EvidenceTestKit.Nonce);

        Assert.Contains("value sysctl:net.ipv4.ip_forward is '0', expected '1'", result["software"].Reasons);
    }

    [Fact]
    public async Task Appraise_CollectorThrew_RoundCompletesAndBehaviorUnknown()
    {
        var sources = EvidenceTestKit.BuiltIn().Append(new ThrowingSource()).ToArray();

        var report = await EvidenceTestKit.Report(_fixture, _tpm, sources);
        var result = EvidenceAppraiser.Appraise(report, EvidenceTestKit.GoldenPolicy(report), EvidenceTestKit.Nonce);

        Assert.Equal("sensor unplugged", report.Manifest.Sources.Single(s => s.Name == "broken").Error);
        Assert.Equal(Verdict.Trusted, result["tpm"].Verdict);
        Assert.Equal(Verdict.Unknown, result["behavior"].Verdict);
        Assert.Contains(result["behavior"].Reasons, r => r.StartsWith("source broken failed: InvalidOperationException: sensor unplugged", StringComparison.Ordinal));
        Assert.Equal(Verdict.Unknown, result.Decision);
    }

    [Fact]
    public async Task Appraise_NoVerifierNonce_TpmUnknown()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);

        var result = EvidenceAppraiser.Appraise(report, EvidenceTestKit.GoldenPolicy(report), expectedNonce: null);

        Assert.Equal(Verdict.Unknown, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("freshness is not proven", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Appraise_EmptyPolicy_EverythingUnknown()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);

        var result = EvidenceAppraiser.Appraise(report, new AppraisalPolicy(), EvidenceTestKit.Nonce);

        Assert.All(result.Properties, p => Assert.Equal(Verdict.Unknown, p.Verdict));
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("is not anchored", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Appraise_FixtureReport_Snapshot()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var policy = EvidenceTestKit.GoldenPolicy(report);

        var result = EvidenceAppraiser.Appraise(report, policy with { Behavior = policy.Behavior with { ForbiddenProcesses = ["nc"], AllowedListeningPorts = ["tcp:22"] } }, EvidenceTestKit.Nonce);

        Snapshooter.Xunit.Snapshot.Match(_fixture.Scrub(result.ToText()).Split('\n'));
    }

    [Theory]
    [InlineData(Verdict.Trusted, Verdict.Trusted, Verdict.Unknown, 0.75, Verdict.Trusted)]
    [InlineData(Verdict.Trusted, Verdict.Unknown, Verdict.Unknown, 0.75, Verdict.Unknown)]
    [InlineData(Verdict.Trusted, Verdict.Untrusted, Verdict.Trusted, 0.75, Verdict.Untrusted)]
    [InlineData(Verdict.Trusted, Verdict.Untrusted, Verdict.Trusted, 0.6, Verdict.Trusted)]
    [InlineData(Verdict.Untrusted, Verdict.Trusted, Verdict.Trusted, 0.1, Verdict.Untrusted)]
    public void Combine_Weighted_ScoresAgainstThresholdWithTpmVeto(Verdict tpm, Verdict software, Verdict behavior, double threshold, Verdict expected)
    {
        var properties = new[] { new PropertyVerdict(EvidenceAppraiser.Tpm, tpm, []), new PropertyVerdict(EvidenceAppraiser.Software, software, []), new PropertyVerdict(EvidenceAppraiser.Behavior, behavior, []) };

        var result = EvidenceAppraiser.Combine(properties, new DecisionPolicy { Strategy = DecisionStrategy.Weighted, Threshold = threshold });

        Assert.Equal(expected, result.Decision);
        Assert.NotNull(result.Score);
    }

    [Theory]
    [InlineData(Verdict.Trusted, Verdict.Trusted, Verdict.Trusted, Verdict.Trusted)]
    [InlineData(Verdict.Trusted, Verdict.Unknown, Verdict.Trusted, Verdict.Unknown)]
    [InlineData(Verdict.Unknown, Verdict.Untrusted, Verdict.Trusted, Verdict.Untrusted)]
    public void Combine_AllMustHold_WorstVerdictWins(Verdict tpm, Verdict software, Verdict behavior, Verdict expected)
    {
        var properties = new[] { new PropertyVerdict(EvidenceAppraiser.Tpm, tpm, []), new PropertyVerdict(EvidenceAppraiser.Software, software, []), new PropertyVerdict(EvidenceAppraiser.Behavior, behavior, []) };

        Assert.Equal(expected, EvidenceAppraiser.Combine(properties, new DecisionPolicy()).Decision);
    }

    /// <summary>Offset of the last entry of a binary evidence log.</summary>
    internal static int LastRecordOffset(byte[] log)
    {
        var at = 0;
        var last = 0;
        while (at < log.Length)
        {
            last = at;
            var nameLength = BinaryPrimitives.ReadInt32LittleEndian(log.AsSpan(at + 24));
            var dataLength = BinaryPrimitives.ReadInt32LittleEndian(log.AsSpan(at + 28 + nameLength));
            at += 32 + nameLength + dataLength;
        }

        return last;
    }

    /// <summary>Malware that extends the evidence PCR behind the agent's back.</summary>
    private sealed class ExtendingSource(EvidenceTpm tpm) : IEvidenceSource
    {
        public string Name => "rogue";

        public Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken)
        {
            tpm.Extend(23, TpmAlgId.Sha256, new byte[32]);
            return Task.FromResult<IReadOnlyList<EvidenceRecord>>([]);
        }
    }
}
