using Microsoft.Extensions.DependencyInjection;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.Tests;

/// <summary>The vTPM manager and the TVP-QT junction point composed through DI, as a host would.</summary>
public sealed class ManagerWithTrustChainTests
{
    [Fact]
    public void Start_WithTrustChain_JunctionLogsEachLaunchWithItsVmAndVek()
    {
        using var provider = new ServiceCollection()
            .AddTpmHardware(o => o.Seed = 77)
            .AddVTpmCore(o => o.Seed = 78)
            .AddTvpQtTrustChain()
            .BuildServiceProvider();
        var platform = provider.GetRequiredService<PlatformMeasurement>();
        platform.MeasureBoot(TvpQtDemo.PlatformProfile());
        var manager = provider.GetRequiredService<VTpmManager>();

        var vms = Enumerable.Range(0, 3).Select(_ => manager.Start(manager.Create().VmId)).ToArray();

        var launches = TcgEventLog.Parse(platform.GetEventLog()).Events
            .Select(TvpQtEventData.TryParse)
            .Where(e => e?.Tag == TvpQtEventTag.VTpmLaunch)
            .ToArray();
        Assert.Equal(3, launches.Length);
        for (var i = 0; i < vms.Length; i++)
        {
            Assert.Equal(vms[i].VmId.ToString("D"), launches[i]!["vm"]);
            Assert.Equal(Convert.ToHexStringLower(vms[i].EkName!), launches[i]!["vek-name"]);
        }

        Assert.Equal(3, provider.GetRequiredService<TrustedJunctionPoint>().LaunchCount);
    }

    [Fact]
    public void Start_WithTrustChainButUnmeasuredPlatform_IsRefused()
    {
        using var provider = new ServiceCollection()
            .AddTpmHardware(o => o.Seed = 79)
            .AddVTpmCore()
            .AddTvpQtTrustChain()
            .BuildServiceProvider();
        var manager = provider.GetRequiredService<VTpmManager>();
        var vm = manager.Create().VmId;

        Assert.Throws<VTpmLaunchRejectedException>(() => manager.Start(vm));
    }
}
