namespace TrustStack.Vmm.ShadowPaging.Tests;

public sealed class MmuVTpmSecretStoreTests
{
    [Fact]
    public void Store_CopyTo_RoundTripsThroughOwnerMmu()
    {
        var store = MmuVTpmSecretStore.CreatePlatform(256);
        byte[] value = [1, 2, 3, 4, 5, 6, 7];

        using var secret = store.Store(value, "EPS");
        var copy = new byte[7];
        secret.CopyTo(copy);

        Assert.Equal(value, copy);
        var region = Assert.Single(store.Regions);
        Assert.Equal("EPS", region.Purpose);
        Assert.Same(store.Context, store.Hypervisor.OwnerOf(region.MachineFrames[0]));
        Assert.False(store.AllowsDerivedKeyCaching);
    }

    [Fact]
    public void Dispose_Secret_FreesAndZeroesFrames()
    {
        var store = MmuVTpmSecretStore.CreatePlatform(256);
        var secret = store.Store([9, 9, 9], "key");
        var mfn = store.Regions[0].MachineFrames[0];

        secret.Dispose();

        Assert.Empty(store.Regions);
        Assert.False(store.Hypervisor.Memory.IsAllocated(mfn));
        Assert.Throws<ObjectDisposedException>(() => secret.CopyTo(new byte[3]));
    }

    [Fact]
    public void ManagementDomain_ReadsEngineSeedFrame_Denied()
    {
        var store = MmuVTpmSecretStore.CreatePlatform(256);
        using var secret = store.Store([.. Enumerable.Repeat((byte)0x77, 64)], "EPS");
        var hv = store.Hypervisor;
        var dom0 = hv.Domains.Single(d => d.Kind == DomainKind.Management);
        var ctx = hv.Contexts.Single(c => c.Domain == dom0);
        hv.MapForeignFrame(dom0, 15, store.Regions[0].MachineFrames[0]);
        hv.GuestMap(ctx, 0x4000_0000, 15, PageFlags.Writable);

        var stolen = new byte[64];
        Assert.Equal(TranslationStatus.Denied, hv.Read(ctx, 0x4000_0000, stolen));

        Assert.True(stolen.AsSpan().IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal("dom0", Assert.Single(hv.AuditLog).ContextName);
    }

    [Fact]
    public void SoftwareTpm_OnMmuVTpmStore_CreatePrimaryAndSignVerify()
    {
        var store = MmuVTpmSecretStore.CreatePlatform();

        SecretStoreEngineCheck.CreatePrimaryAndSign(store, () =>
        {
            Assert.Contains(store.Regions, r => r.Purpose == "EPS");
            Assert.Contains(store.Regions, r => r.Purpose.EndsWith("sensitive", StringComparison.Ordinal));
        });

        // Disposing the engine zeroed and freed every protected frame.
        Assert.Empty(store.Regions);
        Assert.Empty(store.Hypervisor.AuditLog);
    }

    [Fact]
    public void Constructor_ForeignContext_Throws()
    {
        var a = MmuVTpmSecretStore.CreatePlatform(128);
        var b = MmuVTpmSecretStore.CreatePlatform(128);

        Assert.Throws<ArgumentException>(() => new MmuVTpmSecretStore(a.Module, b.Context));
    }
}
