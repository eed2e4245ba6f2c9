using Microsoft.Extensions.Options;
using TrustStack.Evidence.Collector;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Attestation.TvpPca.Tests;

public sealed class RuntimeEvidenceRequirementTests
{
    private readonly TestPlatforms _p = new();

    private CollectorRuntimeEvidenceSource Evidence() =>
        new(new EvidenceCollector([new FixedSource()], Options.Create(new EvidenceCollectorOptions()), _p.Clock));

    private Challenger Challenger(ITvpPcaTransport transport, RuntimeEvidenceRequirement requirement, ulong seed = 9) =>
        new(transport, new TvpPcaVerifier(_p.Pca, TvpPcaHost.CreateValidator(_p.Pca, _p.Clock), TvpPcaHost.ExpectedReferences) { RuntimeEvidence = requirement }, DeterministicRandomSource.FromSeed(seed));

    [Fact]
    public void Check_EvidenceBoundToN1AndVAik_TopHolds()
    {
        using var host = _p.Host(new TvpPcaHostOptions { VmCount = 1, RuntimeEvidence = Evidence() });

        var a = Challenger(host.Transport, new RuntimeEvidenceRequirement { Required = true }).Attest(host.Agents[0].VmId);

        Assert.True(a.Result.IsTrusted, string.Join("\n", a.Result.Failures));
        Assert.NotNull(a.TopResponse.RuntimeEvidence);
        Assert.Equal(TvpPcaLayer.Top, a.Result[TvpPcaCheck.RuntimeEvidence].Layer);
        Assert.Equal(Convert.ToHexStringLower(a.TopChallenge.Nonce), a.TopResponse.RuntimeEvidence!.Manifest.Nonce);
    }

    [Fact]
    public void Check_EvidenceAbsentAndNotRequired_NoCheck()
    {
        using var host = _p.Host();

        var r = Challenger(host.Transport, new RuntimeEvidenceRequirement()).Attest(host.Agents[0].VmId).Result;

        Assert.True(r.IsTrusted);
        Assert.DoesNotContain(r.Reasons, x => x.Check == TvpPcaCheck.RuntimeEvidence);
    }

    [Fact]
    public void Check_EvidenceRequiredButAbsent_RejectedForRuntimeEvidence()
    {
        using var host = _p.Host();

        var r = Challenger(host.Transport, new RuntimeEvidenceRequirement { Required = true }).Attest(host.Agents[0].VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.Equal([TvpPcaCheck.RuntimeEvidence], r.Failures.Select(f => f.Check));
    }

    [Fact]
    public void Check_ReplayedEvidence_RejectedForRuntimeEvidence()
    {
        using var host = _p.Host(new TvpPcaHostOptions { VmCount = 1, RuntimeEvidence = Evidence() });
        var vm = host.Agents[0].VmId;
        var old = Challenger(host.Transport, new RuntimeEvidenceRequirement(), seed: 1).Attest(vm);
        var mitm = new TamperingTransport(host.Transport) { Top = c => host.Transport.RequestTop(c) with { RuntimeEvidence = old.TopResponse.RuntimeEvidence } };

        var r = Challenger(mitm, new RuntimeEvidenceRequirement(), seed: 2).Attest(vm).Result;

        Assert.False(r.IsTrusted);
        Assert.Equal([TvpPcaCheck.RuntimeEvidence], r.Failures.Select(f => f.Check));
    }

    [Fact]
    public void Check_EvidenceFromAnotherVTpm_RejectedForRuntimeEvidence()
    {
        using var host = _p.Host(new TvpPcaHostOptions { VmCount = 2, RuntimeEvidence = Evidence() });
        var vm = host.Agents[0].VmId;

        // The evidence of VM 1, quoted over this very N1, passed off as VM 0's: its AK is not VM 0's vAIK.
        var mitm = new TamperingTransport(host.Transport)
        {
            Top = c => host.Transport.RequestTop(c) with { RuntimeEvidence = host.Transport.RequestTop(c with { VmId = host.Agents[1].VmId }).RuntimeEvidence },
        };

        var r = Challenger(mitm, new RuntimeEvidenceRequirement()).Attest(vm).Result;

        Assert.Equal([TvpPcaCheck.RuntimeEvidence], r.Failures.Select(f => f.Check));
    }

    [Fact]
    public void Check_PolicyNotMet_RejectedWithTheDecision()
    {
        using var host = _p.Host(new TvpPcaHostOptions { VmCount = 1, RuntimeEvidence = Evidence() });
        var policy = new AppraisalPolicy { Behavior = new BehaviorPolicy { RequiredProcesses = ["sshd"] } };

        var r = Challenger(host.Transport, new RuntimeEvidenceRequirement { Policy = policy }).Attest(host.Agents[0].VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.Equal([TvpPcaCheck.RuntimeEvidence], r.Failures.Select(f => f.Check));
        Assert.Contains("decision", r[TvpPcaCheck.RuntimeEvidence].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_TopResponseWithEvidence_RoundTripsOctetExact()
    {
        using var host = _p.Host(new TvpPcaHostOptions { VmCount = 1, RuntimeEvidence = Evidence() });
        var top = host.Agents[0].Answer(new TopChallenge(host.Agents[0].VmId, [1, 2, 3]));

        var bytes = TvpPcaCodec.Encode(top);
        var decoded = TvpPcaCodec.DecodeTopResponse(bytes);

        Assert.Equal(bytes, TvpPcaCodec.Encode(decoded));
        Assert.Equal(top.RuntimeEvidence!.Log, decoded.RuntimeEvidence!.Log);
        Assert.Equal(top.RuntimeEvidence.Manifest.Nonce, decoded.RuntimeEvidence.Manifest.Nonce);
    }

    /// <summary>A source with one fixed record, so the tests do not read this machine's /proc.</summary>
    private sealed class FixedSource : IEvidenceSource
    {
        public string Name => "fixed";

        public Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<EvidenceRecord>>([EvidenceRecord.Create("memory", "meminfo", ("used-percent", "12"))]);
    }
}
