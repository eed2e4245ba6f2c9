using System.Buffers.Binary;
using System.Net.Sockets;

namespace TrustStack.Tpm.Hardware;

/// <summary>Framing helpers shared by the socket transports and servers.</summary>
internal static class TpmStreams
{
    /// <summary>Largest command or response the socket protocols carry.</summary>
    public const int MaxBufferSize = 4096;

    /// <summary>Reads exactly <paramref name="buffer"/>.Length octets; false on a clean end of stream before the first octet.</summary>
    /// <exception cref="EndOfStreamException">The stream ended part-way.</exception>
    public static bool ReadExactOrEnd(Stream stream, Span<byte> buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = stream.Read(buffer[read..]);
            if (n == 0)
            {
                if (read == 0)
                {
                    return false;
                }

                throw new EndOfStreamException($"connection closed after {read} of {buffer.Length} octets");
            }

            read += n;
        }

        return true;
    }

    public static async ValueTask<bool> ReadExactOrEndAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[read..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                if (read == 0)
                {
                    return false;
                }

                throw new EndOfStreamException($"connection closed after {read} of {buffer.Length} octets");
            }

            read += n;
        }

        return true;
    }

    /// <summary>Reads one TPM command or response framed by its own header size field.</summary>
    public static byte[] ReadTpmMessage(Stream stream)
    {
        Span<byte> header = stackalloc byte[10];
        if (!ReadExactOrEnd(stream, header))
        {
            throw new EndOfStreamException("connection closed before a response");
        }

        var size = BinaryPrimitives.ReadUInt32BigEndian(header[2..]);
        if (size is < 10 or > MaxBufferSize)
        {
            throw new InvalidDataException($"TPM message size {size} is out of range");
        }

        var message = new byte[size];
        header.CopyTo(message);
        if (!ReadExactOrEnd(stream, message.AsSpan(10)))
        {
            throw new EndOfStreamException("connection closed inside a message");
        }

        return message;
    }

    /// <summary>
    /// Asks Linux to acknowledge at once: clients that write a header and a body in two sends
    /// otherwise wait for the delayed ACK (~40 ms) on every command.
    /// </summary>
    public static void QuickAck(Socket socket)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                socket.SetRawSocketOption(6 /* IPPROTO_TCP */, 12 /* TCP_QUICKACK */, [1, 0, 0, 0]);
            }
            catch (SocketException)
            {
                // Best effort: only latency is at stake.
            }
        }
    }
}
