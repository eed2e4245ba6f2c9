using Snapshooter.Xunit;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.TrustChain.Tests;

public class TvpQtDemoTests
{
    private static readonly DateTimeOffset s_epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static TvpQtDemoResult RunDemo()
    {
        using var hw = new SoftwareTpm(new SoftwareTpmOptions { Seed = 1, AutoStartup = true }, timeProvider: new FixedTimeProvider(s_epoch));
        using var v1 = new SoftwareTpm(new SoftwareTpmOptions { Seed = 11, AutoStartup = true }, timeProvider: new FixedTimeProvider(s_epoch));
        using var v2 = new SoftwareTpm(new SoftwareTpmOptions { Seed = 12, AutoStartup = true }, timeProvider: new FixedTimeProvider(s_epoch));
        using var v3 = new SoftwareTpm(new SoftwareTpmOptions { Seed = 13, AutoStartup = true }, timeProvider: new FixedTimeProvider(s_epoch));
        using var random = DeterministicRandomSource.FromSeed(7);
        return TvpQtDemo.Run(hw, [v1, v2, v3], random);
    }

    [Fact]
    public void Run_ThreeVms_AllTrusted()
    {
        var result = RunDemo();

        Assert.True(result.AllTrusted, string.Join("\n", result.Vms.SelectMany(v => v.Result.Failures)));
        Assert.Equal(3, result.Vms.Select(v => v.VmId).Distinct().Count());
        Assert.Equal(3, TcgEventLog.Parse(result.PlatformEventLog).Events.Count(e => e.PcrIndex == TrustedJunctionPoint.DefaultPcr));
    }

    [Fact]
    public void Run_Seeded_IsReproducible()
    {
        var first = RunDemo();
        var second = RunDemo();

        Assert.Equal(first.PlatformEventLog, second.PlatformEventLog);
        Assert.Equal(first.Vms.Select(v => v.Evidence.HardwareQuote.Attest), second.Vms.Select(v => v.Evidence.HardwareQuote.Attest));
    }

    [Fact]
    public void Run_DemoHost_MatchesSnapshot()
    {
        var result = RunDemo();

        Snapshot.Match(new
        {
            PlatformEventLog = LogView.Of(result.PlatformEventLog),
            Vms = result.Vms.Select(v => new
            {
                VmId = v.VmId.ToString("D"),
                VEkName = Convert.ToHexStringLower(v.Evidence.VEkPublic.GetName()),
                GuestEventLog = LogView.Of(v.Evidence.GuestEventLog),
                Result = LogView.Of(v.Result),
            }).ToArray(),
        });
    }

    [Fact]
    public void Run_NoVTpm_Throws()
    {
        using var hw = new SoftwareTpm(new SoftwareTpmOptions { Seed = 1, AutoStartup = true });
        Assert.Throws<ArgumentException>(() => TvpQtDemo.Run(hw, [], SystemRandomSource.Instance));
    }
}
