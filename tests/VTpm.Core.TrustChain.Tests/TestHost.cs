using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.TrustChain.Tests;

/// <summary>A VM of a <see cref="TestHost"/>: its vTPM engine, vEK, vAK and guest measurement.</summary>
internal sealed class TestVm(Guid id, SoftwareTpm engine, Tpm2 tpm, CreatePrimaryResult ek, CreatePrimaryResult ak, GuestMeasurement guest) : IDisposable
{
    public Guid Id { get; } = id;

    public Tpm2 Tpm { get; } = tpm;

    public CreatePrimaryResult Ek { get; } = ek;

    public CreatePrimaryResult Ak { get; } = ak;

    public GuestMeasurement Guest { get; } = guest;

    public VTpmLaunch Launch(Guid? vmId = null, byte[]? code = null) => new(vmId ?? Id, code ?? TvpQtDemo.VTpmCodeIdentity, Ek.Name[2..], Ek.Name);

    public void Dispose()
    {
        Tpm.Dispose();
        engine.Dispose();
    }
}

/// <summary>A TVP-QT host built from seeded software TPMs: the hTPM, the measured platform, the junction point, and VMs with their own vTPMs.</summary>
internal sealed class TestHost : IDisposable
{
    private static readonly DateTimeOffset s_epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly SoftwareTpm _engine;
    private readonly List<TestVm> _vms = [];
    private readonly DeterministicRandomSource _random;

    public TestHost(ulong seed = 1, PlatformBootProfile? profile = null)
    {
        _random = DeterministicRandomSource.FromSeed(seed + 1000);
        _engine = new SoftwareTpm(new SoftwareTpmOptions { Seed = seed, AutoStartup = true }, timeProvider: new FixedTimeProvider(s_epoch));
        Hw = new Tpm2(_engine, _random);
        Platform = new PlatformMeasurement(Hw);
        Platform.MeasureBoot(profile ?? TvpQtDemo.PlatformProfile());
        Junction = new TrustedJunctionPoint(Platform);
        Ak = Hw.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
    }

    public Tpm2 Hw { get; }

    public PlatformMeasurement Platform { get; }

    public TrustedJunctionPoint Junction { get; }

    public CreatePrimaryResult Ak { get; }

    public IReadOnlyList<TestVm> Vms => _vms;

    public TvpQtReferenceValues References => TvpQtDemo.References(Ak.Name);

    /// <summary>Starts a VM: creates its vTPM and vEK, lets the junction point measure the launch (unless told not to), boots the guest, creates the vAK.</summary>
    public TestVm StartVm(ulong vtpmSeed, bool throughJunction = true, byte[]? code = null, GuestBootProfile? guest = null)
    {
        var engine = new SoftwareTpm(new SoftwareTpmOptions { Seed = vtpmSeed, AutoStartup = true }, timeProvider: new FixedTimeProvider(s_epoch));
        var tpm = new Tpm2(engine, _random);
        var ek = tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        var id = TvpQtDemo.NewUuid(_random);
        var measurement = new GuestMeasurement(tpm);
        if (throughJunction)
        {
            Junction.OnLaunch(new VTpmLaunch(id, code ?? TvpQtDemo.VTpmCodeIdentity, ek.Name[2..], ek.Name));
        }

        measurement.MeasureBoot(guest ?? TvpQtDemo.GuestProfile());
        var ak = tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        var vm = new TestVm(id, engine, tpm, ek, ak, measurement);
        _vms.Add(vm);
        return vm;
    }

    public TvpQtChallenge NewChallenge() => new(_random.GetBytes(32), _random.GetBytes(32));

    /// <summary>What the prover of <paramref name="vm"/> answers to <paramref name="challenge"/>.</summary>
    public TvpQtEvidence Attest(TestVm vm, TvpQtChallenge challenge) => new(
        vm.Id,
        vm.Ek.Public,
        TvpQtDemo.Quote(Hw, Ak, challenge.HardwareNonce, TvpQtDemo.HardwarePcrs),
        TvpQtDemo.Quote(vm.Tpm, vm.Ak, challenge.VTpmNonce, TvpQtDemo.GuestPcrs),
        Platform.GetEventLog(),
        vm.Guest.GetEventLog());

    public TvpQtVerificationResult AttestAndVerify(TestVm vm)
    {
        var challenge = NewChallenge();
        return TvpQtVerifier.Verify(Attest(vm, challenge), challenge, References);
    }

    public void Dispose()
    {
        foreach (var vm in _vms)
        {
            vm.Dispose();
        }

        Hw.Dispose();
        _engine.Dispose();
        _random.Dispose();
    }
}
