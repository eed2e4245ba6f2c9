using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.TrustChain.Tests;

public class TvpQtVerifierTests
{
    [Fact]
    public void Verify_ThreeVmsOnOneHost_EachTrusted()
    {
        using var host = new TestHost();
        var vms = new[] { host.StartVm(11), host.StartVm(12), host.StartVm(13) };

        var results = vms.Select(host.AttestAndVerify).ToArray();

        Assert.All(results, r => Assert.True(r.IsTrusted, string.Join("\n", r.Failures)));
        Assert.Equal(Enum.GetValues<TvpQtCheckKind>(), results[0].Checks.Select(c => c.Kind));
        Assert.Contains("one of 3 launches", results[1][TvpQtCheckKind.JunctionEvent].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_VmLaunchedAfterTheQuote_EarlierVmStillTrustedFromLogPrefix()
    {
        using var host = new TestHost();
        var first = host.StartVm(11);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(first, challenge);

        host.StartVm(12);
        var grown = evidence with { PlatformEventLog = host.Platform.GetEventLog() };
        var result = TvpQtVerifier.Verify(grown, challenge, host.References);

        Assert.True(result.IsTrusted, string.Join("\n", result.Failures));
        Assert.Contains("1 later event(s) are not covered", result[TvpQtCheckKind.PlatformLogReplay].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_VmLaunchedAfterOthers_Trusted()
    {
        using var host = new TestHost();
        host.StartVm(11);
        host.StartVm(12);
        var late = host.StartVm(13);
        var result = host.AttestAndVerify(late);

        Assert.True(result.IsTrusted, string.Join("\n", result.Failures));
        Assert.Contains("launch #3", result[TvpQtCheckKind.JunctionEvent].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_VTpmRelaunchedForTheSameVm_UsesTheLatestLaunch()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11);
        host.StartVm(12);
        host.Junction.OnLaunch(vm.Launch());

        var result = host.AttestAndVerify(vm);

        Assert.True(result.IsTrusted, string.Join("\n", result.Failures));
        Assert.Contains("launch #3", result[TvpQtCheckKind.JunctionEvent].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_VTpmRelaunchedForAnotherVmLater_Rejected()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11);
        host.Junction.OnLaunch(vm.Launch(vmId: Guid.Parse("00000000-0000-4000-8000-000000000002")));

        var result = host.AttestAndVerify(vm);

        Assert.Contains("the vTPM belongs to another VM", Assert.Single(result.Failures, f => f.Kind == TvpQtCheckKind.JunctionEvent).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ChangedVmmComponent_RejectedByPlatformReferenceValues()
    {
        var profile = PlatformBootProfile.Create(k => k == PlatformComponentKind.Vmm
            ? "TrustStack demo image: vmm 1.0 with a rootkit"u8.ToArray()
            : TvpQtDemo.PlatformProfile().Components[(int)k].Content);
        using var host = new TestHost(profile: profile);
        var vm = host.StartVm(11);

        var result = host.AttestAndVerify(vm);

        Assert.False(result.IsTrusted);
        var failure = Assert.Single(result.Failures);
        Assert.Equal(TvpQtCheckKind.PlatformReferenceValues, failure.Kind);
        Assert.StartsWith("'vmm' measured ", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ChangedVTpmCode_RejectedByCodeIdentity()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11, code: System.Security.Cryptography.SHA256.HashData("patched vTPM"u8));

        var result = host.AttestAndVerify(vm);

        var failure = Assert.Single(result.Failures);
        Assert.Equal(TvpQtCheckKind.VTpmCodeIdentity, failure.Kind);
        Assert.Contains("is not among the 1 trusted vTPM builds", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_GuestLogEditedAfterTheFact_RejectedByGuestReplay()
    {
        // The guest ran a patched kernel, then rewrote its log to show the reference kernel's digests.
        using var host = new TestHost();
        var reference = TvpQtDemo.GuestProfile();
        var patched = new GuestBootProfile(reference.Components.Select(c => c.Kind == GuestComponentKind.Kernel ? c with { Content = "vmlinuz with a backdoor"u8.ToArray() } : c));
        var vm = host.StartVm(11, guest: patched);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var forged = ReplaceDigests(evidence.GuestEventLog, "vmlinuz", reference.Components.Single(c => c.Name == "vmlinuz"));

        var honest = TvpQtVerifier.Verify(evidence, challenge, host.References);
        var result = TvpQtVerifier.Verify(evidence with { GuestEventLog = forged }, challenge, host.References);

        Assert.Equal(TvpQtCheckKind.GuestReferenceValues, Assert.Single(honest.Failures).Kind);
        Assert.False(result.IsTrusted);
        Assert.Contains(TvpQtCheckKind.GuestLogReplay, result.Failures.Select(f => f.Kind));
        Assert.Contains("no prefix of the guest log", result[TvpQtCheckKind.GuestLogReplay].Reason, StringComparison.Ordinal);
        Assert.Contains("sha256:9 differ", result[TvpQtCheckKind.GuestLogReplay].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_MissingJunctionEvent_RejectedByJunctionEvent()
    {
        // The vTPM was started without passing through the junction point.
        using var host = new TestHost();
        host.StartVm(11);
        var rogue = host.StartVm(12, throughJunction: false);

        var result = host.AttestAndVerify(rogue);

        var failure = Assert.Single(result.Failures, f => f.Kind == TvpQtCheckKind.JunctionEvent);
        Assert.Contains("this vTPM was not launched on this platform", failure.Reason, StringComparison.Ordinal);
        Assert.False(result[TvpQtCheckKind.VTpmCodeIdentity].Passed);
        Assert.True(result[TvpQtCheckKind.PlatformLogReplay].Passed);
    }

    [Fact]
    public void Verify_JunctionEventCutFromTheLog_RejectedByReplayAndJunctionEvent()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var cut = RewriteLog(evidence.PlatformEventLog, e => TvpQtEventData.TryParse(e)?.Tag != TvpQtEventTag.VTpmLaunch);

        var result = TvpQtVerifier.Verify(evidence with { PlatformEventLog = cut }, challenge, host.References);

        Assert.False(result[TvpQtCheckKind.PlatformLogReplay].Passed);
        Assert.False(result[TvpQtCheckKind.JunctionEvent].Passed);
    }

    [Fact]
    public void Verify_VTpmMovedToAnotherVm_RejectedByJunctionEvent()
    {
        using var host = new TestHost();
        var victim = host.StartVm(11);
        var thief = host.StartVm(12);
        var challenge = host.NewChallenge();

        // The prover of VM 1 presents VM 2's vTPM (its vEK, quote and guest log).
        var evidence = host.Attest(thief, challenge) with { VmId = victim.Id };
        var result = TvpQtVerifier.Verify(evidence, challenge, host.References);

        var failure = Assert.Single(result.Failures, f => f.Kind == TvpQtCheckKind.JunctionEvent);
        Assert.Equal([TvpQtCheckKind.JunctionEvent, TvpQtCheckKind.VTpmCodeIdentity], result.Failures.Select(f => f.Kind));
        Assert.Contains($"for VM {thief.Id:D}, not VM {victim.Id:D}: the vTPM belongs to another VM", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_JunctionEventNamesAnotherVm_RejectedByJunctionEvent()
    {
        // The junction point measured this vTPM for another VM's UUID; the vTPM now serves this VM.
        using var host = new TestHost();
        var vm = host.StartVm(11, throughJunction: false);
        host.Junction.OnLaunch(vm.Launch(vmId: Guid.Parse("00000000-0000-4000-8000-000000000001")));

        var result = host.AttestAndVerify(vm);

        Assert.Contains("for VM 00000000-0000-4000-8000-000000000001, not VM", Assert.Single(result.Failures, f => f.Kind == TvpQtCheckKind.JunctionEvent).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_QuoteFromAnotherHostsVTpm_RejectedByJunctionEvent()
    {
        using var host = new TestHost(seed: 1);
        using var other = new TestHost(seed: 2);
        var local = host.StartVm(11);
        var foreign = other.StartVm(21);
        var challenge = host.NewChallenge();

        // This host's platform evidence, the other host's vTPM evidence.
        var evidence = host.Attest(local, challenge) with
        {
            VmId = foreign.Id,
            VEkPublic = foreign.Ek.Public,
            VTpmQuote = TvpQtDemo.Quote(foreign.Tpm, foreign.Ak, challenge.VTpmNonce, TvpQtDemo.GuestPcrs),
            GuestEventLog = foreign.Guest.GetEventLog(),
        };
        var result = TvpQtVerifier.Verify(evidence, challenge, host.References);

        var failure = Assert.Single(result.Failures, f => f.Kind == TvpQtCheckKind.JunctionEvent);
        Assert.Contains("this vTPM was not launched on this platform", failure.Reason, StringComparison.Ordinal);
        Assert.False(result.IsTrusted);
    }

    [Fact]
    public void Verify_ReplayedQuotes_RejectedByBothNonceChecks()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var old = host.NewChallenge();
        var recorded = host.Attest(vm, old);
        var fresh = host.NewChallenge();

        var result = TvpQtVerifier.Verify(recorded, fresh, host.References);

        Assert.Equal([TvpQtCheckKind.HardwareNonce, TvpQtCheckKind.VTpmNonce], result.Failures.Select(f => f.Kind));
        Assert.All(result.Failures, f => Assert.StartsWith("stale or replayed", f.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_UntrustedHardwareAk_RejectedByHardwareAk()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var challenge = host.NewChallenge();
        var references = host.References with { TrustedHardwareAks = [new byte[34]] };

        var result = TvpQtVerifier.Verify(host.Attest(vm, challenge), challenge, references);

        Assert.Equal(TvpQtCheckKind.HardwareAk, Assert.Single(result.Failures).Kind);
    }

    [Fact]
    public void Verify_ComponentMeasuredByTheWrongPredecessor_RejectedByMeasureBeforeRun()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);

        // Rewrite the VMM's event as measured by itself (it ran before it was measured); replay still matches.
        var forged = RewriteLog(evidence.PlatformEventLog, _ => true, e => TvpQtEventData.TryParse(e) is { Tag: TvpQtEventTag.Component } d && d["name"] == "vmm"
            ? TvpQtEventData.ForComponent(d.Sequence, "vmm", d["kind"], "vmm").ToBytes()
            : e.EventData);
        var result = TvpQtVerifier.Verify(evidence with { PlatformEventLog = forged }, challenge, host.References);

        var failure = Assert.Single(result.Failures);
        Assert.Equal(TvpQtCheckKind.PlatformMeasureBeforeRun, failure.Kind);
        Assert.Contains("'vmm' was measured by 'vmm', but 'boot-loader' ran before it", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_JunctionEventDataEdited_RejectedByJunctionEvent()
    {
        // Replay only covers digests: an edited UUID in the event data must still be caught.
        using var host = new TestHost();
        var vm = host.StartVm(11, throughJunction: false);
        host.Junction.OnLaunch(vm.Launch(vmId: Guid.Parse("00000000-0000-4000-8000-000000000001")));
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var forged = RewriteLog(evidence.PlatformEventLog, _ => true, e => TvpQtEventData.TryParse(e) is { Tag: TvpQtEventTag.VTpmLaunch } d
            ? TvpQtEventData.ForLaunch(d.Sequence, vm.Launch(), d.MeasuredBy).ToBytes()
            : e.EventData);

        var result = TvpQtVerifier.Verify(evidence with { PlatformEventLog = forged }, challenge, host.References);

        Assert.Contains("the event data was edited", Assert.Single(result.Failures, f => f.Kind == TvpQtCheckKind.JunctionEvent).Reason, StringComparison.Ordinal);
    }

    private static byte[] ReplaceDigests(byte[] log, string component, GuestComponent honest) =>
        RewriteLog(log, _ => true, digests: e => TvpQtEventData.TryParse(e) is { } d && d["name"] == component
            ? e.Digests.Select(h => new TpmtHa(h.HashAlg, honest.Digest(h.HashAlg))).ToArray()
            : e.Digests);

    /// <summary>Re-writes a log keeping the events <paramref name="keep"/> selects, with optionally new data or digests.</summary>
    internal static byte[] RewriteLog(byte[] log, Func<TcgEvent, bool> keep, Func<TcgEvent, byte[]>? data = null, Func<TcgEvent, IReadOnlyList<TpmtHa>>? digests = null)
    {
        var parsed = TcgEventLog.Parse(log);
        var writer = new TcgEventLogWriter(parsed.SpecId.DigestSizes.Select(d => d.Algorithm));
        foreach (var e in parsed.Events.Where(keep))
        {
            writer.AddEventWithDigests(e.PcrIndex, e.EventType, digests?.Invoke(e) ?? e.Digests, data?.Invoke(e) ?? e.EventData);
        }

        return writer.ToArray();
    }
}
