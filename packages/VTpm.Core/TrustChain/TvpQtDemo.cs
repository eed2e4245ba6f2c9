using System.Security.Cryptography;
using System.Text;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>One VM of the demo host: what its prover sent and what the verifier decided.</summary>
/// <param name="VmId">The VM's UUID.</param>
/// <param name="Evidence">The evidence (both quotes, both logs, the vEK).</param>
/// <param name="Challenge">The nonces the verifier sent.</param>
/// <param name="Result">The verifier's verdict.</param>
public sealed record TvpQtDemoVm(Guid VmId, TvpQtEvidence Evidence, TvpQtChallenge Challenge, TvpQtVerificationResult Result);

/// <summary>The demo host after its run.</summary>
/// <param name="PlatformEventLog">The platform event log (virtualization layer and every launch).</param>
/// <param name="References">The reference values the verifier used.</param>
/// <param name="Vms">Each VM in launch order.</param>
public sealed record TvpQtDemoResult(byte[] PlatformEventLog, TvpQtReferenceValues References, IReadOnlyList<TvpQtDemoVm> Vms)
{
    /// <summary>True when every VM verified as trusted.</summary>
    public bool AllTrusted => Vms.Count > 0 && Vms.All(v => v.Result.IsTrusted);
}

/// <summary>
/// The TVP-QT demo host (book ch. 2): measures the virtualization layer into the hardware TPM,
/// launches one VM per given vTPM through the trusted junction point (each vTPM gets an ECC
/// P-256 vEK and vAK), measures each guest's boot chain into its vTPM, then quotes both layers
/// for each VM with fresh nonces and verifies. With seeded engines and a seeded random source
/// every octet is reproducible.
/// </summary>
public static class TvpQtDemo
{
    /// <summary>The hardware PCRs the demo quotes: the virtualization layer's and the junction PCR.</summary>
    public static PcrSelectionList HardwarePcrs { get; } = PcrSelectionList.Create(TpmAlgId.Sha256,
        Enum.GetValues<PlatformComponentKind>().Select(k => (int)PlatformBootProfile.DefaultPcr(k)).Append((int)TrustedJunctionPoint.DefaultPcr).Distinct().Order());

    /// <summary>The vPCRs the demo quotes: the guest chain's.</summary>
    public static PcrSelectionList GuestPcrs { get; } = PcrSelectionList.Create(TpmAlgId.Sha256,
        Enum.GetValues<GuestComponentKind>().Select(k => (int)GuestBootProfile.DefaultPcr(k)).Distinct().Order());

    /// <summary>The code identity of the demo's vTPM build: SHA-256 of "TrustStack vTPM engine 0.1.0".</summary>
    public static byte[] VTpmCodeIdentity => SHA256.HashData("TrustStack vTPM engine 0.1.0"u8);

    /// <summary>The demo's virtualization layer: one small image per component, named after it.</summary>
    public static PlatformBootProfile PlatformProfile() =>
        PlatformBootProfile.Create(k => Encoding.UTF8.GetBytes($"TrustStack demo image: {PlatformBootProfile.DefaultName(k)} 1.0"));

    /// <summary>The demo's guest chain (the same image in every VM).</summary>
    public static GuestBootProfile GuestProfile() => new([
        Guest("ovmf", GuestComponentKind.VirtualFirmware, "OVMF 2024.02"),
        Guest("grub", GuestComponentKind.BootLoader, "grubx64.efi 2.12"),
        Guest("vmlinuz", GuestComponentKind.Kernel, "vmlinuz-6.6.0-truststack"),
        Guest("initrd", GuestComponentKind.Initrd, "initrd.img-6.6.0-truststack"),
        Guest("attestation-agent", GuestComponentKind.Application, "/usr/bin/attestation-agent 0.1"),
    ]);

    /// <summary>The reference values of the demo host, given its hardware AK's Name.</summary>
    public static TvpQtReferenceValues References(byte[] hardwareAkName)
    {
        ArgumentNullException.ThrowIfNull(hardwareAkName);
        return new TvpQtReferenceValues(TvpQtReferenceValues.From(PlatformProfile()), TvpQtReferenceValues.From(GuestProfile()), [VTpmCodeIdentity], [hardwareAkName]);
    }

    /// <summary>Runs the demo host.</summary>
    /// <param name="hardwareTpm">The hardware TPM (started, PCRs at reset, a SHA-256 bank).</param>
    /// <param name="vTpms">One started vTPM per VM.</param>
    /// <param name="random">Source of VM UUIDs and nonces.</param>
    /// <exception cref="ArgumentException">No vTPM given.</exception>
    /// <exception cref="TpmException">A TPM refused a command.</exception>
    public static TvpQtDemoResult Run(ITpmTransport hardwareTpm, IReadOnlyList<ITpmTransport> vTpms, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(hardwareTpm);
        ArgumentNullException.ThrowIfNull(vTpms);
        ArgumentNullException.ThrowIfNull(random);
        if (vTpms.Count == 0)
        {
            throw new ArgumentException("Give at least one vTPM.", nameof(vTpms));
        }

        using var hw = new Tpm2(hardwareTpm, random);
        var platform = new PlatformMeasurement(hw);
        platform.MeasureBoot(PlatformProfile());
        var junction = new TrustedJunctionPoint(platform);
        var ak = hw.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());

        // VMs start one after another; each guest boots (and measures) once its vTPM is launched.
        var vms = new List<(Guid Id, Tpm2 Tpm, CreatePrimaryResult Ek, CreatePrimaryResult Ak, GuestMeasurement Guest)>();
        try
        {
            foreach (var transport in vTpms)
            {
                var v = new Tpm2(transport, random);
                var ek = v.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
                var vmId = NewUuid(random);
                junction.OnLaunch(new VTpmLaunch(vmId, VTpmCodeIdentity, ek.Name[2..], ek.Name));
                var guest = new GuestMeasurement(v);
                guest.MeasureBoot(GuestProfile());
                var vak = v.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
                vms.Add((vmId, v, ek, vak, guest));
            }

            var references = References(ak.Name);
            var results = new List<TvpQtDemoVm>();
            foreach (var (id, v, ek, vak, guest) in vms)
            {
                var challenge = new TvpQtChallenge(random.GetBytes(32), random.GetBytes(32));
                var evidence = new TvpQtEvidence(
                    id,
                    ek.Public,
                    Quote(hw, ak, challenge.HardwareNonce, HardwarePcrs),
                    Quote(v, vak, challenge.VTpmNonce, GuestPcrs),
                    platform.GetEventLog(),
                    guest.GetEventLog());
                results.Add(new TvpQtDemoVm(id, evidence, challenge, TvpQtVerifier.Verify(evidence, challenge, references)));
            }

            return new TvpQtDemoResult(platform.GetEventLog(), references, results);
        }
        finally
        {
            foreach (var vm in vms)
            {
                vm.Tpm.FlushContext(vm.Ak.Handle);
                vm.Tpm.FlushContext(vm.Ek.Handle);
                vm.Tpm.Dispose();
            }

            hw.FlushContext(ak.Handle);
        }
    }

    /// <summary>Quotes <paramref name="pcrs"/> with <paramref name="ak"/> and reads the quoted values, as a prover does.</summary>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public static QuoteEvidence Quote(Tpm2 tpm, CreatePrimaryResult ak, byte[] nonce, PcrSelectionList pcrs)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(ak);
        var quote = tpm.Quote(ak.Handle, nonce, pcrs);
        var values = tpm.PcrReadAll(pcrs);
        return new QuoteEvidence(quote.Quoted, quote.Signature, ak.Public, PcrValues.Create(values.Select(kv => (kv.Key.Bank, kv.Key.Pcr, kv.Value))));
    }

    /// <summary>A version-4 UUID from <paramref name="random"/> (RFC 9562 §5.4), so a seeded run names its VMs reproducibly.</summary>
    public static Guid NewUuid(IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var bytes = random.GetBytes(16);
        bytes[6] = unchecked((byte)((bytes[6] & 0x0f) | 0x40));
        bytes[8] = unchecked((byte)((bytes[8] & 0x3f) | 0x80));
        return new Guid(bytes, bigEndian: true);
    }

    private static GuestComponent Guest(string name, GuestComponentKind kind, string image) =>
        new(name, kind, GuestBootProfile.DefaultPcr(kind), Encoding.UTF8.GetBytes(image));
}
