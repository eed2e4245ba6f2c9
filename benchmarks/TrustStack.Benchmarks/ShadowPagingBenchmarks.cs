using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using TrustStack.Tpm.Hardware;
using TrustStack.Vmm.ShadowPaging;

namespace TrustStack.Benchmarks;

/// <summary>
/// MMU-vTPM costs (book ch. 4): translation on the TLB-hit and shadow-fill paths with and without
/// the access control, an owner's access to protected vs ordinary memory, detecting and repairing
/// a modified module, and engine command latency (ECDSA sign) on each secret-store back end.
/// </summary>
[MemoryDiagnoser]
public class ShadowPagingBenchmarks
{
    private const int Pages = 256;
    private const ulong Base = 0x0000_7F00_0000_0000UL;

    private readonly byte[] _buffer = new byte[64];
    private readonly byte[] _digest = SHA256.HashData("benchmark"u8);
    private Hypervisor _checked = null!;
    private Hypervisor _unchecked = null!;
    private AddressSpaceContext _checkedCtx = null!;
    private AddressSpaceContext _uncheckedCtx = null!;
    private MmuVTpm _module = null!;
    private VTpmPrivateRegion _private = null!;
    private ModuleIntegrityMonitor _monitor = null!;
    private SoftwareTpm _hardware = null!;
    private readonly Dictionary<string, (SoftwareTpm Engine, Tpm2 Client, uint Key)> _engines = [];

    [GlobalSetup]
    public void Setup()
    {
        (_checked, _checkedCtx) = Platform(accessControl: true);
        (_unchecked, _uncheckedCtx) = Platform(accessControl: false);
        _module = new MmuVTpm(_checked);
        _private = _module.Allocate(_checkedCtx, 64, "bench secret");
        for (var i = 0; i < Pages; i++)
        {
            _checked.Translate(_checkedCtx, Base + ((ulong)i << 12), AccessKind.Read);
            _unchecked.Translate(_uncheckedCtx, Base + ((ulong)i << 12), AccessKind.Read);
        }

        _hardware = new SoftwareTpm(new SoftwareTpmOptions { Seed = 1, AutoStartup = true, PcrBanks = [TpmAlgId.Sha256] });
        _monitor = new ModuleIntegrityMonitor(_checked, new Tpm2(_hardware), DeterministicRandomSource.FromSeed(1));
        _monitor.Load("bench module", File.ReadAllBytes(typeof(Hypervisor).Assembly.Location));

        AddEngine("managed", ManagedSecretStore.Instance);
        AddEngine("mmu-vtpm", MmuVTpmSecretStore.CreatePlatform());
        AddEngine("guarded", new GuardedMemorySecretStore());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var (engine, client, _) in _engines.Values)
        {
            client.Dispose();
            engine.Dispose();
        }

        _hardware.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Pages)]
    public ulong TlbHit_NoAccessControl() => TranslateAll(_unchecked, _uncheckedCtx);

    [Benchmark(OperationsPerInvoke = Pages)]
    public ulong TlbHit_MmuVTpm() => TranslateAll(_checked, _checkedCtx);

    [Benchmark]
    public ulong ShadowFill_NoAccessControl() => Fill(_unchecked, _uncheckedCtx);

    [Benchmark]
    public ulong ShadowFill_MmuVTpm() => Fill(_checked, _checkedCtx);

    [Benchmark]
    public TranslationStatus OwnerRead64_ProtectedFrame() => _module.Read(_private, 0, _buffer);

    [Benchmark]
    public TranslationStatus OwnerRead64_OrdinaryFrame() => _checked.Read(_checkedCtx, Base, _buffer);

    [Benchmark]
    public bool ModuleIntegrity_CheckIntact() => _monitor.Check().Intact;

    [Benchmark]
    public bool ModuleIntegrity_DetectAndRepair()
    {
        _checked.Memory.Frame(_monitor.CodeFrames[3])[17] ^= 0x90;
        return _monitor.Check().Restored;
    }

    [Benchmark]
    public TpmtSignature Sign_ManagedStore() => Sign("managed");

    [Benchmark]
    public TpmtSignature Sign_MmuVTpmStore() => Sign("mmu-vtpm");

    [Benchmark]
    public TpmtSignature Sign_GuardedStore() => Sign("guarded");

    private static (Hypervisor, AddressSpaceContext) Platform(bool accessControl)
    {
        var hv = new Hypervisor(new MachineMemory(4096), accessControl);
        var guest = hv.CreateDomain("guest", DomainKind.Guest, initialFrames: Pages, maxGuestFrames: 2048);
        var ctx = hv.CreateContext(guest, "guest");
        for (var i = 0; i < Pages; i++)
        {
            hv.GuestMap(ctx, Base + ((ulong)i << 12), (ulong)i, PageFlags.Writable | PageFlags.User);
        }

        return (hv, ctx);
    }

    private static ulong TranslateAll(Hypervisor hv, AddressSpaceContext ctx)
    {
        ulong sum = 0;
        for (var i = 0; i < Pages; i++)
        {
            sum += hv.Translate(ctx, Base + ((ulong)i << 12), AccessKind.Read).MachineAddress;
        }

        return sum;
    }

    private static ulong Fill(Hypervisor hv, AddressSpaceContext ctx)
    {
        // INVLPG drops the TLB and shadow entry, so the access takes the shadow page fault path.
        hv.Invlpg(ctx, Base);
        return hv.Translate(ctx, Base, AccessKind.Read).MachineAddress;
    }

    private void AddEngine(string name, ITpmSecretStore store)
    {
        var engine = new SoftwareTpm(new SoftwareTpmOptions { Seed = 2, AutoStartup = true, PcrBanks = [TpmAlgId.Sha256] }, secretStore: store);
        var client = new Tpm2(engine);
        var key = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256()).Handle;
        _engines[name] = (engine, client, key);
    }

    private TpmtSignature Sign(string name)
    {
        var (_, client, key) = _engines[name];
        return client.Sign(key, _digest);
    }
}
