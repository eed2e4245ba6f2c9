namespace TrustStack.Vmm.ShadowPaging.Tests;

/// <summary>Each named attack on vTPM private memory must be denied and audited (book ch. 4 threat model).</summary>
public sealed class MmuVTpmAttackTests
{
    private const ulong AttackVa = 0x0000_6000_0000_0000UL;
    private static readonly byte[] s_secret = [.. Enumerable.Range(0, 64).Select(i => (byte)(0xC0 ^ i))];

    private readonly Hypervisor _hv = new(new MachineMemory(1024), timeProvider: new FixedClock());
    private readonly MmuVTpm _module;
    private readonly AddressSpaceContext _vtpm;
    private readonly VTpmPrivateRegion _vek;
    private readonly ulong _vekFrame;

    public MmuVTpmAttackTests()
    {
        _module = new MmuVTpm(_hv);
        _vtpm = _hv.CreateContext(_hv.CreateDomain("vtpm-1", DomainKind.VTpm), "vtpm-1");
        _vek = _module.Allocate(_vtpm, s_secret.Length, "vEK private");
        Assert.Equal(TranslationStatus.Ok, _module.Write(_vek, 0, s_secret));
        _vekFrame = _vek.MachineFrames[0];
    }

    [Theory]
    [InlineData(AccessKind.Read)]
    [InlineData(AccessKind.Write)]
    public void ManagementDomain_ForeignMapsVTpmFrame_DeniedAndAudited(AccessKind access)
    {
        var dom0 = _hv.CreateDomain("Domain-0", DomainKind.Management, initialFrames: 4);
        var ctx = _hv.CreateContext(dom0, "qemu-dm");

        var denial = Attack(dom0, ctx, access, PrivilegeLevel.User);

        Assert.Equal(DenialReason.ProtectedFrameOnShadowFill, denial.Reason);
        Assert.Equal(DomainKind.Management, denial.DomainKind);
    }

    [Theory]
    [InlineData(AccessKind.Read)]
    [InlineData(AccessKind.Write)]
    public void AnotherGuest_MapsVTpmFrame_DeniedAndAudited(AccessKind access)
    {
        var guest = _hv.CreateDomain("guest-2", DomainKind.Guest, initialFrames: 4);
        var ctx = _hv.CreateContext(guest, "guest-2 user");

        var denial = Attack(guest, ctx, access, PrivilegeLevel.User);

        Assert.Equal(DenialReason.ProtectedFrameOnShadowFill, denial.Reason);
        Assert.Equal(DomainKind.Guest, denial.DomainKind);
    }

    [Theory]
    [InlineData(AccessKind.Read)]
    [InlineData(AccessKind.Write)]
    public void GuestKernel_MapsVTpmFrameSupervisor_DeniedAndAudited(AccessKind access)
    {
        var guest = _hv.CreateDomain("guest-1", DomainKind.Guest, initialFrames: 4);
        var kernel = _hv.CreateContext(guest, "guest-1 kernel");

        var denial = Attack(guest, kernel, access, PrivilegeLevel.Supervisor);

        Assert.Equal(PrivilegeLevel.Supervisor, denial.Privilege);
    }

    [Theory]
    [InlineData(AccessKind.Read)]
    [InlineData(AccessKind.Write)]
    public void StaleTlbEntry_FromBeforeProtection_DeniedAndAudited(AccessKind access)
    {
        // The guest had the frame mapped (it was its memory) and cached in the TLB; then the frame
        // became vTPM private memory. ProtectFrame shoots the TLB entry down; a missed shootdown is
        // planted by hand, and the check on the TLB-hit path still denies it.
        var guest = _hv.CreateDomain("guest-3", DomainKind.Guest, initialFrames: 4);
        var ctx = _hv.CreateContext(guest, "guest-3");
        Hypervisor.PlantStaleTlbEntry(ctx, AttackVa, _vekFrame, PageFlags.Writable | PageFlags.User | PageFlags.Dirty);

        var result = access == AccessKind.Read ? _hv.Read(ctx, AttackVa, new byte[8]) : _hv.Write(ctx, AttackVa, new byte[8]);

        Assert.Equal(TranslationStatus.Denied, result);
        var denial = Assert.Single(_hv.AuditLog);
        Assert.Equal(DenialReason.ProtectedFrameOnTlbHit, denial.Reason);
        Assert.Equal(access, denial.Access);
        Assert.Equal(_vekFrame, denial.MachineFrame);
        AssertSecretIntact();
    }

    [Fact]
    public void StaleTlbEntry_FrameReassignedToVTpm_ShotDownThenDenied()
    {
        var guest = _hv.CreateDomain("guest-4", DomainKind.Guest, initialFrames: 4);
        var ctx = _hv.CreateContext(guest, "guest-4");
        _hv.GuestMap(ctx, AttackVa, 0, PageFlags.Writable);
        Assert.Equal(TranslationStatus.Ok, _hv.Write(ctx, AttackVa, [1]));
        guest.P2M.TryTranslate(0, out var mfn);

        var dropped = _hv.ProtectFrame(mfn, _vtpm);
        var result = _hv.Read(ctx, AttackVa, new byte[1]);

        Assert.True(dropped >= 2);
        Assert.Equal(TranslationStatus.Denied, result);
        Assert.Equal(DenialReason.ProtectedFrameOnShadowFill, Assert.Single(_hv.AuditLog).Reason);
    }

    [Fact]
    public void GuestKernel_UsesVTpmFrameAsPageTable_DeniedAndAudited()
    {
        var guest = _hv.CreateDomain("guest-5", DomainKind.Guest, initialFrames: 4);
        var ctx = _hv.CreateContext(guest, "guest-5 kernel");
        _hv.MapForeignFrame(guest, 100, _vekFrame);

        _hv.LoadCr3(ctx, 100);
        var result = _hv.Translate(ctx, 0x1000, AccessKind.Read);

        Assert.Equal(TranslationStatus.Denied, result.Status);
        Assert.Equal(DenialReason.ProtectedPageTable, Assert.Single(_hv.AuditLog).Reason);
        Assert.Throws<UnauthorizedAccessException>(() => _hv.GuestMap(ctx, 0x2000, 0, PageFlags.Writable));
        AssertSecretIntact();
    }

    [Fact]
    public void Owner_ReadsOwnFrame_Allowed()
    {
        var back = new byte[s_secret.Length];

        Assert.Equal(TranslationStatus.Ok, _module.Read(_vek, 0, back));

        Assert.Equal(s_secret, back);
        Assert.Empty(_hv.AuditLog);
    }

    [Fact]
    public void AccessControlDisabled_ManagementDomainReadsSecret_TheThreat()
    {
        // The same platform without MMU-vTPM: dom0 reads the vTPM's key. This is what the module prevents.
        var hv = new Hypervisor(new MachineMemory(64), accessControlEnabled: false);
        var vtpm = hv.CreateDomain("vtpm", DomainKind.VTpm, initialFrames: 1);
        vtpm.P2M.TryTranslate(0, out var mfn);
        hv.Memory.Frame(mfn)[0] = 0x5A;
        var dom0 = hv.CreateDomain("Domain-0", DomainKind.Management, initialFrames: 1);
        var ctx = hv.CreateContext(dom0, "dom0");
        hv.MapForeignFrame(dom0, 50, mfn);
        hv.GuestMap(ctx, AttackVa, 50, PageFlags.Writable);

        var stolen = new byte[1];
        Assert.Equal(TranslationStatus.Ok, hv.Read(ctx, AttackVa, stolen));

        Assert.Equal(0x5A, stolen[0]);
    }

    private AccessDenial Attack(Domain domain, AddressSpaceContext ctx, AccessKind access, PrivilegeLevel privilege)
    {
        const ulong gfn = 200;
        _hv.MapForeignFrame(domain, gfn, _vekFrame);
        _hv.GuestMap(ctx, AttackVa, gfn, PageFlags.Writable | PageFlags.User | PageFlags.Dirty);

        var buffer = new byte[s_secret.Length];
        var result = access == AccessKind.Read
            ? _hv.Read(ctx, AttackVa, buffer, privilege)
            : _hv.Write(ctx, AttackVa, new byte[8], privilege);

        Assert.Equal(TranslationStatus.Denied, result);
        Assert.True(buffer.AsSpan().IndexOfAnyExcept((byte)0) < 0);
        Assert.False(_hv.ReadShadowEntry(ctx, AttackVa).IsPresent);
        Assert.Equal(0, Hypervisor.TlbEntryCount(ctx));
        var denial = Assert.Single(_hv.AuditLog);
        Assert.Equal(ctx.Id, denial.ContextId);
        Assert.Equal(_vekFrame, denial.MachineFrame);
        Assert.Equal(access, denial.Access);
        Assert.Equal(AttackVa, denial.VirtualAddress);
        Assert.Equal("vtpm-1", denial.OwnerContextName);
        Assert.Equal(new FixedClock().GetUtcNow(), denial.Time);
        AssertSecretIntact();
        return denial;
    }

    private void AssertSecretIntact()
    {
        var back = new byte[s_secret.Length];
        Assert.Equal(TranslationStatus.Ok, _module.Read(_vek, 0, back));
        Assert.Equal(s_secret, back);
    }
}
