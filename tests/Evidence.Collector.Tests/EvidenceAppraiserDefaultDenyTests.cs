using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector.Tests;

/// <summary>
/// Issue 19, default-deny: what the appraiser cannot attribute to the policy makes the verdict
/// untrusted (or, for evidence that is missing, unknown) with a reason naming it; nothing passes
/// by being skipped.
/// </summary>
public sealed class EvidenceAppraiserDefaultDenyTests : IDisposable
{
    private readonly ProcFixture _fixture = new();
    private readonly EvidenceTpm _tpm = EvidenceTestKit.NewTpm();

    public void Dispose()
    {
        _tpm.Dispose();
        _fixture.Dispose();
    }

    [Fact]
    public async Task Attack_UnknownRecordType_BehaviorUntrustedNamingIt()
    {
        _fixture.Write("proc/modules", "rootkit 16384 0 - Live 0x0000000000000000\n");
        var report = await EvidenceTestKit.Report(_fixture, _tpm, [.. EvidenceTestKit.BuiltIn(), new KernelModulesSource()]);

        var result = EvidenceAppraiser.Appraise(report, EvidenceTestKit.GoldenPolicy(report), EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["behavior"].Verdict);
        Assert.Contains(result["behavior"].Reasons, r => r.Contains("'kernel-module'", StringComparison.Ordinal) && r.Contains("rootkit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Appraise_CustomRecordTypeIgnoredByName_Trusted()
    {
        _fixture.Write("proc/modules", "tpm_crb 20480 0 - Live 0x0000000000000000\n");
        var report = await EvidenceTestKit.Report(_fixture, _tpm, [.. EvidenceTestKit.BuiltIn(), new KernelModulesSource()]);
        var policy = EvidenceTestKit.GoldenPolicy(report);

        var result = EvidenceAppraiser.Appraise(report, policy with { Behavior = policy.Behavior with { IgnoredRecordTypes = ["kernel-module"] } }, EvidenceTestKit.Nonce);

        Assert.True(result.Decision == Verdict.Trusted, result.ToText());
    }

    [Fact]
    public async Task Attack_ImaViolation_SoftwareUntrustedNamingTheEntry()
    {
        // The fixture's IMA list has a ToMToU/open-writers violation on /var/log/violated (all-zero digests).
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var policy = EvidenceTestKit.GoldenPolicy(report);

        var result = EvidenceAppraiser.Appraise(report, policy with { Software = policy.Software with { Excludes = ["^boot_aggregate$"] } }, EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["software"].Verdict);
        Assert.Contains(result["software"].Reasons, r => r.Contains("/var/log/violated", StringComparison.Ordinal) && r.Contains("violation", StringComparison.Ordinal));
    }

    [Fact]
    public void Attack_ImaEntryWithoutFileDigest_SoftwareUntrusted()
    {
        IReadOnlyList<EvidenceRecord> records = [EvidenceRecord.Create("ima", "kernel_buffer", ("index", "3"), ("pcr", "10"), ("template", "ima-buf"), ("template-hash", "00"))];

        var verdict = EvidenceAppraiser.AppraiseSoftware(records, new SoftwarePolicy { Digests = new Dictionary<string, IReadOnlyList<string>> { ["/bin/sh"] = ["00"] } });

        Assert.Equal(Verdict.Untrusted, verdict.Verdict);
        Assert.Contains(verdict.Reasons, r => r.Contains("ima entry 3", StringComparison.Ordinal) && r.Contains("ima-buf", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Appraise_ImaListUnavailable_SoftwareUnknownNamingIt()
    {
        var options = _fixture.Options();
        options.ImaMeasurementList = Path.Combine(_fixture.Root, "no-ima");
        var report = await EvidenceTestKit.Collector(options).RunAsync(_tpm, EvidenceTestKit.Nonce);

        var result = EvidenceAppraiser.Appraise(report, EvidenceTestKit.GoldenPolicy(report), EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Unknown, result["software"].Verdict);
        Assert.Contains(result["software"].Reasons, r => r.Contains("IMA measurement list", StringComparison.Ordinal) && r.Contains("not found", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("file")]
    [InlineData("policy-data")]
    public void Attack_UnreadableConfiguredItem_SoftwareUntrusted(string type)
    {
        IReadOnlyList<EvidenceRecord> records = [EvidenceRecord.Create(type, "/etc/shadow", ("error", "permission denied"))];

        var verdict = EvidenceAppraiser.AppraiseSoftware(records, new SoftwarePolicy { Digests = new Dictionary<string, IReadOnlyList<string>> { ["/bin/sh"] = ["00"] } });

        Assert.Equal(Verdict.Untrusted, verdict.Verdict);
        Assert.Contains(verdict.Reasons, r => r.Contains("/etc/shadow", StringComparison.Ordinal) && r.Contains("permission denied", StringComparison.Ordinal));
    }

    [Fact]
    public void Appraise_MissingConfiguredFileNotRequired_IsEvidenceOfAbsence()
    {
        IReadOnlyList<EvidenceRecord> records = [EvidenceRecord.Create("file", "/etc/optional.conf", ("error", "not found"))];

        var verdict = EvidenceAppraiser.AppraiseSoftware(records, new SoftwarePolicy { Digests = new Dictionary<string, IReadOnlyList<string>> { ["/bin/sh"] = ["00"] } });

        Assert.Equal(Verdict.Trusted, verdict.Verdict);
    }

    [Fact]
    public async Task Attack_QuoteDoesNotVerify_SoftwareAndBehaviorGetNoEvidence()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var golden = EvidenceTestKit.GoldenPolicy(report);
        var signature = (byte[])report.Signature.Clone();
        signature[^1] ^= 0x01; // the ECDSA s: the log is intact and replays, the quote does not verify
        var policy = golden with { Software = new SoftwarePolicy { Digests = golden.Software.Digests, Excludes = golden.Software.Excludes }, Behavior = new BehaviorPolicy { ForbiddenProcesses = ["telnetd"] } };

        var result = EvidenceAppraiser.Appraise(report with { Signature = signature }, policy, EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.NotEqual(Verdict.Trusted, result["software"].Verdict);
        Assert.NotEqual(Verdict.Trusted, result["behavior"].Verdict);
        Assert.Contains(result["software"].Reasons, r => r.Contains("not proven", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_NoProcessEvidence_ProcessRulesUnknown()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm, [.. EvidenceTestKit.BuiltIn().Where(s => s is not ProcessEvidenceSource)]);
        var policy = EvidenceTestKit.GoldenPolicy(report) with { Behavior = new BehaviorPolicy { ForbiddenProcesses = ["nc"] } };

        var result = EvidenceAppraiser.Appraise(report, policy, EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Unknown, result["behavior"].Verdict);
        Assert.Contains(result["behavior"].Reasons, r => r.Contains("no process evidence", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_NoSocketEvidence_PeerRuleUnknown()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm, [.. EvidenceTestKit.BuiltIn().Where(s => s is not NetworkEvidenceSource)]);
        var policy = EvidenceTestKit.GoldenPolicy(report) with { Behavior = new BehaviorPolicy { AllowedPeers = ["10.0.0.0/8"] } };

        var result = EvidenceAppraiser.Appraise(report, policy, EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Unknown, result["behavior"].Verdict);
        Assert.Contains(result["behavior"].Reasons, r => r.Contains("no socket evidence", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("false", "999.1.1.1", "remote address")]
    [InlineData("maybe", "10.0.0.9", "neither listening nor connected")]
    public void Attack_UnattributableSocket_BehaviorUntrusted(string listening, string remote, string reason)
    {
        IReadOnlyList<EvidenceRecord> records = [EvidenceRecord.Create("socket", "tcp 10.0.0.5:22 x", ("protocol", "tcp"), ("local", "10.0.0.5:22"), ("local-port", "22"), ("listening", listening), ("remote", remote + ":1"), ("remote-address", remote))];

        var verdict = EvidenceAppraiser.AppraiseBehavior(records, new BehaviorPolicy { AllowedListeningPorts = ["tcp:22"], AllowedPeers = ["10.0.0.0/8"] });

        Assert.Equal(Verdict.Untrusted, verdict.Verdict);
        Assert.Contains(verdict.Reasons, r => r.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_PartiallyPinnedAgent_UnpinnedDigestUntrusted()
    {
        // The policy pins the collector assembly; the agent's options digest (what it collects) is not pinned.
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var agent = EvidenceLogContents.Read(report.Log, 23, TpmAlgId.Sha256).Records[0];
        const string field = "assembly.truststack.evidence.collector.sha256";
        var policy = EvidenceTestKit.GoldenPolicy(report);
        policy = policy with { Tpm = policy.Tpm with { AgentDigests = new Dictionary<string, IReadOnlyList<string>> { [field] = [agent[field]!] } } };

        var result = EvidenceAppraiser.Appraise(report, policy, EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("options-sha256", StringComparison.Ordinal) && r.Contains("not pinned", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Appraise_FullyPinnedAgent_Trusted()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var agent = EvidenceLogContents.Read(report.Log, 23, TpmAlgId.Sha256).Records[0];
        var pins = agent.Fields.Where(f => f.Key.EndsWith("sha256", StringComparison.Ordinal)).ToDictionary(f => f.Key, f => (IReadOnlyList<string>)[f.Value]);
        var policy = EvidenceTestKit.GoldenPolicy(report);

        var result = EvidenceAppraiser.Appraise(report, policy with { Tpm = policy.Tpm with { AgentDigests = pins } }, EvidenceTestKit.Nonce);

        Assert.True(result.Decision == Verdict.Trusted, result.ToText());
    }

    [Fact]
    public async Task Attack_ManifestClaimsAnotherAk_TpmUntrusted()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);

        var result = EvidenceAppraiser.Appraise(report with { Manifest = report.Manifest with { AkName = "000b" + new string('0', 64) } }, EvidenceTestKit.GoldenPolicy(report), EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("report.json", StringComparison.Ordinal) && r.Contains("akName", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_ManifestRecordCountWrong_TpmUntrusted()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);

        var result = EvidenceAppraiser.Appraise(report with { Manifest = report.Manifest with { Records = report.Manifest.Records - 1 } }, EvidenceTestKit.GoldenPolicy(report), EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("report.json", StringComparison.Ordinal) && r.Contains("records", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_ManifestNonceNotTheVerifiers_TpmUntrusted()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);

        var result = EvidenceAppraiser.Appraise(report with { Manifest = report.Manifest with { Nonce = "00" } }, EvidenceTestKit.GoldenPolicy(report), EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("report.json", StringComparison.Ordinal) && r.Contains("nonce", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_SignatureWithTrailingOctets_TpmUntrusted()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);

        var result = EvidenceAppraiser.Appraise(report with { Signature = [.. report.Signature, 0] }, EvidenceTestKit.GoldenPolicy(report), EvidenceTestKit.Nonce);

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("quote.sig", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_UnrestrictedAttestationKey_TpmUntrustedNamingRestricted()
    {
        // A pinned but unrestricted signing key "quotes" the evidence PCR: it could sign any digest.
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var result = AppraiseWithSubstituteKey(report, TpmRh.Endorsement, TpmTemplates.SigningEccP256(new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256)));

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("restricted is CLEAR", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attack_AttestationKeyOutsideTheEndorsementHierarchy_TpmUntrustedNamingQualifiedSigner()
    {
        var report = await EvidenceTestKit.Report(_fixture, _tpm);
        var result = AppraiseWithSubstituteKey(report, TpmRh.Owner, TpmTemplates.AkEccP256());

        Assert.Equal(Verdict.Untrusted, result["tpm"].Verdict);
        Assert.Contains(result["tpm"].Reasons, r => r.Contains("QualifiedSigner", StringComparison.Ordinal));
    }

    private AppraisalResult AppraiseWithSubstituteKey(EvidenceReport report, uint hierarchy, TpmtPublic template)
    {
        var key = _tpm.Client.CreatePrimary(hierarchy, template);
        try
        {
            var quote = _tpm.Client.Quote(key.Handle, EvidenceTestKit.Nonce, PcrSelectionList.Create(TpmAlgId.Sha256, 23));
            var signature = new TpmWriter();
            quote.Signature.Marshal(signature);
            var name = Convert.ToHexStringLower(key.Public.GetName());
            var substituted = report with { QuoteMessage = quote.Quoted, Signature = signature.ToArray(), AkPublic = key.Public, Manifest = report.Manifest with { AkName = name } };
            var policy = EvidenceTestKit.GoldenPolicy(report);
            return EvidenceAppraiser.Appraise(substituted, policy with { Tpm = policy.Tpm with { TrustedAkNames = [name] } }, EvidenceTestKit.Nonce);
        }
        finally
        {
            _tpm.Client.FlushContext(key.Handle);
        }
    }
}
