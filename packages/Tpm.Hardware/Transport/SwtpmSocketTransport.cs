using System.Buffers.Binary;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// A TPM behind swtpm's socket protocol (or <c>truststack tpm serve --protocol swtpm</c>): raw
/// command bytes on the data port, control commands (u32 code + payload, big-endian) on the
/// control port, usually data port + 1. One persistent data connection.
/// </summary>
/// <remarks>
/// A command is sent at most once. If the connection fails after any octet of a command was
/// written — the server closed it, reset it, or sent half a response — the command may have run
/// (TPM2_NV_Increment, TPM2_PCR_Extend and TPM2_Commit are not idempotent), so it surfaces as a
/// <see cref="TpmTransportException"/> with <see cref="TpmTransportException.CommandMayHaveExecuted"/>
/// and is not sent again; the next command reconnects. A connection the server closed while it
/// was idle is noticed before the next command is written, and that command goes out on a new
/// connection. Connect, send and response each have a timeout (<see cref="TpmSocketTimeouts"/>).
/// </remarks>
public sealed class SwtpmSocketTransport : ITpmTransport
{
    private readonly string _host;
    private readonly int _port;
    private readonly int _controlPort;
    private readonly TpmSocketTimeouts _timeouts;
    private TpmSocketConnection? _data;

    /// <summary>Connects to swtpm at <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <param name="host">Host name or address.</param>
    /// <param name="port">Data port.</param>
    /// <param name="controlPort">Control port; null for <paramref name="port"/> + 1.</param>
    /// <param name="timeouts">Connect, send and response timeouts; null for <see cref="TpmSocketTimeouts.Default"/>.</param>
    /// <exception cref="TpmTransportException">Nothing listens there, or the connection timed out.</exception>
    public SwtpmSocketTransport(string host, int port, int? controlPort = null, TpmSocketTimeouts? timeouts = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        _host = host;
        _port = port;
        _controlPort = controlPort ?? port + 1;
        _timeouts = timeouts ?? TpmSocketTimeouts.Default;
        _data = TpmSocketConnection.Open("swtpm", _host, _port, _timeouts);
    }

    /// <summary>The timeouts in force.</summary>
    public TpmSocketTimeouts Timeouts => _timeouts;

    /// <inheritdoc />
    /// <exception cref="TpmTransportException">The TPM could not be reached, timed out, or closed the connection; the command was not sent again.</exception>
    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        // Reconnecting is safe only while no octet of this command has been written.
        if (_data is null || !_data.IsReusable())
        {
            _data?.Dispose();
            _data = null;
            _data = TpmSocketConnection.Open("swtpm", _host, _port, _timeouts);
        }

        var connection = _data;
        try
        {
            connection.Send(command);
            var timeout = _timeouts.ResponseFor(CommandCode(command));
            return ReadResponse(connection, TpmSocketConnection.DeadlineAfter(timeout), timeout);
        }
        catch
        {
            // The stream is out of step (a late response would answer the next command): drop it.
            connection.Dispose();
            _data = null;
            throw;
        }
    }

    /// <summary>Sends one control command and returns the reply (which starts with the u32 result).</summary>
    /// <param name="command">CMD_* code from swtpm's tpm_ioctl.h.</param>
    /// <param name="payload">Request payload.</param>
    /// <param name="replyLength">Octets in the reply.</param>
    /// <exception cref="TpmTransportException">The control port could not be reached, timed out, or closed the connection.</exception>
    public byte[] Control(uint command, ReadOnlySpan<byte> payload, int replyLength = 4)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(replyLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(replyLength, TpmStreams.MaxBufferSize);
        using var control = TpmSocketConnection.Open("swtpm control", _host, _controlPort, _timeouts);
        var request = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(request, command);
        payload.CopyTo(request.AsSpan(4));
        control.Send(request);
        var reply = new byte[replyLength];
        control.ReceiveExact(reply, TpmSocketConnection.DeadlineAfter(_timeouts.Response), _timeouts.Response, $"the reply to control command 0x{command:x}");
        return reply;
    }

    /// <summary>CMD_INIT: (re)starts the TPM; it then needs TPM2_Startup unless the server starts it.</summary>
    /// <exception cref="TpmTransportException">The server refused or could not be reached.</exception>
    public void Init() => CheckResult(Control(SwtpmControl.Init, new byte[4]), "CMD_INIT");

    /// <summary>CMD_SHUTDOWN: powers the TPM off (state is saved).</summary>
    /// <exception cref="TpmTransportException">The server refused or could not be reached.</exception>
    public void Shutdown() => CheckResult(Control(SwtpmControl.Shutdown, []), "CMD_SHUTDOWN");

    /// <summary>CMD_SET_LOCALITY.</summary>
    /// <exception cref="TpmTransportException">The server refused or could not be reached.</exception>
    public void SetLocality(byte locality) => CheckResult(Control(SwtpmControl.SetLocality, [locality]), "CMD_SET_LOCALITY");

    /// <summary>CMD_STOP: stops the TPM.</summary>
    /// <exception cref="TpmTransportException">The server refused or could not be reached.</exception>
    public void Stop() => CheckResult(Control(SwtpmControl.Stop, []), "CMD_STOP");

    /// <inheritdoc />
    public void Dispose()
    {
        _data?.Dispose();
        _data = null;
    }

    /// <summary>The command code of a command (0 when it is shorter than a header).</summary>
    internal static uint CommandCode(ReadOnlySpan<byte> command) =>
        command.Length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(command[6..]) : 0;

    /// <summary>One response framed by its own header size (TPM 2.0 Part 1 §18.3).</summary>
    private static byte[] ReadResponse(TpmSocketConnection connection, long deadline, TimeSpan timeout)
    {
        Span<byte> header = stackalloc byte[10];
        connection.ReceiveExact(header, deadline, timeout, "a response");
        var size = BinaryPrimitives.ReadUInt32BigEndian(header[2..]);
        if (size is < 10 or > TpmStreams.MaxBufferSize)
        {
            throw new TpmTransportException(connection.Peer, TpmTransportFailure.MalformedResponse, true, $"the response header gives size {size}, outside 10..{TpmStreams.MaxBufferSize}");
        }

        var response = new byte[size];
        header.CopyTo(response);
        connection.ReceiveExact(response.AsSpan(10), deadline, timeout, "the response");
        return response;
    }

    private void CheckResult(byte[] reply, string what)
    {
        var result = BinaryPrimitives.ReadUInt32BigEndian(reply);
        if (result != 0)
        {
            throw new TpmTransportException($"swtpm control {_host}:{_controlPort}", TpmTransportFailure.Refused, true, $"{what} failed with result 0x{result:x}");
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
