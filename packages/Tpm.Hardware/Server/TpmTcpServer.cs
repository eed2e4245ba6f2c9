using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Common plumbing of the TPM socket servers: two listeners on 127.0.0.1 (a command port and a
/// control/platform port one above it), one task per connection, commands serialized by the
/// engine, a misbehaving client closed without disturbing the others, and a clean stop that
/// saves the engine's state.
/// </summary>
/// <remarks>
/// Bounded by <see cref="TpmServerOptions"/>: at most <see cref="TpmServerOptions.MaxConnections"/>
/// connections on both ports together (one more is closed at once, with a warning that says why,
/// at most one line a second), a connection idle for <see cref="TpmServerOptions.IdleTimeout"/>
/// is closed with an information line, and a command that does not arrive whole within
/// <see cref="TpmServerOptions.CommandTimeout"/> of its first octet closes its connection with a
/// warning. So 2,000 connections that send nothing cost at most 64 threads, not 2,000, and a
/// client sending one octet a second holds its thread for one command timeout. Nothing a client
/// sends makes an exception escape a connection's task.
/// </remarks>
public abstract class TpmTcpServer : IAsyncDisposable
{
    private static readonly TimeSpan RefusalLogInterval = TimeSpan.FromSeconds(1);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _connections = [];
    private readonly Lock _connectionsLock = new();
    private readonly Lock _refusalLock = new();
    private TcpListener? _commandListener;
    private TcpListener? _controlListener;
    private Task? _acceptLoops;
    private int _open;
    private long _refused;
    private long _refusedUnlogged;
    private long _lastRefusalLog;

    /// <summary>Creates a server for <paramref name="tpm"/>.</summary>
    /// <param name="tpm">The engine to serve.</param>
    /// <param name="port">Command port; 0 picks a free pair of adjacent ports.</param>
    /// <param name="logger">Connection and error events.</param>
    /// <param name="options">Connection limits; null for the defaults. Copied: later changes do not apply.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    private protected TpmTcpServer(SoftwareTpm tpm, int port, ILogger? logger, TpmServerOptions? options)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65534);
        options ??= TpmServerOptions.Default;
        options.Validate();
        Tpm = tpm;
        RequestedPort = port;
        Logger = logger ?? NullLogger.Instance;
        MaxConnections = options.MaxConnections;
        IdleTimeout = options.IdleTimeout;
        CommandTimeout = options.CommandTimeout;
    }

    /// <summary>The engine being served.</summary>
    public SoftwareTpm Tpm { get; }

    /// <summary>The command (data/TPM) port, once started.</summary>
    public int Port { get; private set; }

    /// <summary>The control (swtpm) or platform (mssim) port: <see cref="Port"/> + 1.</summary>
    public int ControlPort => Port + 1;

    /// <summary>Connections open now, on both ports.</summary>
    public int ConnectionCount => Volatile.Read(ref _open);

    /// <summary>Connections refused so far because <see cref="TpmServerOptions.MaxConnections"/> were open.</summary>
    public long RefusedConnectionCount => Interlocked.Read(ref _refused);

    /// <summary>Completes when the server has stopped (a stop command, <see cref="Stop"/> or disposal).</summary>
    public Task Completion => _completion.Task;

    /// <summary>Cancelled when the server stops.</summary>
    protected CancellationToken Stopping => _stop.Token;

    /// <summary>Event sink.</summary>
    protected ILogger Logger { get; }

    /// <summary>See <see cref="TpmServerOptions.IdleTimeout"/>.</summary>
    private protected TimeSpan IdleTimeout { get; }

    /// <summary>See <see cref="TpmServerOptions.CommandTimeout"/>.</summary>
    private protected TimeSpan CommandTimeout { get; }

    private int MaxConnections { get; }

    private int RequestedPort { get; }

    /// <summary>Binds both ports on 127.0.0.1 and starts accepting connections.</summary>
    /// <exception cref="SocketException">A port is taken.</exception>
    public void Start()
    {
        if (_acceptLoops is not null)
        {
            throw new InvalidOperationException("The server is already started.");
        }

        (_commandListener, _controlListener) = RequestedPort == 0 ? BindFreePair() : (Bind(RequestedPort), Bind(RequestedPort + 1));
        Port = ((IPEndPoint)_commandListener.LocalEndpoint).Port;
        _acceptLoops = Task.WhenAll(
            AcceptLoopAsync(_commandListener, ServeCommandConnectionAsync),
            AcceptLoopAsync(_controlListener, ServeControlConnectionAsync));
        Logger.LogInformation("{Server} listening on 127.0.0.1:{Port} (control {ControlPort})", GetType().Name, Port, ControlPort);
    }

    /// <summary>Stops accepting, closes connections, powers the TPM off (saving its state) and completes <see cref="Completion"/>.</summary>
    public void Stop()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        _stop.Cancel();
        _commandListener?.Stop();
        _controlListener?.Stop();
        Tpm.Save();
        _completion.TrySetResult();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Stop();
        if (_acceptLoops is not null)
        {
            await _acceptLoops.ConfigureAwait(false);
        }

        Task[] open;
        lock (_connectionsLock)
        {
            open = [.. _connections];
        }

        await Task.WhenAll(open).ConfigureAwait(false);
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Serves one connection to the command port until it closes.</summary>
    private protected abstract Task ServeCommandConnectionAsync(NetworkStream stream, Socket socket, CancellationToken cancellationToken);

    /// <summary>Serves one connection to the control/platform port until it closes.</summary>
    private protected abstract Task ServeControlConnectionAsync(NetworkStream stream, Socket socket, CancellationToken cancellationToken);

    private static TcpListener Bind(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        return listener;
    }

    private static (TcpListener, TcpListener) BindFreePair()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var first = Bind(0);
            var port = ((IPEndPoint)first.LocalEndpoint).Port;
            if (port < 65535)
            {
                try
                {
                    return (first, Bind(port + 1));
                }
                catch (SocketException)
                {
                    // Neighbour taken; try another pair.
                }
            }

            first.Stop();
        }

        throw new SocketException((int)SocketError.AddressAlreadyInUse);
    }

    private async Task AcceptLoopAsync(TcpListener listener, Func<NetworkStream, Socket, CancellationToken, Task> serve)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var remote = RemoteOf(socket);
            if (Interlocked.Increment(ref _open) > MaxConnections)
            {
                Interlocked.Decrement(ref _open);
                Refuse(socket, remote, port);
                continue;
            }

            socket.NoDelay = true;
            Logger.LogDebug("{Server}: client {Remote} connected to port {Port}", GetType().Name, remote, port);
            var task = Task.Run(() => ServeAsync(socket, remote, port, serve));
            lock (_connectionsLock)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(task);
            }
        }
    }

    private async Task ServeAsync(Socket socket, string remote, int port, Func<NetworkStream, Socket, CancellationToken, Task> serve)
    {
        try
        {
            using (socket)
            await using (var stream = new NetworkStream(socket, ownsSocket: false))
            {
                await serve(stream, socket, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (ServerConnectionTimeoutException e) when (e.Idle)
        {
            Logger.LogInformation("{Server}: closed the connection from {Remote} on port {Port}: {Reason}", GetType().Name, remote, port, e.Message);
        }
        catch (ServerConnectionTimeoutException e)
        {
            Logger.LogWarning("{Server}: closed the connection from {Remote} on port {Port}: {Reason}", GetType().Name, remote, port, e.Message);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
        {
            // A client that disconnects mid-command or sends garbage loses only its own connection.
            Logger.LogDebug("{Server}: connection from {Remote} on port {Port} closed: {Reason}", GetType().Name, remote, port, e.Message);
        }
#pragma warning disable CA1031 // Nothing a client does may fault a connection task (DisposeAsync awaits them all) or reach the process.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Logger.LogError(e, "{Server}: connection from {Remote} on port {Port} failed unexpectedly; closed it", GetType().Name, remote, port);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private void Refuse(Socket socket, string remote, int port)
    {
        // Closed at once (the client reads end of stream), before any thread or buffer is spent on it.
        Interlocked.Increment(ref _refused);
        socket.Dispose();
        lock (_refusalLock)
        {
            // A flood of refusals logs one line a second, with the count of those it did not log.
            var now = Stopwatch.GetTimestamp();
            if (_lastRefusalLog != 0 && Stopwatch.GetElapsedTime(_lastRefusalLog, now) < RefusalLogInterval)
            {
                _refusedUnlogged++;
                return;
            }

            var more = _refusedUnlogged;
            _refusedUnlogged = 0;
            _lastRefusalLog = now;
            Logger.LogWarning(
                "{Server}: refused a connection from {Remote} to port {Port}: {Open} connections are open, the limit (MaxConnections {Max}){More}",
                GetType().Name,
                remote,
                port,
                Volatile.Read(ref _open),
                MaxConnections,
                more == 0 ? string.Empty : $"; {more} more refused since the last such line");
        }
    }

    private static string RemoteOf(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint?.ToString() ?? "?";
        }
        catch (SocketException)
        {
            return "?";
        }
    }
}
