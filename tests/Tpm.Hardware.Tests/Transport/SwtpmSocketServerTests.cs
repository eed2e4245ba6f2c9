using System.Buffers.Binary;
using System.Net.Sockets;

namespace TrustStack.Tpm.Hardware.Tests.Transport;

public sealed class SwtpmSocketServerTests : IAsyncLifetime
{
    private readonly SoftwareTpm _tpm = new(new SoftwareTpmOptions { Seed = 11, AutoStartup = true });
    private SwtpmSocketServer _server = null!;

    public Task InitializeAsync()
    {
        _server = new SwtpmSocketServer(_tpm);
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _tpm.Dispose();
    }

    [Fact]
    public void Execute_ManyCommandsOnOneConnection_AllAnswered()
    {
        using var transport = new SwtpmSocketTransport("127.0.0.1", _server.Port);
        var client = new Tpm2(transport);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(8, client.GetRandom(8).Length);
        }
    }

    [Fact]
    public void Execute_NewConnectionPerCommand_AllAnswered()
    {
        for (var i = 0; i < 10; i++)
        {
            using var transport = new SwtpmSocketTransport("127.0.0.1", _server.Port);
            Assert.Equal(4, new Tpm2(transport).GetRandom(4).Length);
        }
    }

    [Fact]
    public async Task Execute_ConcurrentClients_AllServed()
    {
        var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            using var transport = new SwtpmSocketTransport("127.0.0.1", _server.Port);
            var client = new Tpm2(transport);
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal(16, client.GetRandom(16).Length);
            }
        }));
        await Task.WhenAll(tasks);
    }

    [Fact]
    public void Execute_GarbageFromOneClient_OthersUnaffected()
    {
        using var good = new SwtpmSocketTransport("127.0.0.1", _server.Port);
        var client = new Tpm2(good);
        Assert.Equal(8, client.GetRandom(8).Length);

        using (var bad = new TcpClient("127.0.0.1", _server.Port))
        {
            var stream = bad.GetStream();
            stream.Write([0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0x7b]);
            var response = new byte[10];
            stream.ReadExactly(response);
            Assert.Equal(TpmRc.CommandSize, (TpmRc)BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)));
        }

        using (var half = new TcpClient("127.0.0.1", _server.Port))
        {
            half.GetStream().Write([0x80, 0x01, 0, 0, 0, 12, 0, 0]);
        }

        Assert.Equal(8, client.GetRandom(8).Length);
    }

    [Fact]
    public void Control_SetLocalityAndCapability_Answered()
    {
        using var transport = new SwtpmSocketTransport("127.0.0.1", _server.Port);
        transport.SetLocality(3);
        Assert.Equal(3, _tpm.Locality);
        transport.SetLocality(0);
        var caps = BinaryPrimitives.ReadUInt64BigEndian(transport.Control(SwtpmControl.GetCapability, [], 8));
        Assert.NotEqual(0ul, caps & (1ul << 10));
        Assert.NotEqual(0u, BinaryPrimitives.ReadUInt32BigEndian(transport.Control(SwtpmControl.SetLocality, [9])));
    }

    [Fact]
    public void Control_InitThenStartup_TpmRestarts()
    {
        using var transport = new SwtpmSocketTransport("127.0.0.1", _server.Port);
        transport.Init();
        Assert.True(_tpm.IsStarted, "AutoStartup starts the TPM again after CMD_INIT, as swtpm --flags startup-clear");
        transport.Shutdown();
        Assert.False(_tpm.IsPoweredOn);
        var e = Assert.Throws<TpmException>(() => new Tpm2(transport).GetRandom(1));
        Assert.Equal(TpmRc.Failure, e.ResponseCode);
        transport.Init();
        Assert.Single(new Tpm2(transport).GetRandom(1));
    }

    [Fact]
    public async Task Control_Stop_CompletesServer()
    {
        using var transport = new SwtpmSocketTransport("127.0.0.1", _server.Port);
        transport.Stop();
        await _server.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Throws<SocketException>(() => new SwtpmSocketTransport("127.0.0.1", _server.Port));
    }
}
