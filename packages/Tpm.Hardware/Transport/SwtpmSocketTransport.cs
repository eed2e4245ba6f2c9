using System.Buffers.Binary;
using System.Net.Sockets;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// A TPM behind swtpm's socket protocol (or <c>truststack tpm serve --protocol swtpm</c>): raw
/// command bytes on the data port, control commands (u32 code + payload, big-endian) on the
/// control port, usually data port + 1. One persistent data connection; reconnects once if the
/// server closed it.
/// </summary>
public sealed class SwtpmSocketTransport : ITpmTransport
{
    private readonly string _host;
    private readonly int _port;
    private readonly int _controlPort;
    private TcpClient? _data;

    /// <summary>Connects to swtpm at <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <exception cref="SocketException">Nothing listens there.</exception>
    public SwtpmSocketTransport(string host, int port, int? controlPort = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        _host = host;
        _port = port;
        _controlPort = controlPort ?? port + 1;
        _data = Connect(_port);
    }

    /// <inheritdoc />
    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        var copy = command.ToArray();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                _data ??= Connect(_port);
                var stream = _data.GetStream();
                stream.Write(copy);
                return TpmStreams.ReadTpmMessage(stream);
            }
            catch (Exception e) when (attempt == 0 && e is IOException or SocketException)
            {
                _data?.Dispose();
                _data = null;
            }
        }
    }

    /// <summary>Sends one control command and returns the reply (which starts with the u32 result).</summary>
    /// <param name="command">CMD_* code from swtpm's tpm_ioctl.h.</param>
    /// <param name="payload">Request payload.</param>
    /// <param name="replyLength">Octets in the reply.</param>
    public byte[] Control(uint command, ReadOnlySpan<byte> payload, int replyLength = 4)
    {
        using var control = Connect(_controlPort);
        var stream = control.GetStream();
        var request = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(request, command);
        payload.CopyTo(request.AsSpan(4));
        stream.Write(request);
        var reply = new byte[replyLength];
        if (!TpmStreams.ReadExactOrEnd(stream, reply))
        {
            throw new EndOfStreamException($"control command {command} got no reply");
        }

        return reply;
    }

    /// <summary>CMD_INIT: (re)starts the TPM; it then needs TPM2_Startup unless the server starts it.</summary>
    /// <exception cref="IOException">The server refused.</exception>
    public void Init() => CheckResult(Control(SwtpmControl.Init, new byte[4]), "CMD_INIT");

    /// <summary>CMD_SHUTDOWN: powers the TPM off (state is saved).</summary>
    public void Shutdown() => CheckResult(Control(SwtpmControl.Shutdown, []), "CMD_SHUTDOWN");

    /// <summary>CMD_SET_LOCALITY.</summary>
    public void SetLocality(byte locality) => CheckResult(Control(SwtpmControl.SetLocality, [locality]), "CMD_SET_LOCALITY");

    /// <summary>CMD_STOP: stops the TPM.</summary>
    public void Stop() => CheckResult(Control(SwtpmControl.Stop, []), "CMD_STOP");

    /// <inheritdoc />
    public void Dispose()
    {
        _data?.Dispose();
        _data = null;
    }

    private static void CheckResult(byte[] reply, string what)
    {
        var result = BinaryPrimitives.ReadUInt32BigEndian(reply);
        if (result != 0)
        {
            throw new IOException($"{what} failed with result 0x{result:x}");
        }
    }

    private TcpClient Connect(int port)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            client.Connect(_host, port);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}

/// <summary>swtpm control-channel command codes (swtpm's tpm_ioctl.h, CMD_*).</summary>
public static class SwtpmControl
{
    /// <summary>CMD_GET_CAPABILITY.</summary>
    public const uint GetCapability = 0x01;
    /// <summary>CMD_INIT.</summary>
    public const uint Init = 0x02;
    /// <summary>CMD_SHUTDOWN.</summary>
    public const uint Shutdown = 0x03;
    /// <summary>CMD_GET_TPMESTABLISHED.</summary>
    public const uint GetTpmEstablished = 0x04;
    /// <summary>CMD_SET_LOCALITY.</summary>
    public const uint SetLocality = 0x05;
    /// <summary>CMD_CANCEL_TPM_CMD.</summary>
    public const uint CancelTpmCommand = 0x09;
    /// <summary>CMD_STORE_VOLATILE.</summary>
    public const uint StoreVolatile = 0x0a;
    /// <summary>CMD_RESET_TPMESTABLISHED.</summary>
    public const uint ResetTpmEstablished = 0x0b;
    /// <summary>CMD_STOP.</summary>
    public const uint Stop = 0x0e;
    /// <summary>CMD_GET_CONFIG.</summary>
    public const uint GetConfig = 0x0f;
    /// <summary>CMD_SET_BUFFERSIZE.</summary>
    public const uint SetBufferSize = 0x11;
}
