using System.Net;
using System.Net.Sockets;
using FsCheck;
using FsCheck.Xunit;
using Microsoft.Extensions.Logging;

namespace TrustStack.Tpm.Hardware.Tests.Transport;

/// <summary>
/// Total parsers for the TPM servers (issue 19): whatever octets a client sends to the command
/// port or the control/platform port — valid frames cut short, sizes out of range, unknown codes,
/// payloads missing, garbage after a valid frame — costs that client its connection at most:
/// no exception escapes a connection (no error line is logged by the server or the engine), and
/// the next client is served. Stop commands are left out: stopping is what they are for.
/// </summary>
public abstract class TpmServerHostileInputTestBase<TServer> : IAsyncLifetime
    where TServer : TpmTcpServer
{
    private readonly ListLogger<TServer> _serverLog = new();
    private readonly ListLogger<SoftwareTpm> _engineLog = new();
    private TServer? _server;

    protected TpmServerHostileInputTestBase(ulong seed) =>
        Tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = seed, AutoStartup = true }, logger: _engineLog);

    protected SoftwareTpm Tpm { get; }

    protected TServer Server => _server ?? throw new InvalidOperationException("started in InitializeAsync");

    /// <summary>Starts of frames for the command port, valid and damaged.</summary>
    protected abstract byte[][] CommandPortPrefixes { get; }

    /// <summary>Starts of frames for the control/platform port, valid and damaged (no stop).</summary>
    protected abstract byte[][] ControlPortPrefixes { get; }

    public Task InitializeAsync()
    {
        _server = CreateServer(Tpm, _serverLog);
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Tpm.Dispose();
    }

    [Property(MaxTest = 150)]
    public void Serve_HostileOctetsOnTheCommandPort_OnlyThatConnectionIsLost(NonNegativeInt prefix, byte[] tail, NonNegativeInt cut) =>
        SendAndCheck(Server.Port, Build(CommandPortPrefixes, prefix, tail, cut));

    [Property(MaxTest = 150)]
    public void Serve_HostileOctetsOnTheControlPort_OnlyThatConnectionIsLost(NonNegativeInt prefix, byte[] tail, NonNegativeInt cut) =>
        SendAndCheck(Server.ControlPort, Build(ControlPortPrefixes, prefix, tail, cut));

    protected abstract TServer CreateServer(SoftwareTpm tpm, ILogger<TServer> logger);

    /// <summary>A well-behaved client of this protocol.</summary>
    protected abstract ITpmTransport Connect(int port);

    protected static byte[] U32(uint value) => TpmWriter.U32Bytes(value);

    private static byte[] Build(byte[][] prefixes, NonNegativeInt prefix, byte[] tail, NonNegativeInt cut)
    {
        byte[] input = [.. prefixes[prefix.Get % prefixes.Length], .. tail ?? []];
        return input.AsSpan(0, input.Length - (cut.Get % (input.Length + 1) / 2)).ToArray();
    }

    private void SendAndCheck(int port, byte[] input)
    {
        using (var hostile = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            hostile.Connect(IPAddress.Loopback, port);
            try
            {
                hostile.Send(input);
                hostile.Shutdown(SocketShutdown.Send);

                // Drain until the server closes (it sees the end of the input).
                hostile.ReceiveTimeout = 10_000;
                var buffer = new byte[4096];
                while (hostile.Receive(buffer) > 0)
                {
                }
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
            {
                // The server closed first: fine.
            }
        }

        Assert.False(Server.Completion.IsCompleted, $"the server stopped after {Convert.ToHexString(input)}");
        using (var good = Connect(Server.Port))
        {
            var response = good.Execute([0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 4]);
            Assert.True(response.Length >= 10, "the next client must get a response");
        }

        var errors = _serverLog.Lines.Concat(_engineLog.Lines).Where(l => l.Level >= LogLevel.Error).ToList();
        Assert.True(errors.Count == 0, $"after {Convert.ToHexString(input)}: {string.Join(" | ", errors.Select(e => e.Text))}");
    }
}

public sealed class SwtpmSocketServerHostileInputTests() : TpmServerHostileInputTestBase<SwtpmSocketServer>(31)
{
    protected override byte[][] CommandPortPrefixes { get; } =
    [
        [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8],          // GetRandom
        [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B],                // body missing
        [0x80, 0x01, 0, 0, 0x10, 0, 0, 0, 0x01, 0x7B],              // size 4096, body missing
        [0x80, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0x01, 0x7B],     // size out of range
        [0x80, 0x01, 0, 0, 0, 9, 0, 0, 0x01, 0x7B],                 // size below a header
        [0x80, 0x02, 0, 0, 0, 10, 0, 0, 0x01, 0x82],                // PCR_Extend without handles or sessions
        [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0],          // a second Startup
        [],
    ];

    protected override byte[][] ControlPortPrefixes { get; } =
    [
        U32(SwtpmControl.GetCapability),
        [.. U32(SwtpmControl.Init), 0, 0, 0, 0],
        U32(SwtpmControl.Init),                                      // payload missing
        [.. U32(SwtpmControl.SetLocality), 0],
        [.. U32(SwtpmControl.SetLocality), 0xFF],
        [.. U32(SwtpmControl.ResetTpmEstablished), 3],
        U32(SwtpmControl.GetTpmEstablished),
        U32(SwtpmControl.CancelTpmCommand),
        U32(SwtpmControl.StoreVolatile),
        U32(SwtpmControl.GetConfig),
        [.. U32(SwtpmControl.SetBufferSize), 0xFF, 0xFF, 0xFF, 0xFF],
        U32(SwtpmControl.Shutdown),
        U32(0x7777),                                                 // unknown code
        [0, 0],                                                      // half a code
    ];

    protected override SwtpmSocketServer CreateServer(SoftwareTpm tpm, ILogger<SwtpmSocketServer> logger) => new(tpm, 0, logger);

    protected override ITpmTransport Connect(int port) => new SwtpmSocketTransport("127.0.0.1", port);
}

public sealed class MssimServerHostileInputTests() : TpmServerHostileInputTestBase<MssimServer>(32)
{
    protected override byte[][] CommandPortPrefixes { get; } =
    [
        [.. U32(MssimSignal.SendCommand), 0, .. U32(12), 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8],
        [.. U32(MssimSignal.SendCommand), 3, .. U32(12)],             // command missing
        [.. U32(MssimSignal.SendCommand), 0, .. U32(0xFFFF_FFFF)],    // length out of range
        [.. U32(MssimSignal.SendCommand), 0, .. U32(4096)],
        [.. U32(MssimSignal.SendCommand), 0, .. U32(3), 1, 2, 3],      // shorter than a header
        [.. U32(MssimSignal.SendCommand), 0],                          // length missing
        [.. U32(MssimSignal.RemoteHandshake), .. U32(1)],
        U32(MssimSignal.RemoteHandshake),                              // version missing
        U32(MssimSignal.PowerOn),
        U32(MssimSignal.NvOn),
        U32(MssimSignal.SessionEnd),
        U32(0x7777),
        [0, 0, 0],
    ];

    protected override byte[][] ControlPortPrefixes { get; } =
    [
        U32(MssimSignal.PowerOn),
        U32(MssimSignal.PowerOff),
        [.. U32(MssimSignal.PowerOff), .. U32(MssimSignal.PowerOn)],
        U32(MssimSignal.NvOn),
        U32(MssimSignal.CancelOn),
        U32(MssimSignal.PhysicalPresenceOn),
        U32(MssimSignal.SessionEnd),
        U32(MssimSignal.SendCommand),                                  // not a platform signal
        U32(0x7777),
        [0],
    ];

    protected override MssimServer CreateServer(SoftwareTpm tpm, ILogger<MssimServer> logger) => new(tpm, 0, logger);

    protected override ITpmTransport Connect(int port) => new MssimTransport("127.0.0.1", port, powerOn: false);
}
