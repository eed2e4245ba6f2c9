namespace TrustStack.Tpm.Hardware.Tests.Transport;

public sealed class MssimServerTests : IAsyncLifetime
{
    private readonly SoftwareTpm _tpm = new(new SoftwareTpmOptions { Seed = 12, AutoStartup = true });
    private MssimServer _server = null!;

    public Task InitializeAsync()
    {
        _server = new MssimServer(_tpm);
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _tpm.Dispose();
    }

    [Fact]
    public void Execute_OverMssim_Answered()
    {
        using var transport = new MssimTransport("127.0.0.1", _server.Port);
        var client = new Tpm2(transport);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(32, client.GetRandom(32).Length);
        }
    }

    [Fact]
    public void PowerOn_WhilePoweredOn_KeepsState()
    {
        using var first = new MssimTransport("127.0.0.1", _server.Port);
        new Tpm2(first).GetRandom(1);
        var resets = _tpm.State.ResetCount;
        using var second = new MssimTransport("127.0.0.1", _server.Port);
        Assert.Equal(resets, _tpm.State.ResetCount);
    }

    [Fact]
    public async Task Execute_ConcurrentClients_AllServed()
    {
        var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            using var transport = new MssimTransport("127.0.0.1", _server.Port);
            var client = new Tpm2(transport);
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal(16, client.GetRandom(16).Length);
            }
        }));
        await Task.WhenAll(tasks);
    }

    [Fact]
    public void PowerOff_ThenOn_NeedsStartupUnlessAuto()
    {
        using var transport = new MssimTransport("127.0.0.1", _server.Port);
        transport.Signal(MssimSignal.PowerOff);
        Assert.False(_tpm.IsPoweredOn);
        transport.Signal(MssimSignal.PowerOn);
        Assert.True(_tpm.IsStarted);
    }
}
