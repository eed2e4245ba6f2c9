using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Serves an engine over the Microsoft simulator protocol (mssim), as tpm2-tss's mssim TCTI and
/// IBM's TSS (socket interface) expect: TPM_SEND_COMMAND framing on port P, platform signals
/// (see <see cref="MssimSignal"/>) on P+1, each answered with u32 0. Sets TCP_QUICKACK before every
/// receive so clients that send header and body separately do not stall ~40 ms per command.
/// </summary>
public sealed class MssimServer : TpmTcpServer
{
    /// <summary>Creates the server; call <see cref="TpmTcpServer.Start"/>.</summary>
    public MssimServer(SoftwareTpm tpm, int port = 0, ILogger<MssimServer>? logger = null)
        : base(tpm, port, logger)
    {
    }

    private protected override Task ServeCommandConnectionAsync(NetworkStream stream, Socket socket, CancellationToken cancellationToken) =>
        // Served synchronously on its own thread, as SwtpmSocketServer's command connections are
        // (see there): an asynchronous read would cost every later command a thread hop.
        Task.Factory.StartNew(
            () =>
            {
                using var stopping = cancellationToken.Register(static s => ((Socket)s!).Close(), socket);
                ServeCommands(stream, socket);
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private void ServeCommands(NetworkStream stream, Socket socket)
    {
        Span<byte> u32 = stackalloc byte[4];
        Span<byte> head = stackalloc byte[5];
        while (ReadCode(stream, socket, u32) is { } code)
        {
            switch (code)
            {
                case MssimSignal.SendCommand:
                    TpmStreams.QuickAck(socket);
                    Read(stream, head);
                    var length = BinaryPrimitives.ReadUInt32BigEndian(head[1..]);
                    if (length > TpmStreams.MaxBufferSize)
                    {
                        throw new InvalidDataException($"mssim command length {length} is out of range");
                    }

                    var command = new byte[length];
                    TpmStreams.QuickAck(socket);
                    Read(stream, command);
                    var response = Tpm.Execute(command);
                    var frame = new byte[8 + response.Length];
                    BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)response.Length);
                    response.CopyTo(frame, 4);
                    stream.Write(frame);
                    break;
                case MssimSignal.RemoteHandshake:
                    Read(stream, u32);
                    var reply = new byte[12];
                    BinaryPrimitives.WriteUInt32BigEndian(reply, 1);
                    BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(4), 0x1 | 0x2 | 0x4);
                    stream.Write(reply);
                    break;
                case MssimSignal.SessionEnd:
                    return;
                case MssimSignal.Stop:
                    Stop();
                    return;
                default:
                    if (!Signal(code))
                    {
                        throw new InvalidDataException($"unknown mssim command {code}");
                    }

                    stream.Write(TpmWriter.U32Bytes(0));
                    break;
            }
        }
    }

    private protected override async Task ServeControlConnectionAsync(NetworkStream stream, Socket socket, CancellationToken cancellationToken)
    {
        var u32 = new byte[4];
        while (await ReadCodeAsync(stream, socket, u32, cancellationToken).ConfigureAwait(false) is { } code)
        {
            if (code == MssimSignal.SessionEnd)
            {
                return;
            }

            if (code == MssimSignal.Stop)
            {
                await stream.WriteAsync(TpmWriter.U32Bytes(0), cancellationToken).ConfigureAwait(false);
                Stop();
                return;
            }

            if (!Signal(code))
            {
                throw new InvalidDataException($"unknown mssim platform signal {code}");
            }

            await stream.WriteAsync(TpmWriter.U32Bytes(0), cancellationToken).ConfigureAwait(false);
        }
    }

    private bool Signal(uint code)
    {
        switch (code)
        {
            case MssimSignal.PowerOn:
                // As the reference simulator: power-on while on is ignored, so each client may send it.
                if (!Tpm.IsPoweredOn)
                {
                    Tpm.PowerOn();
                }

                return true;
            case MssimSignal.PowerOff:
                Tpm.PowerOff();
                return true;
            case MssimSignal.NvOn or MssimSignal.NvOff or MssimSignal.CancelOn or MssimSignal.CancelOff
                or MssimSignal.PhysicalPresenceOn or MssimSignal.PhysicalPresenceOff:
                return true;
            default:
                return false;
        }
    }

    /// <summary>The next u32 command code of a connection, or null when the client has closed it.</summary>
    private static async Task<uint?> ReadCodeAsync(NetworkStream stream, Socket socket, byte[] u32, CancellationToken cancellationToken)
    {
        TpmStreams.QuickAck(socket);
        return await TpmStreams.ReadExactOrEndAsync(stream, u32, cancellationToken).ConfigureAwait(false)
            ? BinaryPrimitives.ReadUInt32BigEndian(u32)
            : null;
    }

    private static uint? ReadCode(NetworkStream stream, Socket socket, Span<byte> u32)
    {
        TpmStreams.QuickAck(socket);
        return TpmStreams.ReadExactOrEnd(stream, u32) ? BinaryPrimitives.ReadUInt32BigEndian(u32) : null;
    }

    private static void Read(NetworkStream stream, Span<byte> buffer)
    {
        if (!TpmStreams.ReadExactOrEnd(stream, buffer))
        {
            throw new EndOfStreamException("connection closed inside an mssim frame");
        }
    }
}
