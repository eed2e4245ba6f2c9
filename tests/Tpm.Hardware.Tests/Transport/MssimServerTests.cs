namespace TrustStack.Tpm.Hardware.Tests.Transport;

public sealed class MssimServerTests() : TpmServerTestBase<MssimServer>(12)
{
    protected override MssimServer CreateServer(SoftwareTpm tpm) => new(tpm);

    protected override ITpmTransport Connect() => new MssimTransport("127.0.0.1", Server.Port);

    [Fact]
    public void Execute_OverMssim_Answered()
    {
        using var transport = new MssimTransport("127.0.0.1", Server.Port);
        var client = new Tpm2(transport);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(32, client.GetRandom(32).Length);
        }
    }

    [Fact]
    public void PowerOn_WhilePoweredOn_KeepsState()
    {
        using var first = new MssimTransport("127.0.0.1", Server.Port);
        new Tpm2(first).GetRandom(1);
        var resets = Tpm.State.ResetCount;
        using var second = new MssimTransport("127.0.0.1", Server.Port);
        Assert.Equal(resets, Tpm.State.ResetCount);
    }

    [Fact]
    public void PowerOff_ThenOn_NeedsStartupUnlessAuto()
    {
        using var transport = new MssimTransport("127.0.0.1", Server.Port);
        transport.Signal(MssimSignal.PowerOff);
        Assert.False(Tpm.IsPoweredOn);
        transport.Signal(MssimSignal.PowerOn);
        Assert.True(Tpm.IsStarted);
    }
}
