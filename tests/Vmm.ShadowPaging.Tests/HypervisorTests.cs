namespace TrustStack.Vmm.ShadowPaging.Tests;

public sealed class HypervisorTests
{
    private const ulong Va = 0x0000_7F00_0000_1000UL;

    private readonly Hypervisor _hv = new(new MachineMemory(2048));
    private readonly Domain _guest;
    private readonly AddressSpaceContext _ctx;
    private readonly ulong _page;

    public HypervisorTests()
    {
        _guest = _hv.CreateDomain("guest-1", DomainKind.Guest, initialFrames: 4, maxGuestFrames: 2048);
        _ctx = _hv.CreateContext(_guest, "guest-1 init");
        _page = _hv.AllocateGuestFrame(_guest);
        _hv.GuestMap(_ctx, Va, _page, PageFlags.Writable | PageFlags.User);
    }

    [Fact]
    public void Translate_FirstAccess_ShadowFillThenTlbHit()
    {
        var first = _hv.Translate(_ctx, Va + 0x10, AccessKind.Read);
        var second = _hv.Translate(_ctx, Va + 0x20, AccessKind.Read);

        _guest.P2M.TryTranslate(_page, out var mfn);
        Assert.Equal(TranslationPath.ShadowFill, first.Path);
        Assert.Equal((mfn << 12) | 0x10, first.MachineAddress);
        Assert.Equal(TranslationPath.TlbHit, second.Path);
        Assert.Equal((mfn << 12) | 0x20, second.MachineAddress);
        Assert.Equal(mfn, _hv.ReadShadowEntry(_ctx, Va).FrameNumber);
    }

    [Fact]
    public void WriteCr3_NonGlobalEntry_FlushedThenShadowHit()
    {
        _hv.Translate(_ctx, Va, AccessKind.Read);

        _hv.WriteCr3(_ctx);

        Assert.Equal(0, Hypervisor.TlbEntryCount(_ctx));
        Assert.Equal(TranslationPath.ShadowHit, _hv.Translate(_ctx, Va, AccessKind.Read).Path);
    }

    [Fact]
    public void WriteCr3_GlobalEntry_Survives()
    {
        const ulong kernelVa = 0xFFFF_8000_0000_0000UL;
        _hv.GuestMap(_ctx, kernelVa, _hv.AllocateGuestFrame(_guest), PageFlags.Global);
        _hv.Translate(_ctx, kernelVa, AccessKind.Read);
        _hv.Translate(_ctx, Va, AccessKind.Read);

        _hv.WriteCr3(_ctx);

        Assert.Equal(1, Hypervisor.TlbEntryCount(_ctx));
        Assert.Equal(TranslationPath.TlbHit, _hv.Translate(_ctx, kernelVa, AccessKind.Read).Path);
    }

    [Fact]
    public void GuestUnmap_WithoutInvlpg_StaleTlbStillTranslates_WithInvlpg_Faults()
    {
        _hv.Translate(_ctx, Va, AccessKind.Read);

        _hv.GuestUnmap(_ctx, Va);
        var stale = _hv.Translate(_ctx, Va, AccessKind.Read);
        _hv.Invlpg(_ctx, Va);
        var after = _hv.Translate(_ctx, Va, AccessKind.Read);

        // Architectural: until INVLPG the TLB may keep the old translation.
        Assert.Equal(TranslationPath.TlbHit, stale.Path);
        Assert.Equal(TranslationStatus.GuestPageFault, after.Status);
    }

    [Fact]
    public void Write_CleanPage_SetsAccessedAndDirtyInGuestEntry()
    {
        Assert.Equal(TranslationStatus.Ok, _hv.Read(_ctx, Va, new byte[4]));
        Assert.True(_hv.TryWalk(_ctx, Va, out _, out var afterRead));
        Assert.True(afterRead.HasFlag(PageFlags.Accessed));
        Assert.False(afterRead.HasFlag(PageFlags.Dirty));
        Assert.False(_hv.ReadShadowEntry(_ctx, Va).IsWritable);

        Assert.Equal(TranslationStatus.Ok, _hv.Write(_ctx, Va, [1, 2, 3, 4]));

        Assert.True(_hv.TryWalk(_ctx, Va, out _, out var afterWrite));
        Assert.True(afterWrite.HasFlag(PageFlags.Dirty));
        Assert.True(_hv.ReadShadowEntry(_ctx, Va).IsWritable);
        var back = new byte[4];
        _hv.Read(_ctx, Va, back);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, back);
    }

    [Fact]
    public void Write_ReadOnlyPage_GuestPageFault()
    {
        const ulong ro = 0x0000_7F00_0000_5000UL;
        _hv.GuestMap(_ctx, ro, _hv.AllocateGuestFrame(_guest), PageFlags.User);

        Assert.Equal(TranslationStatus.GuestPageFault, _hv.Write(_ctx, ro, [1]));
        Assert.Equal(TranslationStatus.Ok, _hv.Read(_ctx, ro, new byte[1]));
    }

    [Fact]
    public void Read_UserModeOnSupervisorPage_GuestPageFault()
    {
        const ulong kernel = 0xFFFF_8000_0010_0000UL;
        _hv.GuestMap(_ctx, kernel, _hv.AllocateGuestFrame(_guest), PageFlags.Writable);

        Assert.Equal(TranslationStatus.GuestPageFault, _hv.Read(_ctx, kernel, new byte[1], PrivilegeLevel.User));
        Assert.Equal(TranslationStatus.Ok, _hv.Read(_ctx, kernel, new byte[1], PrivilegeLevel.Supervisor));
    }

    [Fact]
    public void Translate_ExecuteNoExecutePage_GuestPageFault()
    {
        const ulong data = 0x0000_7F00_0000_6000UL;
        _hv.GuestMap(_ctx, data, _hv.AllocateGuestFrame(_guest), PageFlags.NoExecute);

        Assert.Equal(TranslationStatus.GuestPageFault, _hv.Translate(_ctx, data, AccessKind.Execute).Status);
        Assert.Equal(TranslationStatus.Ok, _hv.Translate(_ctx, Va, AccessKind.Execute).Status);
    }

    [Fact]
    public void Translate_LargePage_OffsetSelectsGuestFrame()
    {
        const ulong large = 0x0000_4000_0000_0000UL;
        var first = _guest.NextGuestFrame;
        var aligned = (first + 511) / 512 * 512;
        while (_guest.NextGuestFrame < aligned + 512)
        {
            _hv.AllocateGuestFrame(_guest);
        }

        _hv.GuestMap(_ctx, large, aligned, PageFlags.Writable, largePage: true);
        var t = _hv.Translate(_ctx, large + (7UL << 12) + 0x123, AccessKind.Read);

        _guest.P2M.TryTranslate(aligned + 7, out var mfn);
        Assert.True(t.IsOk);
        Assert.Equal((mfn << 12) | 0x123, t.MachineAddress);
    }

    [Fact]
    public void Translate_GuestFrameNotBacked_NotBacked()
    {
        const ulong hole = 0x0000_7F00_0000_7000UL;
        _hv.GuestMap(_ctx, hole, 2000, PageFlags.Writable);

        Assert.Equal(TranslationStatus.NotBacked, _hv.Translate(_ctx, hole, AccessKind.Read).Status);
    }

    [Fact]
    public void Translate_NonCanonical_NonCanonical() =>
        Assert.Equal(TranslationStatus.NonCanonical, _hv.Translate(_ctx, 0x0000_8000_0000_0000UL, AccessKind.Read).Status);

    [Fact]
    public void LoadCr3_NewRoot_OldMappingGone()
    {
        _hv.Translate(_ctx, Va, AccessKind.Read);
        var otherRoot = _hv.AllocateGuestFrame(_guest);

        _hv.LoadCr3(_ctx, otherRoot);

        Assert.Equal(TranslationStatus.GuestPageFault, _hv.Translate(_ctx, Va, AccessKind.Read).Status);
        Assert.Equal(1, Hypervisor.ShadowFrameCount(_ctx));
    }

    [Fact]
    public void Read_CrossesPageBoundary_ReadsBothPages()
    {
        _hv.GuestMap(_ctx, Va + 0x1000, _hv.AllocateGuestFrame(_guest), PageFlags.Writable);
        byte[] data = [.. Enumerable.Range(0, 64).Select(i => (byte)i)];

        Assert.Equal(TranslationStatus.Ok, _hv.Write(_ctx, Va + 0xFE0, data));
        var back = new byte[64];
        Assert.Equal(TranslationStatus.Ok, _hv.Read(_ctx, Va + 0xFE0, back));

        Assert.Equal(data, back);
    }
}
