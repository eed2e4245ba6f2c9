using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace TrustStack.Tpm.Hardware.Tests;

public sealed class TpmHardwareServiceCollectionExtensionsTests
{
    [Fact]
    public void AddTpmHardware_ResolvesStartedEngineAndClient()
    {
        using var provider = new ServiceCollection().AddTpmHardware(o => o.Seed = 5).BuildServiceProvider();
        var client = provider.GetRequiredService<Tpm2>();
        Assert.Same(provider.GetRequiredService<SoftwareTpm>(), provider.GetRequiredService<ITpmTransport>());
        Assert.True(provider.GetRequiredService<SoftwareTpm>().IsStarted);
        Assert.Equal(16, client.GetRandom(16).Length);
    }

    [Fact]
    public void AddTpmHardware_CalledTwice_RegistersOnce()
    {
        var services = new ServiceCollection().AddTpmHardware().AddTpmHardware();
        Assert.Single(services, d => d.ServiceType == typeof(SoftwareTpm));
    }

    [Fact]
    public void AddTpmHardware_InvalidOptions_FailsValidation()
    {
        using var provider = new ServiceCollection().AddTpmHardware(o => o.MaxTransientObjects = 0).BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<SoftwareTpm>());
        Assert.Contains("MaxTransientObjects", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddTpmHardware_CustomSecretStore_IsUsed()
    {
        var store = new CountingStore();
        using var provider = new ServiceCollection().AddSingleton<ITpmSecretStore>(store).AddTpmHardware().BuildServiceProvider();
        _ = provider.GetRequiredService<SoftwareTpm>();
        Assert.True(store.Count >= 6, "seeds and proofs go through the injected store");
    }

    private sealed class CountingStore : ITpmSecretStore
    {
        public int Count { get; private set; }

        public bool AllowsDerivedKeyCaching => false;

        public ITpmSecret Store(ReadOnlySpan<byte> value, string purpose)
        {
            Count++;
            return ManagedSecretStore.Instance.Store(value, purpose);
        }
    }
}
