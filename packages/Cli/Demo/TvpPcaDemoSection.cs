using System.Security.Cryptography;
using TrustStack.Attestation.TvpPca;
using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Cli.Demo;

/// <summary>One attestation of the TVP-PCA section: the step line and the reasons worth showing under it.</summary>
internal sealed record TvpPcaDemoStep(DemoStep Step, IReadOnlyList<string> Details);

/// <summary>What the TVP-PCA section showed; <see cref="Passed"/> only if every trusted VM verified and every attack was rejected.</summary>
internal sealed record TvpPcaDemoReport(IReadOnlyList<string> Header, IReadOnlyList<TvpPcaDemoStep> Steps)
{
    public bool Passed => Steps.Count > 0 && Steps.All(s => s.Step.Passed);
}

/// <summary>
/// Book ch. 5 in the demo: a TVP-PCA host (hardware TPM with a manufacturer EK certificate, VMEK,
/// three VMs with vTPMs, vEK and vAIK certificates from the Privacy CA), each VM attested top-down
/// by a challenger and trusted; then a guest that ran unmeasured code and a VM quote relayed from
/// another platform (cuckoo attack), both rejected with their reasons.
/// </summary>
internal static class TvpPcaDemoSection
{
    /// <summary>The fixed clock of the seeded run (certificate dates, TPM clocks).</summary>
    private static readonly DateTimeOffset s_epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Runs the section. With a seed everything (CA keys, engines, VM UUIDs, nonces, certificate
    /// dates) derives from it; without one the CAs use the system randomness and clock and the
    /// host seed is drawn from <paramref name="random"/>. The host always runs on embedded engines:
    /// its initialization needs a hardware TPM whose EK certificate and VMEK it makes itself.
    /// </summary>
    public static TvpPcaDemoReport Run(ulong? seed, IRandomSource random)
    {
        TimeProvider clock = seed is null ? TimeProvider.System : new FixedTimeProvider(s_epoch);
        IRandomSource Source(ulong salt) => seed is { } s ? DeterministicRandomSource.FromSeed(s ^ salt) : SystemRandomSource.Instance;
        var hostSeed = seed is { } n ? unchecked(n + 200) : BitConverter.ToUInt64(random.GetBytes(8));
        var manufacturer = new ManufacturerCa(Source(0x3A_4E_0F_AC), clock);
        var pca = new TvpPcaPrivacyCa(new PrivacyCa([manufacturer.Certificate], Source(0x9C_A0_9C_A0), clock));

        using var host = TvpPcaHost.Create(pca, manufacturer, clock, new TvpPcaHostOptions { VmCount = 3, Seed = hostSeed });
        using var elsewhere = TvpPcaHost.Create(pca, manufacturer, clock, new TvpPcaHostOptions { VmCount = 1, Seed = unchecked(hostSeed + 1) });
        var relay = new RelayingTransport(host.Transport);
        var challenger = new Challenger(relay, TvpPcaHost.CreateVerifier(pca, clock, TvpPcaHost.ExpectedReferences), Source(0xC4_A1_1E_96));

        var header = new List<string>
        {
            $"TVP-PCA host (book ch. 5): hardware EK {Convert.ToHexString(host.Ek.EccEk!.GetName())}, embedded engines",
            $"  initialization: AIK certificate {host.Service.Aik.Certificate.SerialNumber} and VMEK certificate {host.Vmek.Certificate!.SerialNumber} by the Privacy CA; per VM a vEK certificate signed by the VMEK and a vAIK certificate",
        };
        var steps = new List<TvpPcaDemoStep>();
        foreach (var agent in host.Agents)
        {
            var a = challenger.Attest(agent.VmId);
            var r = a.Result;
            steps.Add(new TvpPcaDemoStep(
                new DemoStep($"VM {agent.VmId} attested top-down", r.IsTrusted, $"{(r.IsTrusted ? "trusted" : "NOT TRUSTED")}: {Counts(r)}"),
                r.IsTrusted
                    ? [
                        $"vAIK chain: vAIK {a.TopResponse.VAikChain[0].SerialNumber} -> vEK {a.TopResponse.VAikChain[1].SerialNumber} (VMEK) -> VMEK {a.TopResponse.VAikChain[2].SerialNumber} -> Privacy CA",
                        Short(r[TvpPcaCheck.SameHardwareEk]),
                        Short(r[TvpPcaCheck.JunctionEvent]),
                        Short(r[TvpPcaCheck.NonceChain]),
                    ]
                    : [.. r.Failures.Select(f => f.ToString())]));
        }

        // Attack 1: code runs in the guest of VM 2 without being measured into its log (a module
        // loaded behind IMA's back): the vPCR moved, the guest log did not.
        var tampered = host.Agents[1];
        var module = SHA256.HashData("rootkit.ko"u8);
        tampered.VTpm.PcrExtend(GuestBootProfile.DefaultPcr(GuestComponentKind.Application), TpmAlgId.Sha256, module);
        steps.Add(Rejected($"VM {tampered.VmId} guest tampered", "an unlogged measurement in vPCR 10", challenger.Attest(tampered.VmId).Result, TvpPcaCheck.GuestLogReplay));

        // Attack 2 (cuckoo): VM 3 relays N1 to a genuine VM on another platform and passes its quote off as its own.
        var victim = host.Agents[2];
        relay.Relay = (victim.VmId, elsewhere.Transport, elsewhere.Agents[0].VmId);
        steps.Add(Rejected($"VM {victim.VmId} cuckoo relay", "a VM quote from a second platform", challenger.Attest(victim.VmId).Result, TvpPcaCheck.SameHardwareEk, TvpPcaCheck.JunctionEvent));
        relay.Relay = null;
        return new TvpPcaDemoReport(header, steps);
    }

    /// <summary>Prints the section under the report of the earlier sections.</summary>
    public static void Print(TvpPcaDemoReport report, bool externalTpm, TextWriter output)
    {
        output.WriteLine();
        foreach (var line in report.Header)
        {
            output.WriteLine($"  {line}");
        }

        if (externalTpm)
        {
            output.WriteLine("  (the --tpm TPM is not used here: the TVP-PCA host manufactures its own hardware TPM, EK certificate and VMEK on embedded engines)");
        }

        var width = report.Steps.Max(s => s.Step.Name.Length);
        foreach (var (step, details) in report.Steps)
        {
            output.WriteLine($"  [{(step.Passed ? " OK " : "FAIL")}] {step.Name.PadRight(width)}  {step.Detail}");
            foreach (var d in details)
            {
                output.WriteLine($"         {d}");
            }
        }
    }

    private static TvpPcaDemoStep Rejected(string name, string attack, TvpPcaResult r, params TvpPcaCheck[] expected)
    {
        // The step passes when the challenger says untrusted, and for the expected reasons.
        var asExpected = !r.IsTrusted && expected.All(c => !r[c].Passed);
        var detail = r.IsTrusted ? $"{attack}: TRUSTED — the attack was not detected" : $"{attack}: untrusted, {Counts(r)}";
        return new TvpPcaDemoStep(new DemoStep(name, asExpected, detail), [.. r.Failures.Select(f => f.ToString())]);
    }

    private static string Counts(TvpPcaResult r)
    {
        static string Of(TvpPcaDecision d) => $"{d.Layer.ToString().ToLowerInvariant()} {d.Reasons.Count(x => x.Passed)}/{d.Reasons.Count}";
        return $"{Of(r.Top)}, {Of(r.Bottom)}, {Of(r.Sameness)} checks";
    }

    private static string Short(TvpPcaReason reason) => $"{reason.Check}: {reason.Reason}";

    /// <summary>The platform side of the cuckoo attack: answers one VM's top challenge with a relayed answer from another platform.</summary>
    private sealed class RelayingTransport(ITvpPcaTransport inner) : ITvpPcaTransport
    {
        public (Guid Vm, ITvpPcaTransport Other, Guid OtherVm)? Relay { get; set; }

        public TopResponse RequestTop(TopChallenge challenge) =>
            Relay is { } r && r.Vm == challenge.VmId
                ? r.Other.RequestTop(challenge with { VmId = r.OtherVm }) with { VmId = r.Vm }
                : inner.RequestTop(challenge);

        public BottomResponse RequestBottom(BottomChallenge challenge) => inner.RequestBottom(challenge);
    }
}
