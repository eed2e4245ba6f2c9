using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.TrustChain.Tests;

public class PlatformMeasurementTests
{
    [Fact]
    public void MeasureBoot_DemoProfile_LogReplaysToEveryBankOfTheHardwarePcrs()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 5, AutoStartup = true });
        using var client = new Tpm2(tpm);
        var platform = new PlatformMeasurement(client);
        platform.MeasureBoot(TvpQtDemo.PlatformProfile());

        var replay = TcgEventLog.Parse(platform.GetEventLog()).Replay();
        var pcrs = TvpQtDemo.PlatformProfile().Components.Select(c => (int)c.PcrIndex).ToArray();

        Assert.Equal([TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384], platform.Banks);
        foreach (var bank in platform.Banks)
        {
            var hardware = client.PcrReadAll(PcrSelectionList.Create(bank, pcrs));
            Assert.All(pcrs, p => Assert.Equal(hardware[(bank, p)], replay[bank, p]));
        }
    }

    [Fact]
    public void MeasureNext_EachComponent_NamesItsPredecessorAsMeasurer()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 5, AutoStartup = true });
        using var client = new Tpm2(tpm);
        var platform = new PlatformMeasurement(client, [TpmAlgId.Sha256]);
        platform.Begin(TvpQtDemo.PlatformProfile());
        platform.MeasureNext();
        platform.MeasureNext();

        var events = TcgEventLog.Parse(platform.GetEventLog()).Events.Select(e => TvpQtEventData.TryParse(e)!).ToArray();

        Assert.Equal(["crtm", "firmware"], events.Select(e => e.MeasuredBy));
        Assert.Equal(["firmware", "boot-loader"], events.Select(e => e["name"]));
        Assert.False(platform.IsComplete);
    }

    [Fact]
    public void MeasureBoot_Twice_Throws()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 5, AutoStartup = true });
        using var client = new Tpm2(tpm);
        var platform = new PlatformMeasurement(client);
        platform.MeasureBoot(TvpQtDemo.PlatformProfile());

        Assert.Throws<InvalidOperationException>(() => platform.MeasureBoot(TvpQtDemo.PlatformProfile()));
        Assert.Throws<InvalidOperationException>(() => platform.MeasureNext());
    }

    [Fact]
    public void PlatformBootProfile_ComponentsOutOfOrder_Throws()
    {
        var components = TvpQtDemo.PlatformProfile().Components.Reverse();
        Assert.Throws<ArgumentException>(() => new PlatformBootProfile(components));
    }

    [Fact]
    public void GuestMeasurement_KindGoesBack_Throws()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 5, AutoStartup = true });
        using var client = new Tpm2(tpm);
        var guest = new GuestMeasurement(client);
        guest.MeasureBoot(TvpQtDemo.GuestProfile());

        Assert.Throws<ArgumentException>(() => guest.Measure(new GuestComponent("late-kernel", GuestComponentKind.Kernel, 9, [1])));
        guest.Measure(new GuestComponent("sshd", GuestComponentKind.Application, 10, [2]));
        Assert.Equal(6, guest.Measured.Count);
    }
}
