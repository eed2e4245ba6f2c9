using Microsoft.Extensions.DependencyInjection;

namespace TrustStack.VTpm.Core.TrustChain.Tests;

public class TrustChainRegistrationTests
{
    [Fact]
    public void AddTvpQt_WithTpmHardware_JunctionPointIsTheLaunchObserver()
    {
        var services = new ServiceCollection().AddTpmHardware(o => o.Seed = 3);
        services.AddTvpQtTrustChain(o => o.JunctionPcr = 14);
        services.AddTvpQtTrustChain();
        using var provider = services.BuildServiceProvider();

        var observer = Assert.Single(provider.GetServices<IVTpmLaunchObserver>());
        var junction = provider.GetRequiredService<TrustedJunctionPoint>();

        Assert.Same(junction, observer);
        Assert.Equal(14u, junction.Pcr);
        Assert.Same(provider.GetRequiredService<PlatformMeasurement>(), provider.GetRequiredService<PlatformMeasurement>());
    }
}
