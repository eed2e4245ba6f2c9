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
public abstract class TpmTcpServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _connections = [];
    private readonly Lock _connectionsLock = new();
    private TcpListener? _commandListener;
    private TcpListener? _controlListener;
    private Task? _acceptLoops;

    /// <summary>Creates a server for <paramref name="tpm"/>.</summary>
    /// <param name="tpm">The engine to serve.</param>
    /// <param name="port">Command port; 0 picks a free pair of adjacent ports.</param>
    /// <param name="logger">Connection and error events.</param>
    private protected TpmTcpServer(SoftwareTpm tpm, int port, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65534);
        Tpm = tpm;
        RequestedPort = port;
        Logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The engine being served.</summary>
    public SoftwareTpm Tpm { get; }

    /// <summary>The command (data/TPM) port, once started.</summary>
    public int Port { get; private set; }

    /// <summary>The control (swtpm) or platform (mssim) port: <see cref="Port"/> + 1.</summary>
    public int ControlPort => Port + 1;

    /// <summary>Completes when the server has stopped (a stop command, <see cref="Stop"/> or disposal).</summary>
    public Task Completion => _completion.Task;

    /// <summary>Cancelled when the server stops.</summary>
    protected CancellationToken Stopping => _stop.Token;

    /// <summary>Event sink.</summary>
    protected ILogger Logger { get; }

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

            socket.NoDelay = true;
            Logger.LogDebug("{Server}: client {Remote} connected to port {Port}", GetType().Name, socket.RemoteEndPoint, ((IPEndPoint)listener.LocalEndpoint).Port);
            var task = Task.Run(() => ServeAsync(socket, serve));
            lock (_connectionsLock)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(task);
            }
        }
    }

    private async Task ServeAsync(Socket socket, Func<NetworkStream, Socket, CancellationToken, Task> serve)
    {
        using (socket)
        await using (var stream = new NetworkStream(socket, ownsSocket: false))
        {
            try
            {
                await serve(stream, socket, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidDataException or EndOfStreamException or OperationCanceledException or ObjectDisposedException)
            {
                // A client that disconnects mid-command or sends garbage loses only its own connection.
                Logger.LogDebug("{Server}: connection closed: {Reason}", GetType().Name, e.Message);
            }
        }
    }
}
