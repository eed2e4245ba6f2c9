using System.Buffers.Binary;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// A TPM behind the Microsoft simulator protocol (mssim, IBM's tpm_server, or
/// <c>truststack tpm serve --protocol mssim</c>): commands on the TPM port framed as
/// <c>u32 TPM_SEND_COMMAND ‖ u8 locality ‖ u32 length ‖ command</c>, answered
/// <c>u32 length ‖ response ‖ u32 0</c>; power and NV signals on the platform port (TPM port + 1).
/// </summary>
/// <remarks>
/// As <see cref="SwtpmSocketTransport"/>: a command is sent at most once (a failure after any
/// octet of it was written is a <see cref="TpmTransportException"/>, not a resend), a connection
/// the server closed while idle is replaced before the next command, and connect, send and
/// response each have a timeout (<see cref="TpmSocketTimeouts"/>).
/// </remarks>
public sealed class MssimTransport : ITpmTransport
{
    private readonly string _host;
    private readonly int _port;
    private readonly int _platformPort;
    private readonly TpmSocketTimeouts _timeouts;
    private TpmSocketConnection? _tpm;

    /// <summary>Connects and, like tpm2-tss's mssim TCTI, signals power-on and NV-on.</summary>
    /// <param name="host">Host name or address.</param>
    /// <param name="port">TPM port.</param>
    /// <param name="platformPort">Platform port; null for <paramref name="port"/> + 1.</param>
    /// <param name="powerOn">Send TPM_SIGNAL_POWER_ON and TPM_SIGNAL_NV_ON first.</param>
    /// <param name="timeouts">Connect, send and response timeouts; null for <see cref="TpmSocketTimeouts.Default"/>.</param>
    /// <exception cref="TpmTransportException">Nothing listens there, the connection timed out, or a signal was refused.</exception>
    public MssimTransport(string host, int port, int? platformPort = null, bool powerOn = true, TpmSocketTimeouts? timeouts = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        _host = host;
        _port = port;
        _platformPort = platformPort ?? port + 1;
        _timeouts = timeouts ?? TpmSocketTimeouts.Default;
        if (powerOn)
        {
            Signal(MssimSignal.PowerOn);
            Signal(MssimSignal.NvOn);
        }

        _tpm = TpmSocketConnection.Open("mssim", _host, _port, _timeouts);
    }

    /// <summary>The locality commands are sent at.</summary>
    public byte Locality { get; set; }

    /// <summary>The timeouts in force.</summary>
    public TpmSocketTimeouts Timeouts => _timeouts;

    /// <inheritdoc />
    /// <exception cref="TpmTransportException">The TPM could not be reached, timed out, or closed the connection; the command was not sent again.</exception>
    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        // Reconnecting is safe only while no octet of this command has been written.
        if (_tpm is null || !_tpm.IsReusable())
        {
            _tpm?.Dispose();
            _tpm = null;
            _tpm = TpmSocketConnection.Open("mssim", _host, _port, _timeouts);
        }

        var connection = _tpm;
        var frame = new byte[9 + command.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, MssimSignal.SendCommand);
        frame[4] = Locality;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), (uint)command.Length);
        command.CopyTo(frame.AsSpan(9));
        try
        {
            connection.Send(frame);
            var timeout = _timeouts.ResponseFor(SwtpmSocketTransport.CommandCode(command));
            var deadline = TpmSocketConnection.DeadlineAfter(timeout);
            Span<byte> u32 = stackalloc byte[4];
            connection.ReceiveExact(u32, deadline, timeout, "a response");
            var length = BinaryPrimitives.ReadUInt32BigEndian(u32);
            if (length > TpmStreams.MaxBufferSize)
            {
                throw new TpmTransportException(connection.Peer, TpmTransportFailure.MalformedResponse, true, $"the response length {length} is over {TpmStreams.MaxBufferSize}");
            }

            var response = new byte[length];
            connection.ReceiveExact(response, deadline, timeout, "the response");
            connection.ReceiveExact(u32, deadline, timeout, "the response trailer");
            if (BinaryPrimitives.ReadUInt32BigEndian(u32) != 0)
            {
                throw new TpmTransportException(connection.Peer, TpmTransportFailure.MalformedResponse, true, $"the response trailer is 0x{BinaryPrimitives.ReadUInt32BigEndian(u32):x}, not 0");
            }

            return response;
        }
        catch
        {
            // Out of step: a late response would answer the next command. Drop the connection.
            connection.Dispose();
            _tpm = null;
            throw;
        }
    }

    /// <summary>Sends one platform signal (power on/off, NV on, ...) and checks its u32 0 reply.</summary>
    /// <exception cref="TpmTransportException">The platform port could not be reached, timed out, or answered non-zero.</exception>
    public void Signal(uint signal)
    {
        using var platform = TpmSocketConnection.Open("mssim platform", _host, _platformPort, _timeouts);
        platform.Send(TpmWriter.U32Bytes(signal));
        Span<byte> reply = stackalloc byte[4];
        platform.ReceiveExact(reply, TpmSocketConnection.DeadlineAfter(_timeouts.Response), _timeouts.Response, $"the reply to platform signal {signal}");
        var result = BinaryPrimitives.ReadUInt32BigEndian(reply);
        if (result != 0)
        {
            throw new TpmTransportException(platform.Peer, TpmTransportFailure.Refused, true, $"platform signal {signal} failed with {result}");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_tpm is { } connection)
        {
            try
            {
                if (connection.IsReusable())
                {
                    connection.Send(TpmWriter.U32Bytes(MssimSignal.SessionEnd), isCommand: false);
                }
            }
            catch (TpmTransportException)
            {
                // The server went away first; nothing to end.
            }

            connection.Dispose();
            _tpm = null;
        }
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
