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

    private protected override async Task ServeCommandConnectionAsync(NetworkStream stream, Socket socket, CancellationToken cancellationToken)
    {
        var u32 = new byte[4];
        while (true)
        {
            TpmStreams.QuickAck(socket);
            if (!await TpmStreams.ReadExactOrEndAsync(stream, u32, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            var code = BinaryPrimitives.ReadUInt32BigEndian(u32);
            switch (code)
            {
                case MssimSignal.SendCommand:
                    var head = new byte[5];
                    TpmStreams.QuickAck(socket);
                    await ReadAsync(stream, head, cancellationToken).ConfigureAwait(false);
                    var length = BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(1));
                    if (length > TpmStreams.MaxBufferSize)
                    {
                        throw new InvalidDataException($"mssim command length {length} is out of range");
                    }

                    var command = new byte[length];
                    TpmStreams.QuickAck(socket);
                    await ReadAsync(stream, command, cancellationToken).ConfigureAwait(false);
                    var response = Tpm.Execute(command);
                    var frame = new byte[8 + response.Length];
                    BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)response.Length);
                    response.CopyTo(frame, 4);
                    await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
                    break;
                case MssimSignal.RemoteHandshake:
                    await ReadAsync(stream, u32, cancellationToken).ConfigureAwait(false);
                    var reply = new byte[12];
                    BinaryPrimitives.WriteUInt32BigEndian(reply, 1);
                    BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(4), 0x1 | 0x2 | 0x4);
                    await stream.WriteAsync(reply, cancellationToken).ConfigureAwait(false);
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

                    await stream.WriteAsync(TpmWriter.U32Bytes(0), cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    private protected override async Task ServeControlConnectionAsync(NetworkStream stream, Socket socket, CancellationToken cancellationToken)
    {
        var u32 = new byte[4];
        while (true)
        {
            TpmStreams.QuickAck(socket);
            if (!await TpmStreams.ReadExactOrEndAsync(stream, u32, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            var code = BinaryPrimitives.ReadUInt32BigEndian(u32);
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

    private static async Task ReadAsync(NetworkStream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        if (!await TpmStreams.ReadExactOrEndAsync(stream, buffer, cancellationToken).ConfigureAwait(false))
        {
            throw new EndOfStreamException("connection closed inside an mssim frame");
        }
    }
}
