using System.Buffers.Binary;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.TrustChain.Tests;

/// <summary>
/// Default-deny appraisal (issue 19, finding 1): every event that extends a quoted PCR is matched
/// by a reference value or allowed by the policy, and every launch event in the platform log is
/// well-formed, bound to its own fields, measured by the junction point and in order. Each attack
/// extends the real (v)TPM PCR and logs the event, so the log still replays to the quote.
/// </summary>
public class TvpQtVerifierDefaultDenyTests
{
    [Fact]
    public void Verify_ExtraIplEventInPcr8_RejectedNamingTheEvent()
    {
        // An "evil module" loaded by the boot loader next to the VMM, measured and logged as EV_IPL.
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var evil = ExtendPlatform(host, 8, "evil.ko: a kernel module the references do not know"u8.ToArray());
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var log = InsertAfter(evidence.PlatformEventLog, "vmm", 8, TcgEventType.Ipl, evil, "evil.ko"u8.ToArray());

        var result = TvpQtVerifier.Verify(evidence with { PlatformEventLog = log }, challenge, host.References);

        Assert.True(result[TvpQtCheckKind.PlatformLogReplay].Passed, result[TvpQtCheckKind.PlatformLogReplay].Reason);
        var failure = Assert.Single(result.Failures);
        Assert.Equal(TvpQtCheckKind.PlatformReferenceValues, failure.Kind);
        Assert.Contains("event #4 (PCR 8, EV_IPL, ", failure.Reason, StringComparison.Ordinal);
        Assert.Contains($"sha256:{Convert.ToHexStringLower(evil.Single(d => d.HashAlg == TpmAlgId.Sha256).Digest)}", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("no reference value or policy rule", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_GarbledEventTagInPcr9_RejectedNamingTheEvent()
    {
        // A component event whose TCG_PCClientTaggedEvent size does not match: not a TVP-QT event, so not attributable.
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var digests = ExtendPlatform(host, 9, "rootkit image"u8.ToArray());
        var data = TvpQtEventData.ForComponent(5, "rootkit", "ManagementDomain", "management-domain").ToBytes();
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4)) + 1);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var log = InsertAfter(evidence.PlatformEventLog, "management-domain", 9, TcgEventType.EventTag, digests, data);

        var result = TvpQtVerifier.Verify(evidence with { PlatformEventLog = log }, challenge, host.References);

        Assert.True(result[TvpQtCheckKind.PlatformLogReplay].Passed, result[TvpQtCheckKind.PlatformLogReplay].Reason);
        var failure = Assert.Single(result.Failures);
        Assert.Equal(TvpQtCheckKind.PlatformReferenceValues, failure.Kind);
        Assert.Contains("event #5 (PCR 9, EV_EVENT_TAG, ", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ExtraGuestApplicationInPcr10_RejectedNamingTheEvent()
    {
        // The guest runs a miner after the agent, measured into vPCR 10 with another tool's tagged event.
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var digests = vm.Guest.Banks.Select(b => new TpmtHa(b, TpmHash.Hash(b, "/usr/bin/miner"u8))).ToArray();
        vm.Tpm.PcrExtend(10, digests);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var data = new byte[8 + 14];
        BinaryPrimitives.WriteUInt32LittleEndian(data, 0x4150_5001);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), 14);
        "/usr/bin/miner"u8.CopyTo(data.AsSpan(8));
        var log = Append(evidence.GuestEventLog, 10, TcgEventType.EventTag, digests, data);

        var result = TvpQtVerifier.Verify(evidence with { GuestEventLog = log }, challenge, host.References);

        Assert.True(result[TvpQtCheckKind.GuestLogReplay].Passed, result[TvpQtCheckKind.GuestLogReplay].Reason);
        var failure = Assert.Single(result.Failures);
        Assert.Equal(TvpQtCheckKind.GuestReferenceValues, failure.Kind);
        Assert.Contains("event #6 (PCR 10, EV_EVENT_TAG, ", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_OtherVmsLaunchEventEdited_RejectedNamingTheEvent()
    {
        // The platform log claims VM 2's vTPM was launched for another VM; the digest still replays.
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var other = host.StartVm(12);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var forged = TvpQtVerifierTests.RewriteLog(evidence.PlatformEventLog, _ => true, e => TvpQtEventData.TryParse(e) is { Tag: TvpQtEventTag.VTpmLaunch } d && d["vm"] == other.Id.ToString("D")
            ? TvpQtEventData.ForLaunch(d.Sequence, other.Launch(vmId: Guid.Parse("00000000-0000-4000-8000-00000000000b")), d.MeasuredBy).ToBytes()
            : e.EventData);

        var result = TvpQtVerifier.Verify(evidence with { PlatformEventLog = forged }, challenge, host.References);

        Assert.False(result.IsTrusted);
        Assert.True(result[TvpQtCheckKind.JunctionEvent].Passed, result[TvpQtCheckKind.JunctionEvent].Reason);
        var failure = Assert.Single(result.Failures);
        Assert.Equal(TvpQtCheckKind.PlatformReferenceValues, failure.Kind);
        Assert.Contains("launch event #9 (PCR 15, EV_EVENT_TAG, ", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("not H(code ‖ vEK public digest ‖ VM UUID) of its own fields", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ExtraIplEventAllowedByDigestRule_TrustedNamingTheRule()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var module = ExtendPlatform(host, 8, "known.ko"u8.ToArray());
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var log = InsertAfter(evidence.PlatformEventLog, "vmm", 8, TcgEventType.Ipl, module, "known.ko"u8.ToArray());
        var references = host.References with
        {
            PlatformEvents = new EventLogPolicy([EventAllowRule.ForDigests("known-module", [8], TcgEventType.Ipl, module.Where(d => d.HashAlg == TpmAlgId.Sha256))]),
        };

        var result = TvpQtVerifier.Verify(evidence with { PlatformEventLog = log }, challenge, references);

        Assert.True(result.IsTrusted, string.Join("\n", result.Failures));
        Assert.Contains("1 other event(s) allowed by policy (known-module ×1)", result[TvpQtCheckKind.PlatformReferenceValues].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RuleForAnotherPcrOrType_StillRejected()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var module = ExtendPlatform(host, 8, "known.ko"u8.ToArray());
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var log = InsertAfter(evidence.PlatformEventLog, "vmm", 8, TcgEventType.Ipl, module, "known.ko"u8.ToArray());
        var sha256 = module.Where(d => d.HashAlg == TpmAlgId.Sha256).ToArray();
        var references = host.References with
        {
            PlatformEvents = new EventLogPolicy([
                EventAllowRule.ForDigests("wrong-pcr", [9], TcgEventType.Ipl, sha256),
                EventAllowRule.ForDigests("wrong-type", [8], TcgEventType.EfiBootServicesApplication, sha256),
                EventAllowRule.ForDigests("wrong-digest", [8], TcgEventType.Ipl, [new TpmtHa(TpmAlgId.Sha256, new byte[32])]),
                EventAllowRule.Separator,
                EventAllowRule.NoAction]),
        };

        var result = TvpQtVerifier.Verify(evidence with { PlatformEventLog = log }, challenge, references);

        Assert.Contains("event #4 (PCR 8, EV_IPL, ", Assert.Single(result.Failures).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_SeparatorInPcr4_RejectedWithoutRuleTrustedWithNamedRule()
    {
        // Firmware ends pre-OS measurement with EV_SEPARATOR (data 00000000) in PCRs 0-7.
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var separator = ExtendPlatform(host, 4, [0, 0, 0, 0]);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge) is var e ? e with { PlatformEventLog = InsertAfter(e.PlatformEventLog, "boot-loader", 4, TcgEventType.Separator, separator, [0, 0, 0, 0]) } : null!;

        var denied = TvpQtVerifier.Verify(evidence, challenge, host.References);
        var allowed = TvpQtVerifier.Verify(evidence, challenge, host.References with { PlatformEvents = new EventLogPolicy([EventAllowRule.Separator]) });

        Assert.Contains("event #3 (PCR 4, EV_SEPARATOR, ", Assert.Single(denied.Failures).Reason, StringComparison.Ordinal);
        Assert.True(allowed.IsTrusted, string.Join("\n", allowed.Failures));
        Assert.Contains("(separator ×1)", allowed[TvpQtCheckKind.PlatformReferenceValues].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_SeparatorWithErrorValue_RejectedEvenWithNamedRule()
    {
        // 0xFFFFFFFF signals a measurement error (PC Client PFP §3.3.2.2); the named rule allows only 00000000.
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var separator = ExtendPlatform(host, 4, [0xff, 0xff, 0xff, 0xff]);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var log = InsertAfter(evidence.PlatformEventLog, "boot-loader", 4, TcgEventType.Separator, separator, [0xff, 0xff, 0xff, 0xff]);

        var result = TvpQtVerifier.Verify(evidence with { PlatformEventLog = log }, challenge, host.References with { PlatformEvents = new EventLogPolicy([EventAllowRule.Separator]) });

        Assert.Equal(TvpQtCheckKind.PlatformReferenceValues, Assert.Single(result.Failures).Kind);
    }

    [Fact]
    public void Verify_OtherVmsLaunchSequenceEdited_RejectedByMeasureBeforeRun()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var other = host.StartVm(12);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var forged = TvpQtVerifierTests.RewriteLog(evidence.PlatformEventLog, _ => true, e => TvpQtEventData.TryParse(e) is { Tag: TvpQtEventTag.VTpmLaunch } d && d["vm"] == other.Id.ToString("D")
            ? TvpQtEventData.ForLaunch(7, other.Launch(), d.MeasuredBy).ToBytes()
            : e.EventData);

        var result = TvpQtVerifier.Verify(evidence with { PlatformEventLog = forged }, challenge, host.References);

        var failure = Assert.Single(result.Failures);
        Assert.Equal(TvpQtCheckKind.PlatformMeasureBeforeRun, failure.Kind);
        Assert.Contains("launch event #9 has seq 7, expected 2", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_OtherVmsLaunchWithUpperCaseHex_RejectedAsNotCanonical()
    {
        // Same values, another spelling: one set of fields must have one encoding.
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var other = host.StartVm(12);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var forged = TvpQtVerifierTests.RewriteLog(evidence.PlatformEventLog, _ => true, e => TvpQtEventData.TryParse(e) is { Tag: TvpQtEventTag.VTpmLaunch } d && d["vm"] == other.Id.ToString("D")
            ? new TvpQtEventData(TvpQtEventTag.VTpmLaunch, [.. d.Fields.Select(f => f.Key == "code" ? new KeyValuePair<string, string>("code", f.Value.ToUpperInvariant()) : f)]).ToBytes()
            : e.EventData);

        var result = TvpQtVerifier.Verify(evidence with { PlatformEventLog = forged }, challenge, host.References);

        Assert.Contains("not lower-case hex", Assert.Single(result.Failures).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ComponentKindEdited_RejectedByReferenceValues()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);
        var forged = TvpQtVerifierTests.RewriteLog(evidence.PlatformEventLog, _ => true, e => TvpQtEventData.TryParse(e) is { Tag: TvpQtEventTag.Component } d && d["name"] == "vmm"
            ? TvpQtEventData.ForComponent(d.Sequence, "vmm", nameof(PlatformComponentKind.ManagementDomain), d.MeasuredBy).ToBytes()
            : e.EventData);

        var result = TvpQtVerifier.Verify(evidence with { PlatformEventLog = forged }, challenge, host.References);

        Assert.Contains("'vmm' is logged as kind 'ManagementDomain', the reference kind is 'Vmm'", Assert.Single(result.Failures).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_LaunchEventInGuestLog_RejectedNamingTheEvent()
    {
        using var host = new TestHost();
        var vm = host.StartVm(11);
        var launch = TvpQtEventData.ForLaunch(1, vm.Launch(), "trusted-junction-point").ToBytes();
        var digests = vm.Guest.Banks.Select(b => new TpmtHa(b, TpmHash.Hash(b, TrustedJunctionPoint.LaunchMeasurement(vm.Launch())))).ToArray();
        vm.Tpm.PcrExtend(10, digests);
        var challenge = host.NewChallenge();
        var evidence = host.Attest(vm, challenge);

        var result = TvpQtVerifier.Verify(evidence with { GuestEventLog = Append(evidence.GuestEventLog, 10, TcgEventType.EventTag, digests, launch) }, challenge, host.References);

        Assert.Contains("event #6 (PCR 10, EV_EVENT_TAG, ", result[TvpQtCheckKind.GuestReferenceValues].Reason, StringComparison.Ordinal);
        Assert.False(result[TvpQtCheckKind.GuestMeasureBeforeRun].Passed);
    }

    internal static TpmtHa[] ExtendPlatform(TestHost host, uint pcr, byte[] measured)
    {
        var digests = host.Platform.Banks.Select(b => new TpmtHa(b, TpmHash.Hash(b, measured))).ToArray();
        host.Hw.PcrExtend(pcr, digests);
        return digests;
    }

    /// <summary>The log with one event inserted after the component event named <paramref name="component"/>.</summary>
    internal static byte[] InsertAfter(byte[] log, string component, uint pcr, TcgEventType type, IReadOnlyList<TpmtHa> digests, byte[] data)
    {
        var parsed = TcgEventLog.Parse(log);
        var writer = new TcgEventLogWriter(parsed.SpecId.DigestSizes.Select(d => d.Algorithm));
        foreach (var e in parsed.Events)
        {
            writer.AddEventWithDigests(e.PcrIndex, e.EventType, e.Digests, e.EventData);
            if (TvpQtEventData.TryParse(e) is { Tag: TvpQtEventTag.Component } d && d["name"] == component)
            {
                writer.AddEventWithDigests(pcr, type, digests, data);
            }
        }

        return writer.ToArray();
    }

    internal static byte[] Append(byte[] log, uint pcr, TcgEventType type, IReadOnlyList<TpmtHa> digests, byte[] data)
    {
        var parsed = TcgEventLog.Parse(log);
        var writer = new TcgEventLogWriter(parsed.SpecId.DigestSizes.Select(d => d.Algorithm));
        foreach (var e in parsed.Events)
        {
            writer.AddEventWithDigests(e.PcrIndex, e.EventType, e.Digests, e.EventData);
        }

        writer.AddEventWithDigests(pcr, type, digests, data);
        return writer.ToArray();
    }
}
