using TrustStack.Tests.Shared;

namespace TrustStack.Tpm.Hardware.Tests.Interop;

/// <summary>Our client and transports against real swtpm (libtpms).</summary>
public sealed class SwtpmTransportInteropTests
{
    [Fact]
    public void GetRandom_OnRealSwtpm_ReturnsBytes()
    {
        using var swtpm = new SwtpmProcess();
        using var transport = new SwtpmSocketTransport("127.0.0.1", swtpm.Port);
        var client = new Tpm2(transport);
        Assert.Equal(16, client.GetRandom(16).Length);
        var e = Assert.Throws<TpmException>(() => client.Startup());
        Assert.Equal(TpmRc.Initialize, e.ResponseCode);
    }

    [Fact]
    public void TpmSpec_Swtpm_OpensRealSwtpm()
    {
        using var swtpm = new SwtpmProcess();
        using var transport = TpmTransportSpec.Parse($"swtpm:host=127.0.0.1,port={swtpm.Port}").Open();
        Assert.Equal(8, new Tpm2(transport).GetRandom(8).Length);
    }
}
