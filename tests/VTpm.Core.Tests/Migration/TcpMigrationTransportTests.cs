namespace TrustStack.VTpm.Core.Tests.Migration;

public sealed class TcpMigrationTransportTests
{
    [Fact]
    public async Task ExchangeAsync_OverLoopbackListener_MigratesTheVTpm()
    {
        using var s = new MigrationScenario(seed: 40);
        await using var listener = new TcpMigrationListener(s.Destination.Destination);
        listener.Start();
        using var transport = new TcpMigrationTransport("127.0.0.1", listener.Port);

        var result = await s.Source.Source.MigrateAsync(s.Vm, transport, s.Policy);

        Assert.Equal(VTpmMigrationOutcome.Completed, result.Outcome);
        Assert.Equal($"127.0.0.1:{listener.Port}", transport.Endpoint);
        Assert.Same(s.Destination, s.AssertExactlyOneLive());
    }

    [Fact]
    public async Task ExchangeAsync_NothingListening_ThrowsIOException()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        using var transport = new TcpMigrationTransport("127.0.0.1", port);

        await Assert.ThrowsAsync<IOException>(async () => await transport.ExchangeAsync(new byte[] { 1, 2, 3 }));
    }

    [Theory]
    [InlineData("127.0.0.1:2600", true)]
    [InlineData("localhost:1", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.0.0.1:0", false)]
    [InlineData("127.0.0.1:70000", false)]
    public void Parse_Endpoint_AcceptsHostPortOnly(string endpoint, bool valid)
    {
        if (valid)
        {
            using var transport = TcpMigrationTransport.Parse(endpoint);
            Assert.Equal(endpoint, transport.Endpoint);
        }
        else
        {
            Assert.Throws<FormatException>(() => TcpMigrationTransport.Parse(endpoint));
        }
    }
}
