using Microsoft.Extensions.DependencyInjection;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Vmm.ShadowPaging.Tests;

public sealed class ShadowPagingServiceCollectionExtensionsTests
{
    [Fact]
    public void AddShadowPaging_DefaultAfterTpmHardware_EngineUsesMmuVTpmStore()
    {
        using var sp = new ServiceCollection()
            .AddTpmHardware(o => o.Seed = 1)
            .AddShadowPaging()
            .BuildServiceProvider(validateScopes: true);

        var store = Assert.IsType<MmuVTpmSecretStore>(sp.GetRequiredService<ITpmSecretStore>());
        var tpm = sp.GetRequiredService<Tpm2>();
        var key = tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());

        Assert.Contains(store.Regions, r => r.Purpose.StartsWith("object", StringComparison.Ordinal));
        Assert.Same(store.Hypervisor, sp.GetRequiredService<Hypervisor>());
        tpm.FlushContext(key.Handle);
    }

    [Fact]
    public void AddShadowPaging_GuardedBeforeTpmHardware_EngineUsesGuardedStore()
    {
        using var sp = new ServiceCollection()
            .AddShadowPaging(o => o.Backend = SecretStoreBackend.GuardedMemory)
            .AddTpmHardware(o => o.Seed = 1)
            .BuildServiceProvider(validateScopes: true);

        Assert.IsType<GuardedMemorySecretStore>(sp.GetRequiredService<ITpmSecretStore>());
        var tpm = sp.GetRequiredService<Tpm2>();
        var key = tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256());
        var digest = new byte[32];
        Assert.True(TpmSignatureVerifier.Verify(key.Public, digest, tpm.Sign(key.Handle, digest)));
    }

    [Fact]
    public void AddShadowPaging_Disabled_KeepsManagedStore()
    {
        using var sp = new ServiceCollection().AddTpmHardware().AddShadowPaging(o => o.Enabled = false).BuildServiceProvider();

        Assert.Same(ManagedSecretStore.Instance, sp.GetRequiredService<ITpmSecretStore>());
    }

    [Fact]
    public void AddShadowPaging_CallerStore_NotReplaced()
    {
        var mine = new GuardedMemorySecretStore();
        var services = new ServiceCollection();
        services.AddSingleton<ITpmSecretStore>(mine);

        using var sp = services.AddShadowPaging().BuildServiceProvider();

        Assert.Same(mine, sp.GetRequiredService<ITpmSecretStore>());
    }

    [Fact]
    public void AddShadowPaging_Twice_OneStoreRegistration()
    {
        var services = new ServiceCollection().AddShadowPaging().AddShadowPaging();

        Assert.Single(services, d => d.ServiceType == typeof(ITpmSecretStore));
    }

    [Fact]
    public void AddShadowPaging_BadFrames_FailsValidation()
    {
        using var sp = new ServiceCollection().AddShadowPaging(o => o.MachineFrames = 1).BuildServiceProvider();

        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<ShadowPagingOptions>>().Value);
    }
}
