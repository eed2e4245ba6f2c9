using System.Diagnostics;
using System.Net.Sockets;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// The receive timeouts of one connection a TPM server serves synchronously on its own thread:
/// while it waits for the first octet of a command the socket's receive timeout is the idle
/// timeout; from that octet on, the rest of the command must arrive before a deadline, so a
/// client sending one octet a second cannot hold the thread. Implemented with the socket's own
/// SO_RCVTIMEO (<see cref="Socket.ReceiveTimeout"/>) on blocking receives, never with an
/// asynchronous read: the first asynchronous operation would switch the socket to non-blocking
/// mode for good and cost every later command a thread hop (see <see cref="SwtpmSocketServer"/>).
/// The timeout is set only when it changes, so a command that arrives in one segment costs no
/// extra system call.
/// </summary>
internal sealed class ServerReceiveTimer
{
    private const int Infinite = 0; // Socket.ReceiveTimeout's "no timeout"
    private const int SlackMilliseconds = 50;
    private readonly Socket _socket;
    private readonly int _idleMs;
    private readonly TimeSpan _idle;
    private readonly TimeSpan _command;
    private long _deadline;
    private int _currentMs = -1;

    public ServerReceiveTimer(Socket socket, TimeSpan idle, TimeSpan command)
    {
        _socket = socket;
        _idle = idle;
        _command = command;
        _idleMs = idle == Timeout.InfiniteTimeSpan ? Infinite : Milliseconds(idle);
        _socket.SendTimeout = Milliseconds(command);
    }

    /// <summary>True from the first octet of a command until <see cref="AwaitCommand"/>.</summary>
    public bool InCommand => _deadline != 0;

    /// <summary>Before waiting for the first octet of the next command: the idle timeout applies.</summary>
    public void AwaitCommand()
    {
        _deadline = 0;
        Set(_idleMs);
    }

    /// <summary>The first octet of a command has arrived (or was already buffered): its deadline starts now.</summary>
    public void CommandStarted()
    {
        if (_deadline == 0)
        {
            _deadline = Stopwatch.GetTimestamp() + (long)(_command.TotalSeconds * Stopwatch.Frequency);
        }
    }

    /// <summary>Before a receive inside a command: the time left until its deadline.</summary>
    /// <exception cref="ServerConnectionTimeoutException">The deadline has passed.</exception>
    public void BeforeReceive(int received)
    {
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _deadline);
        if (remaining <= TimeSpan.Zero)
        {
            throw CommandTimedOut(received);
        }

        var ms = Milliseconds(remaining);
        var current = _currentMs == Infinite ? int.MaxValue : _currentMs;
        if (current < ms || current - ms > SlackMilliseconds)
        {
            Set(ms);
        }
    }

    /// <summary>The timeout error for a receive that timed out, or null when <paramref name="e"/> is another error.</summary>
    public ServerConnectionTimeoutException? Translate(IOException e, int received) =>
        e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock }
            ? InCommand ? CommandTimedOut(received) : new ServerConnectionTimeoutException(idle: true, $"idle for {TpmSocketTimeouts.Describe(_idle)} (IdleTimeout)")
            : null;

    /// <summary>
    /// Reads the first octets of a command into <paramref name="buffer"/>: the first within the
    /// idle timeout, the rest within the command deadline. False on a clean close before any octet.
    /// </summary>
    /// <exception cref="ServerConnectionTimeoutException">Idle too long, or the command too slow.</exception>
    /// <exception cref="EndOfStreamException">The client closed part-way.</exception>
    public bool ReadCommandStart(NetworkStream stream, Span<byte> buffer)
    {
        AwaitCommand();
        var n = Receive(stream, buffer, 0);
        if (n == 0)
        {
            return false;
        }

        CommandStarted();
        ReadWithin(stream, buffer[n..], n);
        return true;
    }

    /// <summary>Reads exactly <paramref name="buffer"/> within the current command's deadline.</summary>
    /// <exception cref="ServerConnectionTimeoutException">The command is too slow.</exception>
    /// <exception cref="EndOfStreamException">The client closed part-way.</exception>
    public void ReadWithin(NetworkStream stream, Span<byte> buffer, int alreadyReceived = 0)
    {
        CommandStarted();
        var read = 0;
        while (read < buffer.Length)
        {
            BeforeReceive(alreadyReceived + read);
            var n = Receive(stream, buffer[read..], alreadyReceived + read);
            if (n == 0)
            {
                throw new EndOfStreamException($"connection closed after {alreadyReceived + read} octets of a command");
            }

            read += n;
        }
    }

    private int Receive(NetworkStream stream, Span<byte> buffer, int received)
    {
        try
        {
            return stream.Read(buffer);
        }
        catch (IOException e) when (Translate(e, received) is { } timeout)
        {
            throw timeout;
        }
    }

    private ServerConnectionTimeoutException CommandTimedOut(int received) =>
        new(idle: false, $"a command was not complete within {TpmSocketTimeouts.Describe(_command)} (CommandTimeout; {received} octets received)");

    private void Set(int ms)
    {
        if (ms != _currentMs)
        {
            _socket.ReceiveTimeout = ms;
            _currentMs = ms;
        }
    }

    private static int Milliseconds(TimeSpan value) => (int)Math.Clamp(Math.Ceiling(value.TotalMilliseconds), 1, int.MaxValue);
}

/// <summary>A served connection was closed for being idle too long or for a command arriving too slowly.</summary>
internal sealed class ServerConnectionTimeoutException(bool idle, string message) : IOException(message)
{
    /// <summary>True for the idle timeout, false for the command deadline.</summary>
    public bool Idle { get; } = idle;
}
