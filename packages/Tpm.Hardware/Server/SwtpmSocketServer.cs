using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Serves an engine over swtpm's socket protocol, so tpm2-tools
/// (<c>TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=P</c>) and anything else that speaks to swtpm
/// can drive it: raw TPM commands on port P (one or many per connection), control commands on
/// P+1 (see <see cref="SwtpmControl"/>). Connections are limited as <see cref="TpmServerOptions"/>
/// says (cap, idle timeout, command deadline).
/// </summary>
public sealed class SwtpmSocketServer : TpmTcpServer
{
    // swtpm's ptm_cap bits for what this server implements.
    private const ulong Capabilities = 1 /* INIT */ | (1 << 1) /* SHUTDOWN */ | (1 << 2) /* GET_TPMESTABLISHED */
        | (1 << 3) /* SET_LOCALITY */ | (1 << 5) /* CANCEL_TPM_CMD */ | (1 << 6) /* STORE_VOLATILE */
        | (1 << 7) /* RESET_TPMESTABLISHED */ | (1 << 10) /* STOP */ | (1 << 11) /* GET_CONFIG */ | (1 << 13) /* SET_BUFFERSIZE */;

    private const uint TpmSuccess = 0;
    private const uint TpmBadParameter = 3;
    private const uint TpmBadOrdinal = 10;
    private const uint TpmBadLocality = 0x3d;

    private volatile bool _established;

    /// <summary>Creates the server; call <see cref="TpmTcpServer.Start"/>.</summary>
    /// <param name="tpm">The engine to serve.</param>
    /// <param name="port">Data port (the control port is one above); 0 picks a free pair.</param>
    /// <param name="logger">Connection and error events.</param>
    /// <param name="options">Connection cap, idle timeout and command deadline; null for the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public SwtpmSocketServer(SoftwareTpm tpm, int port = 0, ILogger<SwtpmSocketServer>? logger = null, TpmServerOptions? options = null)
        : base(tpm, port, logger, options)
    {
    }

    private protected override async Task ServeCommandConnectionAsync(NetworkStream stream, Socket socket, CancellationToken cancellationToken)
    {
        // The idle timeout and the command deadline are the socket's own receive timeout on
        // these blocking reads (ServerReceiveTimer), for the reason below.
        var reader = new TpmCommandReader(stream, new ServerReceiveTimer(socket, IdleTimeout, CommandTimeout));

        // Each connection is served on its own thread with blocking reads, as swtpm serves it. No
        // asynchronous operation may touch the socket: on Linux, .NET switches a socket to
        // non-blocking mode for good at its first asynchronous operation, and every later
        // synchronous read then waits for the socket event loop's thread to wake it — an extra
        // thread hop on every command, most of a PCR_Extend round trip. A stop closes the socket,
        // which ends the blocking read.
        await Task.Factory.StartNew(
            () =>
            {
                using var stopping = cancellationToken.Register(static s => ((Socket)s!).Close(), socket);
                while (reader.Read() is { } command && Answer(stream, command))
                {
                }
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).ConfigureAwait(false);
    }

    private bool Answer(NetworkStream stream, ReadOnlyMemory<byte> command)
    {
        stream.Write(Tpm.Execute(command.Span));

        // A size out of range cannot be re-synchronized: after answering as a TPM does, drop the connection.
        return command.Length != 10 || BinaryPrimitives.ReadUInt32BigEndian(command.Span[2..]) == 10;
    }

    private protected override async Task ServeControlConnectionAsync(NetworkStream stream, Socket socket, CancellationToken cancellationToken)
    {
        // Control framing (swtpm's ctrlchannel, tpm_ioctl.h): u32 big-endian command code, a
        // payload whose size the code fixes, a reply starting with the u32 result. Only the codes
        // below are read; any other gets TPM_BAD_ORDINAL and the connection ends, since its
        // payload size is unknown.
        using var timer = new AsyncReceiveTimer(IdleTimeout, CommandTimeout, cancellationToken);
        var u32 = new byte[4];
        while (await timer.ReadCommandStartAsync(stream, u32).ConfigureAwait(false))
        {
            var command = BinaryPrimitives.ReadUInt32BigEndian(u32);
            byte[] reply;
            switch (command)
            {
                case SwtpmControl.GetCapability:
                    reply = new byte[8];
                    BinaryPrimitives.WriteUInt64BigEndian(reply, Capabilities);
                    break;
                case SwtpmControl.Init:
                    await ReadPayloadAsync(stream, timer, 4).ConfigureAwait(false);
                    Tpm.PowerOff();
                    Tpm.PowerOn();
                    reply = TpmWriter.U32Bytes(TpmSuccess);
                    break;
                case SwtpmControl.Shutdown:
                    Tpm.PowerOff();
                    reply = TpmWriter.U32Bytes(TpmSuccess);
                    break;
                case SwtpmControl.GetTpmEstablished:
                    reply = [0, 0, 0, 0, _established ? (byte)1 : (byte)0];
                    break;
                case SwtpmControl.SetLocality:
                    var locality = (await ReadPayloadAsync(stream, timer, 1).ConfigureAwait(false))[0];
                    if (locality > 4)
                    {
                        reply = TpmWriter.U32Bytes(TpmBadLocality);
                    }
                    else
                    {
                        Tpm.Locality = locality;
                        reply = TpmWriter.U32Bytes(TpmSuccess);
                    }

                    break;
                case SwtpmControl.ResetTpmEstablished:
                    var resetLocality = (await ReadPayloadAsync(stream, timer, 1).ConfigureAwait(false))[0];
                    if (resetLocality is 3 or 4)
                    {
                        _established = false;
                        reply = TpmWriter.U32Bytes(TpmSuccess);
                    }
                    else
                    {
                        reply = TpmWriter.U32Bytes(TpmBadLocality);
                    }

                    break;
                case SwtpmControl.CancelTpmCommand:
                    reply = TpmWriter.U32Bytes(TpmSuccess);
                    break;
                case SwtpmControl.StoreVolatile:
                    Tpm.Save();
                    reply = TpmWriter.U32Bytes(TpmSuccess);
                    break;
                case SwtpmControl.GetConfig:
                    reply = new byte[8];
                    break;
                case SwtpmControl.SetBufferSize:
                    var requested = BinaryPrimitives.ReadUInt32BigEndian(await ReadPayloadAsync(stream, timer, 4).ConfigureAwait(false));
                    reply = new byte[16];
                    BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(0), requested is 0 or TpmStreams.MaxBufferSize ? TpmSuccess : TpmBadParameter);
                    BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(4), TpmStreams.MaxBufferSize);
                    BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(8), TpmStreams.MaxBufferSize);
                    BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(12), TpmStreams.MaxBufferSize);
                    break;
                case SwtpmControl.Stop:
                    Tpm.PowerOff();
                    await stream.WriteAsync(TpmWriter.U32Bytes(TpmSuccess), timer.Token).ConfigureAwait(false);
                    Logger.LogInformation("CMD_STOP received; stopping");
                    Stop();
                    return;
                default:
                    reply = TpmWriter.U32Bytes(TpmBadOrdinal);
                    await stream.WriteAsync(reply, timer.Token).ConfigureAwait(false);
                    return;
            }

            await stream.WriteAsync(reply, timer.Token).ConfigureAwait(false);
        }
    }

    private static async Task<byte[]> ReadPayloadAsync(NetworkStream stream, AsyncReceiveTimer timer, int length)
    {
        var payload = new byte[length];
        await timer.ReadWithinAsync(stream, payload, 4).ConfigureAwait(false);
        return payload;
    }
}
