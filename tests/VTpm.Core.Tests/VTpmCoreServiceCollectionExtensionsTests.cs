using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.Tests;

public sealed class VTpmCoreServiceCollectionExtensionsTests
{
    [Fact]
    public void AddVTpmCore_WithTpmHardware_ResolvesOneManagerUsingTheRegisteredSecretStoreAndObservers()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-vtpm-di-").FullName;
        try
        {
            var store = new CountingSecretStore();
            var observer = new RecordingObserver();
            var services = new ServiceCollection()
                .AddSingleton<ITpmSecretStore>(store)
                .AddSingleton<IVTpmLaunchObserver>(observer)
                .AddTpmHardware()
                .AddVTpmCore(o => o.StateDirectory = dir)
                .AddVTpmCore();
            using var provider = services.BuildServiceProvider();

            var manager = provider.GetRequiredService<VTpmManager>();
            Assert.Same(manager, provider.GetRequiredService<VTpmManager>());
            var vm = manager.Create().VmId;
            manager.Start(vm);

            Assert.Single(observer.Launches);
            Assert.Contains("EPS", store.Purposes);
            Assert.True(File.Exists(Path.Combine(dir, "vtpm-state-key.sealed")));
            Assert.Single(services, d => d.ServiceType == typeof(VTpmManager));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AddVTpmCore_BadPcrSelection_FailsValidation()
    {
        using var provider = new ServiceCollection().AddVTpmCore(o => o.VirtualizationLayerPcrs = "sha999:0").BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<VTpmCoreOptions>>().Value);
        Assert.Contains("VirtualizationLayerPcrs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddVTpmCore_NegativeOfferRate_FailsValidation()
    {
        using var provider = new ServiceCollection().AddVTpmCore(o => o.IncomingMigrations.OffersPerSecond = -1).BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<VTpmCoreOptions>>().Value);
        Assert.Contains("IncomingMigrations.OffersPerSecond", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddVTpmCore_WithoutStateFolder_ManagerWorksInMemory()
    {
        using var provider = new ServiceCollection().AddVTpmCore().BuildServiceProvider();
        var manager = provider.GetRequiredService<VTpmManager>();

        Assert.Equal(VTpmInstanceState.Running, manager.Start(manager.Create().VmId).State);
    }
}
