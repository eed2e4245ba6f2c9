using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// One client TCP connection of a socket transport, used only with blocking calls: a connect,
/// send and receive that each end within a timeout, and every failure as a
/// <see cref="TpmTransportException"/> naming the peer. Nothing here sends anything twice.
/// </summary>
internal sealed class TpmSocketConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly TpmSocketTimeouts _timeouts;
    private int _receiveTimeoutMs;

    private TpmSocketConnection(Socket socket, string peer, TpmSocketTimeouts timeouts)
    {
        _socket = socket;
        Peer = peer;
        _timeouts = timeouts;
        _socket.SendTimeout = ToMilliseconds(timeouts.Send);
    }

    /// <summary>The peer, for example <c>swtpm 127.0.0.1:2321</c>.</summary>
    public string Peer { get; }

    /// <summary>The underlying socket.</summary>
    public Socket Socket => _socket;

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> within the connect timeout.</summary>
    /// <exception cref="TpmTransportException">Refused, unreachable, unresolvable or timed out.</exception>
    public static TpmSocketConnection Open(string protocol, string host, int port, TpmSocketTimeouts timeouts)
    {
        var peer = $"{protocol} {host}:{port}";
        var started = Stopwatch.GetTimestamp();
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : Dns.GetHostAddresses(host);
        }
        catch (SocketException e)
        {
            throw new TpmTransportException(peer, TpmTransportFailure.ConnectFailed, false, $"cannot resolve '{host}' ({e.Message})", e);
        }

        TpmTransportException? last = null;
        foreach (var address in addresses)
        {
            var remaining = timeouts.Connect - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            try
            {
                return new TpmSocketConnection(ConnectOne(address, port, remaining, peer, timeouts.Connect), peer, timeouts);
            }
            catch (TpmTransportException e)
            {
                last = e;
            }
        }

        throw last ?? new TpmTransportException(peer, TpmTransportFailure.ConnectTimeout, false, $"no connection within the connect timeout of {TpmSocketTimeouts.Describe(timeouts.Connect)} (connect-timeout=)");
    }

    /// <summary>
    /// True when the connection is still usable for a new command: the peer has not closed it
    /// and nothing unexpected is waiting to be read. A server that drops an idle connection
    /// (TpmTcpServer's idle timeout, or a restarted swtpm) is noticed here, before any octet of
    /// the next command is written, so that command can go out on a new connection instead.
    /// </summary>
    public bool IsReusable()
    {
        try
        {
            // Readable with nothing to read is end of stream (or an error); readable with data is
            // a response nobody asked for. Either way the connection is out of step.
            return !_socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Writes all of <paramref name="data"/> within the send timeout.</summary>
    /// <exception cref="TpmTransportException">Timed out or the connection failed; <see cref="TpmTransportException.CommandMayHaveExecuted"/> tells whether any octet had gone out.</exception>
    public void Send(ReadOnlySpan<byte> data, bool isCommand = true)
    {
        var sent = 0;
        while (sent < data.Length)
        {
            int n;
            SocketError error;
            try
            {
                n = _socket.Send(data[sent..], SocketFlags.None, out error);
            }
            catch (ObjectDisposedException e)
            {
                throw new TpmTransportException(Peer, TpmTransportFailure.ConnectionClosed, isCommand && sent > 0, "the connection was closed", e);
            }

            if (error != SocketError.Success)
            {
                // An octet handed to the kernel may reach the TPM even if the send then fails.
                var mayHaveRun = isCommand && (sent > 0 || n > 0);
                throw error is SocketError.TimedOut or SocketError.WouldBlock
                    ? new TpmTransportException(Peer, TpmTransportFailure.SendTimeout, mayHaveRun, $"the command could not be written within the send timeout of {TpmSocketTimeouts.Describe(_timeouts.Send)} (send-timeout=)", new SocketException((int)error))
                    : new TpmTransportException(Peer, TpmTransportFailure.ConnectionClosed, mayHaveRun, $"the connection failed while sending ({error})", new SocketException((int)error));
            }

            sent += n;
        }
    }

    /// <summary>Reads exactly <paramref name="buffer"/>.Length octets before <paramref name="deadline"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    /// <exception cref="TpmTransportException">The deadline passed, or the peer closed or reset the connection.</exception>
    public void ReceiveExact(Span<byte> buffer, long deadline, TimeSpan timeout, string what)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (remaining <= TimeSpan.Zero)
            {
                throw Timeout(timeout, what, read);
            }

            SetReceiveTimeout(remaining);
            int n;
            SocketError error;
            try
            {
                n = _socket.Receive(buffer[read..], SocketFlags.None, out error);
            }
            catch (ObjectDisposedException e)
            {
                throw new TpmTransportException(Peer, TpmTransportFailure.ConnectionClosed, true, $"the connection was closed while waiting for {what}", e);
            }

            if (error is SocketError.TimedOut or SocketError.WouldBlock)
            {
                throw Timeout(timeout, what, read);
            }

            if (error != SocketError.Success)
            {
                throw new TpmTransportException(Peer, TpmTransportFailure.ConnectionClosed, true, $"the connection failed after {read} octets of {what} ({error})", new SocketException((int)error));
            }

            if (n == 0)
            {
                throw new TpmTransportException(Peer, TpmTransportFailure.ConnectionClosed, true, read == 0 ? $"the server closed the connection before {what}" : $"the server closed the connection after {read} of {buffer.Length} octets of {what}");
            }

            read += n;
        }
    }

    /// <summary>A deadline <paramref name="timeout"/> from now, as a <see cref="Stopwatch"/> timestamp.</summary>
    public static long DeadlineAfter(TimeSpan timeout) => Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);

    /// <inheritdoc />
    public void Dispose() => _socket.Dispose();

    private TpmTransportException Timeout(TimeSpan timeout, string what, int read) =>
        new(Peer, TpmTransportFailure.ResponseTimeout, true, read == 0
            ? $"no {what} within the response timeout of {TpmSocketTimeouts.Describe(timeout)} (timeout=)"
            : $"only {read} octets of {what} within the response timeout of {TpmSocketTimeouts.Describe(timeout)} (timeout=)");

    private void SetReceiveTimeout(TimeSpan remaining)
    {
        // One setsockopt only when the value must change: a response that arrives in one segment
        // costs none. The socket may wait up to 50 ms past the deadline, never stop before it.
        var ms = ToMilliseconds(remaining);
        if (_receiveTimeoutMs < ms || _receiveTimeoutMs - ms > 50)
        {
            _socket.ReceiveTimeout = ms;
            _receiveTimeoutMs = ms;
        }
    }

    private static int ToMilliseconds(TimeSpan value) => (int)Math.Clamp(Math.Ceiling(value.TotalMilliseconds), 1, int.MaxValue);

    private static Socket ConnectOne(IPAddress address, int port, TimeSpan timeout, string peer, TimeSpan configured)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // A non-blocking connect(2) and a poll, not ConnectAsync: on Linux .NET switches a
            // socket to non-blocking mode for good at its first asynchronous operation, after which
            // every blocking receive is woken through the socket event loop's thread (see
            // SwtpmSocketServer). Set back to blocking, the socket stays on the direct path.
            socket.Blocking = false;
            try
            {
                socket.Connect(address, port);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
                // Connecting.
            }

            if (!socket.Poll(timeout, SelectMode.SelectWrite))
            {
                throw new TpmTransportException(peer, TpmTransportFailure.ConnectTimeout, false, $"no connection within the connect timeout of {TpmSocketTimeouts.Describe(configured)} (connect-timeout=)");
            }

            var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (error != SocketError.Success)
            {
                throw new TpmTransportException(peer, TpmTransportFailure.ConnectFailed, false, error == SocketError.ConnectionRefused
                    ? "connection refused (nothing listens there)"
                    : $"cannot connect ({error})", new SocketException((int)error));
            }

            socket.Blocking = true;
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new TpmTransportException(peer, TpmTransportFailure.ConnectFailed, false, $"cannot connect ({e.SocketErrorCode})", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
