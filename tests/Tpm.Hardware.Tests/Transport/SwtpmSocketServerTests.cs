using System.Buffers.Binary;
using System.Net.Sockets;

namespace TrustStack.Tpm.Hardware.Tests.Transport;

public sealed class SwtpmSocketServerTests() : TpmServerTestBase<SwtpmSocketServer>(11)
{
    protected override SwtpmSocketServer CreateServer(SoftwareTpm tpm) => new(tpm);

    protected override ITpmTransport Connect() => new SwtpmSocketTransport("127.0.0.1", Server.Port);

    [Fact]
    public void Execute_ManyCommandsOnOneConnection_AllAnswered()
    {
        using var transport = new SwtpmSocketTransport("127.0.0.1", Server.Port);
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
            using var transport = new SwtpmSocketTransport("127.0.0.1", Server.Port);
            Assert.Equal(4, new Tpm2(transport).GetRandom(4).Length);
        }
    }

    [Fact]
    public void Execute_GarbageFromOneClient_OthersUnaffected()
    {
        using var good = new SwtpmSocketTransport("127.0.0.1", Server.Port);
        var client = new Tpm2(good);
        Assert.Equal(8, client.GetRandom(8).Length);

        using (var bad = new TcpClient("127.0.0.1", Server.Port))
        {
            var stream = bad.GetStream();
            stream.Write([0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0x7b]);
            var response = new byte[10];
            stream.ReadExactly(response);
            Assert.Equal(TpmRc.CommandSize, (TpmRc)BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)));
        }

        using (var half = new TcpClient("127.0.0.1", Server.Port))
        {
            half.GetStream().Write([0x80, 0x01, 0, 0, 0, 12, 0, 0]);
        }

        Assert.Equal(8, client.GetRandom(8).Length);
    }

    [Fact]
    public void Control_SetLocalityAndCapability_Answered()
    {
        using var transport = new SwtpmSocketTransport("127.0.0.1", Server.Port);
        transport.SetLocality(3);
        Assert.Equal(3, Tpm.Locality);
        transport.SetLocality(0);
        var caps = BinaryPrimitives.ReadUInt64BigEndian(transport.Control(SwtpmControl.GetCapability, [], 8));
        Assert.NotEqual(0ul, caps & (1ul << 10));
        Assert.NotEqual(0u, BinaryPrimitives.ReadUInt32BigEndian(transport.Control(SwtpmControl.SetLocality, [9])));
    }

    [Fact]
    public void Control_InitThenStartup_TpmRestarts()
    {
        using var transport = new SwtpmSocketTransport("127.0.0.1", Server.Port);
        transport.Init();
        Assert.True(Tpm.IsStarted, "AutoStartup starts the TPM again after CMD_INIT, as swtpm --flags startup-clear");
        transport.Shutdown();
        Assert.False(Tpm.IsPoweredOn);
        var e = Assert.Throws<TpmException>(() => new Tpm2(transport).GetRandom(1));
        Assert.Equal(TpmRc.Failure, e.ResponseCode);
        transport.Init();
        Assert.Single(new Tpm2(transport).GetRandom(1));
    }

    [Fact]
    public async Task Control_Stop_CompletesServer()
    {
        using var transport = new SwtpmSocketTransport("127.0.0.1", Server.Port);
        transport.Stop();
        await Server.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(TpmTransportFailure.ConnectFailed, Assert.Throws<TpmTransportException>(() => new SwtpmSocketTransport("127.0.0.1", Server.Port)).Failure);
    }

    [Fact]
    public async Task Dispose_PersistentClientStillConnected_StopsAndClosesIt()
    {
        // Two commands on one connection: the connection is now served by its own blocking thread.
        using var transport = new SwtpmSocketTransport("127.0.0.1", Server.Port);
        var tpm = new Tpm2(transport);
        tpm.GetRandom(1);
        tpm.GetRandom(1);

        await Server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.ThrowsAny<Exception>(() => tpm.GetRandom(1));
    }
}
