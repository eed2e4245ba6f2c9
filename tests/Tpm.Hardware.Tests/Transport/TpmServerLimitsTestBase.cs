using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace TrustStack.Tpm.Hardware.Tests.Transport;

/// <summary>
/// Finding 13 of issue 19 for the TPM servers, run once per protocol: 2,000 half-open connections
/// made 2,015 threads. Connections are capped (the extra refused with a log line), idle ones and
/// slow senders are dropped with a log line, on the command port and the control/platform port,
/// and a client already connected keeps being served.
/// </summary>
public abstract class TpmServerLimitsTestBase<TServer> : IDisposable
    where TServer : TpmTcpServer
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly List<IAsyncDisposable> _servers = [];
    private readonly List<IDisposable> _clients = [];

    private readonly ITestOutputHelper _output;

    protected TpmServerLimitsTestBase(ulong seed, ITestOutputHelper output)
    {
        Tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = seed, AutoStartup = true });
        _output = output;
    }

    protected SoftwareTpm Tpm { get; }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        foreach (var server in _servers)
        {
            server.DisposeAsync().AsTask().Wait(Patience);
        }

        Tpm.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Accept_MoreThanMaxConnections_ExtraAreRefusedWithALogLineAndAConnectedClientIsStillServed()
    {
        var (server, log) = Start(new TpmServerOptions { MaxConnections = 4 });
        using var good = Connect(server.Port);
        var client = new Tpm2(good);
        Assert.Equal(8, client.GetRandom(8).Length);
        await WaitUntilAsync(() => server.ConnectionCount == 1);

        // Three more fill the cap; the next seven are closed at once.
        var squatters = Enumerable.Range(0, 3).Select(_ => Raw(server.Port)).ToList();
        await WaitUntilAsync(() => server.ConnectionCount == 4);
        var refused = Enumerable.Range(0, 7).Select(_ => Raw(server.Port)).ToList();
        foreach (var r in refused)
        {
            Assert.True(IsClosedByServer(r), "a connection over the cap must be closed at once");
        }

        Assert.Equal(7, server.RefusedConnectionCount);
        Assert.Equal(4, server.ConnectionCount);
        var line = await log.WaitForAsync("refused a connection", Patience);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("MaxConnections 4", line.Text, StringComparison.Ordinal);

        // The client connected before the flood is still served.
        Assert.Equal(8, client.GetRandom(8).Length);

        // Once the squatters leave, a new client gets in.
        squatters.ForEach(s => s.Dispose());
        await WaitUntilAsync(() => server.ConnectionCount == 1);
        using var late = Connect(server.Port);
        Assert.Equal(4, new Tpm2(late).GetRandom(4).Length);
    }

    [Fact]
    public async Task Accept_MoreThanMaxConnectionsOnTheControlPort_ExtraAreRefused()
    {
        var (server, _) = Start(new TpmServerOptions { MaxConnections = 2 });
        var held = Enumerable.Range(0, 2).Select(_ => Raw(server.ControlPort)).ToList();
        await WaitUntilAsync(() => server.ConnectionCount == 2);

        using var extra = Raw(server.ControlPort);
        Assert.True(IsClosedByServer(extra));
        Assert.Equal(1, server.RefusedConnectionCount);
        held.ForEach(h => h.Dispose());
    }

    [Fact]
    public async Task Accept_500HalfOpenConnections_ThreadCountStaysBounded()
    {
        var (server, _) = Start(new TpmServerOptions());
        using var good = Connect(server.Port);
        var client = new Tpm2(good);
        client.GetRandom(1);
        await WaitUntilAsync(() => server.ConnectionCount == 1);
        var before = Process.GetCurrentProcess().Threads.Count;

        var flood = new List<Socket>();
        try
        {
            for (var i = 0; i < 500; i++)
            {
                flood.Add(Raw(server.Port));
            }

            // Every one of them is either served (up to the cap of 64) or refused.
            await WaitUntilAsync(() => server.ConnectionCount + server.RefusedConnectionCount == 501);
            await Task.Delay(200);
            var during = Process.GetCurrentProcess().Threads.Count;
            _output.WriteLine($"threads {before} -> {during} with 500 half-open connections; {server.ConnectionCount} served, {server.RefusedConnectionCount} refused; thread pool {ThreadPool.ThreadCount}");

            Assert.Equal(64, server.ConnectionCount);
            Assert.Equal(437, server.RefusedConnectionCount);

            // Before the cap each half-open connection held a thread (about +500 here). Other test
            // classes run in parallel, so the bound leaves room for their threads.
            Assert.True(during - before < 64 + 100, $"threads {before} -> {during} with 500 half-open connections");
            Assert.Equal(8, client.GetRandom(8).Length);
        }
        finally
        {
            flood.ForEach(s => s.Dispose());
        }

        await WaitUntilAsync(() => server.ConnectionCount == 1);
    }

    [Fact]
    public async Task Serve_IdleCommandConnection_IsClosedWithALogLine()
    {
        var (server, log) = Start(new TpmServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        using var idle = Raw(server.Port);
        await WaitUntilAsync(() => server.ConnectionCount == 1);

        Assert.True(IsClosedByServer(idle, TimeSpan.FromSeconds(10)), "an idle connection must be closed");
        var line = await log.WaitForAsync("idle for 300 ms (IdleTimeout)", Patience);
        Assert.Equal(LogLevel.Information, line.Level);
        await WaitUntilAsync(() => server.ConnectionCount == 0);
    }

    [Fact]
    public async Task Serve_IdleControlConnection_IsClosedWithALogLine()
    {
        var (server, log) = Start(new TpmServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        using var idle = Raw(server.ControlPort);

        Assert.True(IsClosedByServer(idle, TimeSpan.FromSeconds(10)), "an idle control connection must be closed");
        await log.WaitForAsync("idle for 300 ms (IdleTimeout)", Patience);
        await WaitUntilAsync(() => server.ConnectionCount == 0);
    }

    [Fact]
    public async Task Serve_ClientBusierThanTheIdleTimeout_IsNotDropped()
    {
        // The idle timeout runs between commands only: a client that keeps sending stays.
        var (server, _) = Start(new TpmServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(400) });
        using var transport = Connect(server.Port);
        var client = new Tpm2(transport);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(2, client.GetRandom(2).Length);
            await Task.Delay(100);
        }

        Assert.Equal(0, server.RefusedConnectionCount);
    }

    [Fact]
    public async Task Serve_SlowSenderOneOctetPerSecond_IsClosedAtTheCommandDeadline()
    {
        var (server, log) = Start(new TpmServerOptions { CommandTimeout = TimeSpan.FromSeconds(1.5) });
        using var slow = Raw(server.Port);
        var command = CommandFrame(GetRandomCommand(8));
        var watch = Stopwatch.StartNew();
        var closed = false;
        foreach (var octet in command)
        {
            try
            {
                slow.Send([octet]);
            }
            catch (SocketException)
            {
                closed = true;
                break;
            }

            if (slow.Poll(TimeSpan.FromSeconds(1), SelectMode.SelectRead))
            {
                closed = slow.Available == 0;
                break;
            }
        }

        Assert.True(closed, "a sender of one octet a second must be disconnected");
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8));
        var line = await log.WaitForAsync("was not complete within 1.5 s (CommandTimeout", Patience);
        Assert.Equal(LogLevel.Warning, line.Level);
        await WaitUntilAsync(() => server.ConnectionCount == 0);
    }

    [Fact]
    public async Task Serve_SlowSenderOnTheControlPort_IsClosedAtTheCommandDeadline()
    {
        var (server, log) = Start(new TpmServerOptions { CommandTimeout = TimeSpan.FromMilliseconds(400) });
        using var slow = Raw(server.ControlPort);
        slow.Send([0]);

        Assert.True(IsClosedByServer(slow, TimeSpan.FromSeconds(10)));
        await log.WaitForAsync("was not complete within 400 ms (CommandTimeout; 1 octets received)", Patience);
    }

    [Fact]
    public void Constructor_OptionsOutOfRange_Throw()
    {
        Assert.Throws<ArgumentException>(() => CreateServer(Tpm, new TpmServerOptions { MaxConnections = 0 }, new ListLogger<TServer>()));
        Assert.Throws<ArgumentException>(() => CreateServer(Tpm, new TpmServerOptions { IdleTimeout = TimeSpan.Zero }, new ListLogger<TServer>()));
        Assert.Throws<ArgumentException>(() => CreateServer(Tpm, new TpmServerOptions { CommandTimeout = TimeSpan.FromDays(100) }, new ListLogger<TServer>()));
    }

    protected abstract TServer CreateServer(SoftwareTpm tpm, TpmServerOptions options, ILogger<TServer> logger);

    /// <summary>A client transport of this server's protocol.</summary>
    protected abstract ITpmTransport Connect(int port);

    /// <summary>One command as this protocol frames it on the command port.</summary>
    protected abstract byte[] CommandFrame(byte[] command);

    private static byte[] GetRandomCommand(ushort count) => [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, (byte)(count >> 8), (byte)count];

    private (TServer Server, ListLogger<TServer> Log) Start(TpmServerOptions options)
    {
        var log = new ListLogger<TServer>();
        var server = CreateServer(Tpm, options, log);
        _servers.Add(server);
        server.Start();
        return (server, log);
    }

    private Socket Raw(int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(IPAddress.Loopback, port);
        _clients.Add(socket);
        return socket;
    }

    /// <summary>True when the server closes the connection (end of stream or reset) within <paramref name="within"/>.</summary>
    private static bool IsClosedByServer(Socket socket, TimeSpan? within = null)
    {
        socket.ReceiveTimeout = (int)(within ?? TimeSpan.FromSeconds(5)).TotalMilliseconds;
        try
        {
            return socket.Receive(new byte[16]) == 0;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode is SocketError.ConnectionReset;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > Patience)
            {
                throw new TimeoutException("condition not reached");
            }

            await Task.Delay(20);
        }
    }
}

public sealed class SwtpmSocketServerLimitsTests(ITestOutputHelper output) : TpmServerLimitsTestBase<SwtpmSocketServer>(21, output)
{
    protected override SwtpmSocketServer CreateServer(SoftwareTpm tpm, TpmServerOptions options, ILogger<SwtpmSocketServer> logger) => new(tpm, 0, logger, options);

    protected override ITpmTransport Connect(int port) => new SwtpmSocketTransport("127.0.0.1", port);

    protected override byte[] CommandFrame(byte[] command) => command;
}

public sealed class MssimServerLimitsTests(ITestOutputHelper output) : TpmServerLimitsTestBase<MssimServer>(22, output)
{
    protected override MssimServer CreateServer(SoftwareTpm tpm, TpmServerOptions options, ILogger<MssimServer> logger) => new(tpm, 0, logger, options);

    // No power signals: they would open (and close) platform connections the cap counts.
    protected override ITpmTransport Connect(int port) => new MssimTransport("127.0.0.1", port, powerOn: false);

    protected override byte[] CommandFrame(byte[] command) =>
        [0, 0, 0, 8, 0, 0, 0, 0, (byte)command.Length, .. command];
}
