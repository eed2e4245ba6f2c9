using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Serves an engine over the Microsoft simulator protocol (mssim), as tpm2-tss's mssim TCTI and
/// IBM's TSS (socket interface) expect: TPM_SEND_COMMAND framing on port P, platform signals
/// (see <see cref="MssimSignal"/>) on P+1, each answered with u32 0. Sets TCP_QUICKACK before every
/// receive so clients that send header and body separately do not stall ~40 ms per command.
/// Connections are limited as <see cref="TpmServerOptions"/> says (cap, idle timeout, command deadline).
/// </summary>
public sealed class MssimServer : TpmTcpServer
{
    /// <summary>Creates the server; call <see cref="TpmTcpServer.Start"/>.</summary>
    /// <param name="tpm">The engine to serve.</param>
    /// <param name="port">TPM port (the platform port is one above); 0 picks a free pair.</param>
    /// <param name="logger">Connection and error events.</param>
    /// <param name="options">Connection cap, idle timeout and command deadline; null for the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public MssimServer(SoftwareTpm tpm, int port = 0, ILogger<MssimServer>? logger = null, TpmServerOptions? options = null)
        : base(tpm, port, logger, options)
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
        // mssim TPM port framing (the reference simulator's TcpServer.c): u32 command code; for
        // TPM_SEND_COMMAND u8 locality, u32 length, the command; answered u32 length, response,
        // u32 0. Lengths are checked before anything is allocated.
        var timer = new ServerReceiveTimer(socket, IdleTimeout, CommandTimeout);
        Span<byte> u32 = stackalloc byte[4];
        Span<byte> head = stackalloc byte[5];
        while (true)
        {
            TpmStreams.QuickAck(socket);
            if (!timer.ReadCommandStart(stream, u32))
            {
                return;
            }

            var code = BinaryPrimitives.ReadUInt32BigEndian(u32);
            switch (code)
            {
                case MssimSignal.SendCommand:
                    TpmStreams.QuickAck(socket);
                    timer.ReadWithin(stream, head, 4);
                    var length = BinaryPrimitives.ReadUInt32BigEndian(head[1..]);
                    if (length > TpmStreams.MaxBufferSize)
                    {
                        throw new InvalidDataException($"mssim command length {length} is out of range");
                    }

                    var command = new byte[length];
                    TpmStreams.QuickAck(socket);
                    timer.ReadWithin(stream, command, 9);
                    var response = Tpm.Execute(command);
                    var frame = new byte[8 + response.Length];
                    BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)response.Length);
                    response.CopyTo(frame, 4);
                    stream.Write(frame);
                    break;
                case MssimSignal.RemoteHandshake:
                    timer.ReadWithin(stream, u32, 4);
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
        using var timer = new AsyncReceiveTimer(IdleTimeout, CommandTimeout, cancellationToken);
        var u32 = new byte[4];
        while (true)
        {
            TpmStreams.QuickAck(socket);
            if (!await timer.ReadCommandStartAsync(stream, u32).ConfigureAwait(false))
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
                await stream.WriteAsync(TpmWriter.U32Bytes(0), timer.Token).ConfigureAwait(false);
                Stop();
                return;
            }

            if (!Signal(code))
            {
                throw new InvalidDataException($"unknown mssim platform signal {code}");
            }

            await stream.WriteAsync(TpmWriter.U32Bytes(0), timer.Token).ConfigureAwait(false);
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
}
