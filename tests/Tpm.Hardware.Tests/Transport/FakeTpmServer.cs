using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TrustStack.Tpm.Hardware.Tests.Transport;

/// <summary>
/// A misbehaving TPM server for transport fault tests: each accepted connection is handed to
/// the serve callback on its own thread, with helpers to read a whole command (swtpm framing or
/// mssim framing) and counters the tests assert on — above all how many commands arrived.
/// </summary>
internal sealed class FakeTpmServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Action<FakeTpmServer, Socket, int> _serve;
    private readonly Thread _accept;
    private readonly List<Socket> _open = [];
    private readonly Lock _lock = new();
    private int _connections;
    private int _commands;
    private volatile bool _stopped;

    /// <param name="serve">What to do with connection number n (0-based).</param>
    public FakeTpmServer(Action<FakeTpmServer, Socket, int> serve)
    {
        _serve = serve;
        _listener.Start();
        _accept = new Thread(AcceptLoop) { IsBackground = true, Name = "fake TPM server" };
        _accept.Start();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Commands read whole so far.</summary>
    public int Commands => Volatile.Read(ref _commands);

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Reads one command framed by its header size (swtpm data port) and counts it; null at end of stream.</summary>
    public byte[]? ReadCommand(Socket socket)
    {
        var header = new byte[10];
        if (!ReadExact(socket, header))
        {
            return null;
        }

        var size = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2));
        var command = new byte[size];
        header.CopyTo(command, 0);
        if (!ReadExact(socket, command.AsSpan(10)))
        {
            return null;
        }

        Interlocked.Increment(ref _commands);
        return command;
    }

    /// <summary>Reads one mssim TPM_SEND_COMMAND frame and counts it; null at end of stream.</summary>
    public byte[]? ReadMssimCommand(Socket socket)
    {
        var head = new byte[9];
        if (!ReadExact(socket, head))
        {
            return null;
        }

        var command = new byte[BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(5))];
        if (!ReadExact(socket, command))
        {
            return null;
        }

        Interlocked.Increment(ref _commands);
        return command;
    }

    /// <summary>A 10-octet TPM_RC_SUCCESS response.</summary>
    public static byte[] SuccessResponse()
    {
        var response = new byte[10];
        BinaryPrimitives.WriteUInt16BigEndian(response, 0x8001);
        BinaryPrimitives.WriteUInt32BigEndian(response.AsSpan(2), 10);
        return response;
    }

    /// <summary>Blocks until the client closes the connection or the server stops (a server that never answers).</summary>
    public void WaitForClose(Socket socket)
    {
        var buffer = new byte[256];
        try
        {
            while (!_stopped && socket.Receive(buffer) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _stopped = true;
        _listener.Stop();
        lock (_lock)
        {
            foreach (var s in _open)
            {
                s.Dispose();
            }
        }

        _accept.Join(TimeSpan.FromSeconds(5));
    }

    private static bool ReadExact(Socket socket, Span<byte> buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = socket.Receive(buffer[read..]);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    private void AcceptLoop()
    {
        while (!_stopped)
        {
            Socket socket;
            try
            {
                socket = _listener.AcceptSocket();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var n = Interlocked.Increment(ref _connections) - 1;
            lock (_lock)
            {
                _open.Add(socket);
            }

            new Thread(() =>
            {
                try
                {
                    _serve(this, socket, n);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
                {
                }
                finally
                {
                    socket.Dispose();
                }
            })
            { IsBackground = true }.Start();
        }
    }
}
