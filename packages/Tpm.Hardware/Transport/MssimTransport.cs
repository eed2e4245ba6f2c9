using System.Buffers.Binary;
using System.Net.Sockets;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// A TPM behind the Microsoft simulator protocol (mssim, IBM's tpm_server, or
/// <c>truststack tpm serve --protocol mssim</c>): commands on the TPM port framed as
/// <c>u32 TPM_SEND_COMMAND ‖ u8 locality ‖ u32 length ‖ command</c>, answered
/// <c>u32 length ‖ response ‖ u32 0</c>; power and NV signals on the platform port (TPM port + 1).
/// </summary>
public sealed class MssimTransport : ITpmTransport
{
    private readonly TcpClient _tpm;
    private readonly string _host;
    private readonly int _platformPort;

    /// <summary>Connects and, like tpm2-tss's mssim TCTI, signals power-on and NV-on.</summary>
    /// <exception cref="SocketException">Nothing listens there.</exception>
    public MssimTransport(string host, int port, int? platformPort = null, bool powerOn = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        _host = host;
        _platformPort = platformPort ?? port + 1;
        if (powerOn)
        {
            Signal(MssimSignal.PowerOn);
            Signal(MssimSignal.NvOn);
        }

        _tpm = new TcpClient { NoDelay = true };
        _tpm.Connect(host, port);
    }

    /// <summary>The locality commands are sent at.</summary>
    public byte Locality { get; set; }

    /// <inheritdoc />
    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        var stream = _tpm.GetStream();
        var frame = new byte[9 + command.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, MssimSignal.SendCommand);
        frame[4] = Locality;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), (uint)command.Length);
        command.CopyTo(frame.AsSpan(9));
        stream.Write(frame);

        Span<byte> u32 = stackalloc byte[4];
        if (!TpmStreams.ReadExactOrEnd(stream, u32))
        {
            throw new EndOfStreamException("mssim server closed the connection");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(u32);
        if (length > TpmStreams.MaxBufferSize)
        {
            throw new InvalidDataException($"mssim response length {length} is out of range");
        }

        var response = new byte[length];
        if (!TpmStreams.ReadExactOrEnd(stream, response) || !TpmStreams.ReadExactOrEnd(stream, u32))
        {
            throw new EndOfStreamException("mssim server closed the connection inside a response");
        }

        return response;
    }

    /// <summary>Sends one platform signal (power on/off, NV on, ...) and checks its u32 0 reply.</summary>
    /// <exception cref="IOException">The server answered non-zero.</exception>
    public void Signal(uint signal)
    {
        using var platform = new TcpClient { NoDelay = true };
        platform.Connect(_host, _platformPort);
        var stream = platform.GetStream();
        stream.Write(TpmWriter.U32Bytes(signal));
        Span<byte> reply = stackalloc byte[4];
        if (!TpmStreams.ReadExactOrEnd(stream, reply))
        {
            throw new EndOfStreamException($"mssim platform signal {signal} got no reply");
        }

        var result = BinaryPrimitives.ReadUInt32BigEndian(reply);
        if (result != 0)
        {
            throw new IOException($"mssim platform signal {signal} failed with {result}");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            if (_tpm.Connected)
            {
                _tpm.GetStream().Write(TpmWriter.U32Bytes(MssimSignal.SessionEnd));
            }
        }
        catch (IOException)
        {
            // The server went away first; nothing to end.
        }

        _tpm.Dispose();
    }
}

/// <summary>mssim signal and command codes (the Microsoft reference simulator's TpmTcpProtocol.h).</summary>
public static class MssimSignal
{
    /// <summary>TPM_SIGNAL_POWER_ON.</summary>
    public const uint PowerOn = 1;
    /// <summary>TPM_SIGNAL_POWER_OFF.</summary>
    public const uint PowerOff = 2;
    /// <summary>TPM_SIGNAL_PHYS_PRES_ON.</summary>
    public const uint PhysicalPresenceOn = 3;
    /// <summary>TPM_SIGNAL_PHYS_PRES_OFF.</summary>
    public const uint PhysicalPresenceOff = 4;
    /// <summary>TPM_SEND_COMMAND.</summary>
    public const uint SendCommand = 8;
    /// <summary>TPM_SIGNAL_CANCEL_ON.</summary>
    public const uint CancelOn = 9;
    /// <summary>TPM_SIGNAL_CANCEL_OFF.</summary>
    public const uint CancelOff = 10;
    /// <summary>TPM_SIGNAL_NV_ON.</summary>
    public const uint NvOn = 11;
    /// <summary>TPM_SIGNAL_NV_OFF.</summary>
    public const uint NvOff = 12;
    /// <summary>TPM_REMOTE_HANDSHAKE.</summary>
    public const uint RemoteHandshake = 15;
    /// <summary>TPM_SESSION_END.</summary>
    public const uint SessionEnd = 20;
    /// <summary>TPM_STOP.</summary>
    public const uint Stop = 21;
}
