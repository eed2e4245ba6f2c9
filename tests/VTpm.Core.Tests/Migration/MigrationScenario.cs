using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.Tests.Migration;

/// <summary>What a guest left in its vTPM before migration, and the checks that it is intact afterwards.</summary>
internal sealed record GuestState(byte[] AkName, TpmtPublic AkPublic, byte[] Pcr10, byte[] NvData)
{
    public const uint AkHandle = 0x81010002;
    public const uint NvIndex = 0x01500020;

    /// <summary>Starts the VM and provisions it: PCR 10 extended, a persistent AK, an NV index with data.</summary>
    public static GuestState Provision(VTpmManager manager, Guid vm)
    {
        manager.Start(vm);
        using var channel = manager.OpenChannel(vm);
        var tpm = new Tpm2(channel);
        tpm.PcrExtend(10, TpmAlgId.Sha256, SHA256.HashData("guest kernel"u8));
        var ak = tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        tpm.EvictControl(TpmRh.Owner, ak.Handle, AkHandle);
        tpm.FlushContext(ak.Handle);
        var nvData = SHA256.HashData("guest secret"u8);
        tpm.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(NvIndex, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead | TpmaNv.NoDA, [], 32), []);
        tpm.NvWrite(TpmRh.Owner, NvIndex, nvData);
        return new GuestState(ak.Name, ak.Public, Pcr(tpm, 10), nvData);
    }

    public static byte[] Pcr(Tpm2 tpm, int pcr) => tpm.PcrReadAll(PcrSelectionList.Create(TpmAlgId.Sha256, pcr))[(TpmAlgId.Sha256, pcr)];

    /// <summary>The vTPM answers with the same AK (a fresh quote verifies with the AK public from before), NV data and, when kept, PCR 10.</summary>
    public void AssertIntact(VTpmManager manager, Guid vm, bool pcrsKept)
    {
        if (manager.Inspect(vm).State == VTpmInstanceState.Stopped)
        {
            manager.Start(vm);
        }

        using var channel = manager.OpenChannel(vm);
        var tpm = new Tpm2(channel);
        Assert.Equal(AkName, tpm.ReadPublic(AkHandle).Name);
        var nonce = SHA256.HashData("verifier nonce"u8);
        var selection = PcrSelectionList.Create(TpmAlgId.Sha256, 10);
        var quote = tpm.Quote(AkHandle, nonce, selection);
        var values = PcrValues.Create(tpm.PcrReadAll(selection).Select(kv => (kv.Key.Bank, kv.Key.Pcr, kv.Value)));
        var verified = QuoteVerifier.Verify(new QuoteVerificationRequest(AkPublic, quote.Quoted, quote.Signature, nonce, values) { ExpectedSelection = selection });
        Assert.True(verified.IsValid, string.Join("; ", verified.Failures));
        Assert.Equal(NvData, tpm.NvRead(TpmRh.Owner, NvIndex, 32));
        if (pcrsKept)
        {
            Assert.Equal(Pcr10, values[TpmAlgId.Sha256, 10]);
        }
    }
}

/// <summary>Two hosts, a provisioned VM on the source, and the one-live-instance invariant.</summary>
internal sealed class MigrationScenario : IDisposable
{
    public MigrationScenario(ulong seed = 100)
    {
        Source = new MigrationHost("source", seed);
        Destination = new MigrationHost("destination", seed + 50);
        Vm = Source.Manager.Create().VmId;
        Guest = GuestState.Provision(Source.Manager, Vm);
        Policy = MigrationTrustPolicy.SameLayerAs(Source.Hardware, PcrSelectionList.Parse(Source.Options.VirtualizationLayerPcrs), [Destination.Destination.AttestationKeyName]);
    }

    public MigrationHost Source { get; }

    public MigrationHost Destination { get; }

    public Guid Vm { get; }

    public GuestState Guest { get; }

    public MigrationTrustPolicy Policy { get; set; }

    public static bool IsLive(VTpmInstanceState? state) => state is VTpmInstanceState.Running or VTpmInstanceState.Suspended or VTpmInstanceState.Stopped;

    /// <summary>Exactly one host can run the vTPM, and it answers as before. Returns the host that has it.</summary>
    /// <param name="pcrsKept">Whether PCR 10 must be as before; by default unless the host's manager restarted while holding the running vTPM (a power cycle).</param>
    public MigrationHost AssertExactlyOneLive(bool? pcrsKept = null)
    {
        var onSource = IsLive(Source.Manager.StateOf(Vm));
        var onDestination = IsLive(Destination.Manager.StateOf(Vm));
        Assert.True(onSource ^ onDestination, $"live on source: {onSource} ({Source.Manager.StateOf(Vm)}), live on destination: {onDestination} ({Destination.Manager.StateOf(Vm)})");
        var host = onSource ? Source : Destination;

        // A migrated vTPM resumes with its PCRs; a rolled-back one keeps them unless its manager restarted (a power cycle).
        Guest.AssertIntact(host.Manager, Vm, pcrsKept: pcrsKept ?? (onDestination || Source.Crashes == 0));
        return host;
    }

    public void Dispose()
    {
        Source.Dispose();
        Destination.Dispose();
    }
}
