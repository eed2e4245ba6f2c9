using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TrustStack.VTpm.Core;

/// <summary>
/// A manager's local control endpoint: a UNIX stream socket, by default <c>DIR/control.sock</c>
/// in the manager's state folder (<see cref="DefaultPath"/>), mode 0600 in the 0700 folder, so only
/// the folder's owner reaches it. Whoever owns a state folder (its <c>StateFolderLock</c>) is the
/// one process that may change its vTPMs; other tools (<c>truststack vtpm migrate</c>) go through
/// this endpoint instead of opening the folder. Messages: <c>u32</c> length ‖ UTF-8 JSON (one
/// request, one response, repeatable on a connection). A malformed request gets an error response;
/// nothing a client sends stops the endpoint.
/// </summary>
public sealed class VTpmControlServer : IAsyncDisposable
{
    /// <summary>The socket's file name in the state folder.</summary>
    public const string FileName = "control.sock";

    private readonly IVTpmControlHandler _handler;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Lock _connectionsLock = new();
    private Socket? _listener;
    private Task? _accepting;

    /// <summary>Creates the endpoint (not yet listening).</summary>
    /// <param name="path">The socket path; a UNIX socket path is limited to about 100 octets.</param>
    /// <param name="handler">What handles the requests.</param>
    /// <param name="logger">Connection events.</param>
    public VTpmControlServer(string path, IVTpmControlHandler handler, ILogger<VTpmControlServer>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(handler);
        Path = System.IO.Path.GetFullPath(path);
        _handler = handler;
        _logger = logger ?? NullLogger<VTpmControlServer>.Instance;
    }

    /// <summary>The socket path.</summary>
    public string Path { get; }

    /// <summary>The control socket of a manager's state folder.</summary>
    /// <param name="stateDirectory">The state folder.</param>
    /// <returns><c>DIR/control.sock</c>.</returns>
    public static string DefaultPath(string stateDirectory) => System.IO.Path.Combine(System.IO.Path.GetFullPath(stateDirectory), FileName);

    /// <summary>
    /// Binds the socket (replacing a stale socket file: the caller owns the state folder, so no live
    /// endpoint can be behind it), makes it 0600 and starts accepting.
    /// </summary>
    /// <exception cref="SocketException">The socket cannot be bound (for example a path over the UNIX limit).</exception>
    /// <exception cref="IOException">A stale socket file cannot be removed.</exception>
    public void Start()
    {
        if (_listener is not null)
        {
            throw new InvalidOperationException("The control endpoint is already started.");
        }

        File.Delete(Path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(Path));
            if (!OperatingSystem.IsWindows())
            {
                // The folder is 0700 already; the socket itself is narrowed too, as the state files are.
                File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            listener.Listen(16);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        _accepting = AcceptLoopAsync(_stop.Token);
        _logger.LogInformation("Control endpoint on {Path}", Path);
    }

    /// <summary>Stops accepting, waits for the open requests and removes the socket file.</summary>
    /// <returns>A task that completes when stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_accepting is not null)
        {
            await _accepting.ConfigureAwait(false);
        }

        Task[] open;
        lock (_connectionsLock)
        {
            open = [.. _connections];
        }

        await Task.WhenAll(open).ConfigureAwait(false);
        if (_listener is not null)
        {
            File.Delete(Path);
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener!.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var task = Task.Run(() => ServeAsync(client, cancellationToken), CancellationToken.None);
            lock (_connectionsLock)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(task);
            }
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancellationToken)
    {
        using (client)
        {
            try
            {
                await using var stream = new NetworkStream(client, ownsSocket: false);
                while (await VTpmControlProtocol.ReadAsync(stream, cancellationToken).ConfigureAwait(false) is { } bytes)
                {
                    var response = await AnswerAsync(bytes, cancellationToken).ConfigureAwait(false);
                    await VTpmControlProtocol.WriteAsync(stream, VTpmControlProtocol.Encode(response), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                _logger.LogDebug("Control connection closed: {Reason}", e.Message);
            }
        }
    }

    private async Task<VTpmControlResponse> AnswerAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        VTpmControlRequest request;
        try
        {
            request = VTpmControlProtocol.DecodeRequest(bytes);
        }
        catch (FormatException e)
        {
            return VTpmControlResponse.Failed($"malformed request: {e.Message}");
        }

        try
        {
            return await _handler.HandleAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return VTpmControlResponse.Failed("the manager is stopping");
        }
#pragma warning disable CA1031 // A handler's failure is the client's answer; the endpoint serves the next request.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _logger.LogError(e, "Control request {Command} failed", request.Command);
            return VTpmControlResponse.Failed(e.Message);
        }
    }
}

/// <summary>A client of a manager's control endpoint (<see cref="VTpmControlServer"/>).</summary>
public sealed class VTpmControlClient : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private VTpmControlClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Connects to the endpoint at <paramref name="path"/>; null when nothing listens there (no socket file, or a stale one).</summary>
    /// <param name="path">The socket path (<see cref="VTpmControlServer.DefaultPath"/>).</param>
    /// <param name="cancellationToken">Cancels the connection attempt.</param>
    /// <returns>The client, or null.</returns>
    public static async Task<VTpmControlClient?> TryConnectAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            return null;
        }

        UnixDomainSocketEndPoint endpoint;
        try
        {
            endpoint = new UnixDomainSocketEndPoint(path);
        }
        catch (ArgumentException)
        {
            // A path over the UNIX socket limit: no endpoint can be bound there either.
            return null;
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return new VTpmControlClient(socket);
        }
        catch (SocketException)
        {
            // A socket file left by a killed manager: nobody serves the folder.
            socket.Dispose();
            return null;
        }
    }

    /// <summary>Sends one request and returns the response.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>The response.</returns>
    /// <exception cref="IOException">The connection failed or the endpoint closed it.</exception>
    /// <exception cref="FormatException">The response is malformed.</exception>
    public async Task<VTpmControlResponse> SendAsync(VTpmControlRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            await VTpmControlProtocol.WriteAsync(_stream, VTpmControlProtocol.Encode(request), cancellationToken).ConfigureAwait(false);
            var response = await VTpmControlProtocol.ReadAsync(_stream, cancellationToken).ConfigureAwait(false) ?? throw new IOException("The control endpoint closed the connection.");
            return VTpmControlProtocol.DecodeResponse(response);
        }
        catch (SocketException e)
        {
            throw new IOException($"Control exchange failed: {e.Message}", e);
        }
    }

    /// <summary>Closes the connection.</summary>
    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }
}
