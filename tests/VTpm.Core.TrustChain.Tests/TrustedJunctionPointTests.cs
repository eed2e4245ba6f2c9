using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.TrustChain.Tests;

public class TrustedJunctionPointTests
{
    private static VTpmLaunch LaunchOf(int i)
    {
        var ekDigest = System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i));
        return new VTpmLaunch(new Guid(i, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 1]), TvpQtDemo.VTpmCodeIdentity, ekDigest, [0x00, 0x0b, .. ekDigest]);
    }

    [Fact]
    public void OnLaunch_ConcurrentLaunches_OneEventEachAndLogReplaysToTheHardwarePcr()
    {
        using var host = new TestHost();
        Parallel.For(0, 24, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => host.Junction.OnLaunch(LaunchOf(i)));

        var log = TcgEventLog.Parse(host.Platform.GetEventLog());
        var launches = log.Events.Select(TvpQtEventData.TryParse).Where(d => d?.Tag == TvpQtEventTag.VTpmLaunch).ToArray();
        var hardware = host.Hw.PcrReadAll(PcrSelectionList.Create(TpmAlgId.Sha256, 15));

        Assert.Equal(24, host.Junction.LaunchCount);
        Assert.Equal(Enumerable.Range(1, 24), launches.Select(d => d!.Sequence));
        Assert.Equal(24, launches.Select(d => d!["vm"]).Distinct().Count());
        Assert.Equal(hardware[(TpmAlgId.Sha256, 15)], log.Replay()[TpmAlgId.Sha256, 15]);
    }

    [Fact]
    public void OnLaunch_ExtendsHOfCodeEkDigestAndUuid()
    {
        using var host = new TestHost();
        var launch = LaunchOf(1);
        host.Junction.OnLaunch(launch);

        var expected = TpmHash.Extend(TpmAlgId.Sha256, new byte[32], System.Security.Cryptography.SHA256.HashData([.. launch.CodeDigest, .. launch.EkPublicDigest, .. launch.VmId.ToByteArray(bigEndian: true)]));
        Assert.Equal(expected, host.Hw.PcrReadAll(PcrSelectionList.Create(TpmAlgId.Sha256, 15))[(TpmAlgId.Sha256, 15)]);
    }

    [Fact]
    public void OnLaunch_BeforeThePlatformIsMeasured_Throws()
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 5, AutoStartup = true });
        using var client = new Tpm2(tpm);
        var platform = new PlatformMeasurement(client);
        platform.Begin(TvpQtDemo.PlatformProfile());
        platform.MeasureNext();
        var junction = new TrustedJunctionPoint(platform);

        Assert.Throws<InvalidOperationException>(() => junction.OnLaunch(LaunchOf(1)));
        Assert.Equal(0, junction.LaunchCount);
    }

    [Fact]
    public void OnLaunch_EkNameNotOfTheEkDigest_Throws()
    {
        using var host = new TestHost();
        var launch = LaunchOf(1) with { EkName = [0x00, 0x0b, .. new byte[32]] };

        Assert.Throws<ArgumentException>(() => host.Junction.OnLaunch(launch));
    }

    [Theory]
    [InlineData(16u)]
    [InlineData(23u)]
    [InlineData(24u)]
    public void Constructor_ResettableOrMissingPcr_Throws(uint pcr)
    {
        using var host = new TestHost();
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrustedJunctionPoint(host.Platform, pcr));
    }
}
