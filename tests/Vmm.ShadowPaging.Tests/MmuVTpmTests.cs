namespace TrustStack.Vmm.ShadowPaging.Tests;

public sealed class MmuVTpmTests
{
    private readonly Hypervisor _hv = new(new MachineMemory(512), timeProvider: new FixedClock());
    private readonly MmuVTpm _module;
    private readonly AddressSpaceContext _vtpm;

    public MmuVTpmTests()
    {
        _module = new MmuVTpm(_hv);
        _vtpm = _hv.CreateContext(_hv.CreateDomain("vtpm-1", DomainKind.VTpm), "vtpm-1");
    }

    [Fact]
    public void Constructor_HypervisorWithoutAccessControl_Throws() =>
        Assert.Throws<ArgumentException>(() => new MmuVTpm(new Hypervisor(new MachineMemory(8), accessControlEnabled: false)));

    [Fact]
    public void Allocate_OwnerWritesAndReads_FramesProtectedForOwner()
    {
        var region = _module.Allocate(_vtpm, 100, "EPS");

        Assert.Equal(TranslationStatus.Ok, _module.Write(region, 0, new byte[100]));
        Assert.Equal(TranslationStatus.Ok, _module.Write(region, 10, [1, 2, 3]));
        var back = new byte[3];
        Assert.Equal(TranslationStatus.Ok, _module.Read(region, 10, back));

        Assert.Equal(new byte[] { 1, 2, 3 }, back);
        Assert.All(region.MachineFrames, m => Assert.Same(_vtpm, _hv.OwnerOf(m)));
        Assert.Empty(_hv.AuditLog);
    }

    [Fact]
    public void Allocate_MultiPage_ContiguousInOwner()
    {
        var region = _module.Allocate(_vtpm, 9000, "big");
        var data = Enumerable.Range(0, 9000).Select(i => unchecked((byte)i)).ToArray();

        Assert.Equal(3, region.MachineFrames.Count);
        Assert.Equal(TranslationStatus.Ok, _module.Write(region, 0, data));
        var back = new byte[9000];
        _module.Read(region, 0, back);
        Assert.Equal(data, back);
    }

    [Fact]
    public void Free_Region_FramesZeroedUnprotectedAndFreed()
    {
        var region = _module.Allocate(_vtpm, 16, "key");
        _module.Write(region, 0, Enumerable.Repeat((byte)0xEE, 16).ToArray());
        var mfn = region.MachineFrames[0];

        _module.Free(region);

        Assert.True(region.IsFreed);
        Assert.False(_hv.Memory.IsAllocated(mfn));
        Assert.True(_hv.Memory.Frame(mfn).IndexOfAnyExcept((byte)0) < 0);
        Assert.Null(_hv.OwnerOf(mfn));
        Assert.Empty(_module.Regions);
        Assert.Throws<ObjectDisposedException>(() => _module.Read(region, 0, new byte[1]));
    }

    [Fact]
    public void Read_OutsideRegion_Throws()
    {
        var region = _module.Allocate(_vtpm, 16, "key");

        Assert.Throws<ArgumentOutOfRangeException>(() => _module.Read(region, 10, new byte[7]));
    }

    [Fact]
    public void ProtectFrame_MappedElsewhere_DropsShadowAndTlbEntries()
    {
        var guest = _hv.CreateDomain("guest-1", DomainKind.Guest, initialFrames: 2);
        var ctx = _hv.CreateContext(guest, "guest-1");
        _hv.GuestMap(ctx, 0x1000, 0, PageFlags.Writable);
        Assert.True(_hv.Translate(ctx, 0x1000, AccessKind.Read).IsOk);
        guest.P2M.TryTranslate(0, out var mfn);

        var dropped = _hv.ProtectFrame(mfn, _vtpm);

        Assert.Equal(2, dropped);
        Assert.False(_hv.ReadShadowEntry(ctx, 0x1000).IsPresent);
        Assert.Equal(0, Hypervisor.TlbEntryCount(ctx));
    }
}

internal sealed class FixedClock : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
}
