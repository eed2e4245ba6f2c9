using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TrustStack.VTpm.Core;

/// <summary>An in-process channel to a <see cref="VTpmMigrationDestination"/> (tests, and two managers in one process).</summary>
/// <param name="destination">The destination.</param>
public sealed class InProcessMigrationTransport(VTpmMigrationDestination destination) : IMigrationTransport
{
    /// <inheritdoc />
    public string Endpoint => "in-process";

    /// <inheritdoc />
    public ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(destination.Handle(request.Span));
    }

    /// <summary>Nothing to release.</summary>
    public void Dispose()
    {
    }
}

/// <summary>
/// The migration protocol over TCP: each message is a u32 big-endian length and the message; one
/// request, then its response, on a connection that is reopened after any failure.
/// </summary>
public sealed class TcpMigrationTransport : IMigrationTransport
{
    private readonly string _host;
    private readonly int _port;
    private readonly TimeSpan _timeout;
    private TcpClient? _client;

    /// <summary>Creates the channel (it connects at the first exchange).</summary>
    /// <param name="host">The destination host.</param>
    /// <param name="port">The destination's migration port.</param>
    /// <param name="timeout">How long one exchange may take; default 30 s.</param>
    public TcpMigrationTransport(string host, int port, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        _host = host;
        _port = port;
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
    }

    /// <inheritdoc />
    public string Endpoint => $"{_host}:{_port}";

    /// <summary>Parses <c>HOST:PORT</c>.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <returns>The channel.</returns>
    /// <exception cref="FormatException">Not HOST:PORT.</exception>
    public static TcpMigrationTransport Parse(string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var colon = endpoint.LastIndexOf(':');
        return colon > 0 && int.TryParse(endpoint.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? new TcpMigrationTransport(endpoint[..colon], port)
            : throw new FormatException($"'{endpoint}' is not HOST:PORT.");
    }

    /// <inheritdoc />
    public async ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            if (_client is null)
            {
                _client = new TcpClient { NoDelay = true };
                await _client.ConnectAsync(_host, _port, timeout.Token).ConfigureAwait(false);
            }

            var stream = _client.GetStream();
            await MigrationFraming.WriteAsync(stream, request, timeout.Token).ConfigureAwait(false);
            return await MigrationFraming.ReadAsync(stream, timeout.Token).ConfigureAwait(false) ?? throw new IOException("The destination closed the connection.");
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            _client?.Dispose();
            _client = null;
            throw e as IOException ?? new IOException($"Migration exchange with {Endpoint} failed: {e.Message}", e);
        }
    }

    /// <summary>Closes the connection.</summary>
    public void Dispose()
    {
        _client?.Dispose();
        _client = null;
    }
}

/// <summary>Accepts migrations on 127.0.0.1:port for a <see cref="VTpmMigrationDestination"/> (<c>truststack vtpm serve --accept-migrations PORT</c>).</summary>
public sealed class TcpMigrationListener : IAsyncDisposable
{
    private readonly VTpmMigrationDestination _destination;
    private readonly TcpListener _listener;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task? _accepting;

    /// <summary>Creates the listener (not yet listening).</summary>
    /// <param name="destination">Where messages go.</param>
    /// <param name="port">The port on 127.0.0.1; 0 picks a free one.</param>
    /// <param name="logger">Logger.</param>
    public TcpMigrationListener(VTpmMigrationDestination destination, int port = 0, ILogger<TcpMigrationListener>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        _destination = destination;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _logger = logger ?? NullLogger<TcpMigrationListener>.Instance;
    }

    /// <summary>The port, once started.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Starts listening.</summary>
    /// <exception cref="SocketException">The port is taken.</exception>
    public void Start()
    {
        _listener.Start();
        _accepting = AcceptLoopAsync(_stop.Token);
        _logger.LogInformation("Accepting vTPM migrations on 127.0.0.1:{Port}", Port);
    }

    /// <summary>Stops listening and waits for the accept loop.</summary>
    /// <returns>A task that completes when stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        if (_accepting is not null)
        {
            await _accepting.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        var connections = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
                connections.RemoveAll(t => t.IsCompleted);
                connections.Add(ServeAsync(client, cancellationToken));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }

        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    private async Task ServeAsync(TcpClient client, CancellationToken cancellationToken)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                while (await MigrationFraming.ReadAsync(stream, cancellationToken).ConfigureAwait(false) is { } request)
                {
                    var response = _destination.Handle(request);
                    await MigrationFraming.WriteAsync(stream, response, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                _logger.LogDebug(e, "Migration connection closed");
            }
        }
    }
}

/// <summary>u32 big-endian length-prefixed messages, at most <see cref="MigrationMessage.MaxSize"/> octets.</summary>
internal static class MigrationFraming
{
    public static async ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var prefix = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)message.Length);
        await stream.WriteAsync(prefix, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one message; null at a clean end of stream.</summary>
    /// <exception cref="IOException">Truncated, or longer than the limit.</exception>
    public static async ValueTask<byte[]?> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var prefix = new byte[4];
        var read = await stream.ReadAtLeastAsync(prefix, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            return null;
        }

        if (read < 4)
        {
            throw new IOException("Truncated message length.");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        if (length > MigrationMessage.MaxSize)
        {
            throw new IOException($"A message of {length} octets exceeds the limit of {MigrationMessage.MaxSize}.");
        }

        var message = new byte[length];
        await stream.ReadExactlyAsync(message, cancellationToken).ConfigureAwait(false);
        return message;
    }
}
