namespace TrustStack.Tpm.Hardware.Tests.Transport;

/// <summary>
/// What every TPM server must do, run once per protocol: a started server over a seeded engine
/// (disposed after each test), and the tests all protocols share.
/// </summary>
public abstract class TpmServerTestBase<TServer> : IAsyncLifetime
    where TServer : TpmTcpServer
{
    private TServer? _server;

    protected TpmServerTestBase(ulong seed) => Tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = seed, AutoStartup = true });

    protected SoftwareTpm Tpm { get; }

    protected TServer Server => _server ?? throw new InvalidOperationException("the server starts in InitializeAsync");

    public Task InitializeAsync()
    {
        _server = CreateServer(Tpm);
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Tpm.Dispose();
    }

    [Fact]
    public async Task Execute_ConcurrentClients_AllServed()
    {
        var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            using var transport = Connect();
            var client = new Tpm2(transport);
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal(16, client.GetRandom(16).Length);
            }
        }));
        await Task.WhenAll(tasks);
    }

    protected abstract TServer CreateServer(SoftwareTpm tpm);

    /// <summary>A client transport of this server's protocol.</summary>
    protected abstract ITpmTransport Connect();
}
