using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Transport;

/// <summary>
/// Finding 6 of issue 19: a transport must never send a command twice once any octet of it was
/// written (NV_Increment, PCR_Extend and Commit are not idempotent), and every wait has a
/// timeout that surfaces as a clear error naming the peer and the limit.
/// </summary>
public sealed class SocketTransportFaultTests
{
    // Short where a timeout is the expected outcome; Patient where the server answers or closes
    // (a loaded test machine may take a while to schedule the fake server's thread).
    private static readonly TpmSocketTimeouts Patient = new() { Connect = TimeSpan.FromSeconds(10), Send = TimeSpan.FromSeconds(10), Response = TimeSpan.FromSeconds(10) };
    private static readonly TpmSocketTimeouts Short = new() { Connect = TimeSpan.FromSeconds(2), Send = TimeSpan.FromSeconds(2), Response = TimeSpan.FromMilliseconds(300), KeyGeneration = TimeSpan.FromMilliseconds(300) };

    // --- swtpm -----------------------------------------------------------------------------

    [Fact]
    public void Execute_ServerClosesAfterReadingTheCommand_CommandArrivesOnceAndFailsClearly()
    {
        using var server = new FakeTpmServer((s, socket, _) => s.ReadCommand(socket));
        using var transport = new SwtpmSocketTransport("127.0.0.1", server.Port, null, Patient);

        var e = Assert.Throws<TpmTransportException>(() => transport.Execute(GetRandom()));

        Assert.Equal(TpmTransportFailure.ConnectionClosed, e.Failure);
        Assert.True(e.CommandMayHaveExecuted);
        Assert.Contains($"swtpm 127.0.0.1:{server.Port}", e.Message, StringComparison.Ordinal);
        Assert.Contains("not sent again", e.Message, StringComparison.Ordinal);
        Thread.Sleep(200);
        Assert.Equal(1, server.Commands);
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public void Execute_NvIncrementWhoseResponseIsLost_CounterIncrementsOnce()
    {
        // A proxy in front of a real engine that executes every command but drops the connection
        // instead of answering the first TPM2_NV_Increment: the counter must move by one.
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 61, AutoStartup = true });
        var dropped = 0;
        using var server = new FakeTpmServer((s, socket, _) =>
        {
            while (s.ReadCommand(socket) is { } command)
            {
                var response = tpm.Execute(command);
                if ((TpmCc)BinaryPrimitives.ReadUInt32BigEndian(command.AsSpan(6)) == TpmCc.NvIncrement && Interlocked.Exchange(ref dropped, 1) == 0)
                {
                    return;
                }

                socket.Send(response);
            }
        });
        const uint index = 0x0150_0020;
        using var transport = new SwtpmSocketTransport("127.0.0.1", server.Port, null, Patient);
        var client = new Tpm2(transport);
        client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(index, TpmAlgId.Sha256, TpmaNv.OwnerRead | TpmaNv.OwnerWrite | TpmaNv.TypeCounter, [], 8), []);

        var e = Assert.Throws<TpmTransportException>(() => client.NvIncrement(TpmRh.Owner, index));

        Assert.True(e.CommandMayHaveExecuted);
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64BigEndian(client.NvRead(TpmRh.Owner, index, 8)));
    }

    [Fact]
    public void Execute_ServerNeverAnswers_TimesOutNamingPeerAndTimeout()
    {
        using var server = new FakeTpmServer((s, socket, _) =>
        {
            s.ReadCommand(socket);
            s.WaitForClose(socket);
        });
        using var transport = new SwtpmSocketTransport("127.0.0.1", server.Port, null, Short);

        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<TpmTransportException>(() => transport.Execute(GetRandom()));

        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
        Assert.Equal(TpmTransportFailure.ResponseTimeout, e.Failure);
        Assert.Contains($"127.0.0.1:{server.Port}", e.Message, StringComparison.Ordinal);
        Assert.Contains("300 ms", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Commands);
    }

    [Fact]
    public void Execute_ServerAnswersHalfAResponseAndCloses_FailsWithoutResending()
    {
        using var server = new FakeTpmServer((s, socket, _) =>
        {
            if (s.ReadCommand(socket) is not null)
            {
                var response = new byte[20];
                BinaryPrimitives.WriteUInt16BigEndian(response, 0x8001);
                BinaryPrimitives.WriteUInt32BigEndian(response.AsSpan(2), 20);
                socket.Send(response.AsSpan(0, 14));
            }
        });
        using var transport = new SwtpmSocketTransport("127.0.0.1", server.Port, null, Patient);

        var e = Assert.Throws<TpmTransportException>(() => transport.Execute(GetRandom()));

        Assert.Equal(TpmTransportFailure.ConnectionClosed, e.Failure);
        Assert.Contains("after 4 of 10 octets", e.Message, StringComparison.Ordinal);
        Thread.Sleep(200);
        Assert.Equal(1, server.Commands);
    }

    [Fact]
    public void Execute_ServerAnswersHalfAResponseThenStalls_TimesOut()
    {
        using var server = new FakeTpmServer((s, socket, _) =>
        {
            if (s.ReadCommand(socket) is not null)
            {
                socket.Send(FakeTpmServer.SuccessResponse().AsSpan(0, 5));
                s.WaitForClose(socket);
            }
        });
        using var transport = new SwtpmSocketTransport("127.0.0.1", server.Port, null, Short);

        var e = Assert.Throws<TpmTransportException>(() => transport.Execute(GetRandom()));

        Assert.Equal(TpmTransportFailure.ResponseTimeout, e.Failure);
        Assert.Contains("only 5 octets", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Commands);
    }

    [Fact]
    public void Execute_ResponseSizeOutOfRange_IsMalformedAndNotResent()
    {
        using var server = new FakeTpmServer((s, socket, _) =>
        {
            if (s.ReadCommand(socket) is not null)
            {
                var response = FakeTpmServer.SuccessResponse();
                BinaryPrimitives.WriteUInt32BigEndian(response.AsSpan(2), 0xFFFF_FFFF);
                socket.Send(response);
                s.WaitForClose(socket);
            }
        });
        using var transport = new SwtpmSocketTransport("127.0.0.1", server.Port, null, Patient);

        var e = Assert.Throws<TpmTransportException>(() => transport.Execute(GetRandom()));

        Assert.Equal(TpmTransportFailure.MalformedResponse, e.Failure);
        Assert.Equal(1, server.Commands);
    }

    [Fact]
    public void Execute_AfterAFailedCommand_TheNextCommandReconnects()
    {
        using var server = new FakeTpmServer((s, socket, n) =>
        {
            while (s.ReadCommand(socket) is not null)
            {
                if (n == 0)
                {
                    return;
                }

                socket.Send(FakeTpmServer.SuccessResponse());
            }
        });
        using var transport = new SwtpmSocketTransport("127.0.0.1", server.Port, null, Patient);

        Assert.Throws<TpmTransportException>(() => transport.Execute(GetRandom()));
        Assert.Equal(FakeTpmServer.SuccessResponse(), transport.Execute(GetRandom()));

        Assert.Equal(2, server.Commands);
        Assert.Equal(2, server.Connections);
    }

    [Fact]
    public void Execute_ServerClosedTheIdleConnection_NextCommandGoesOutOnANewConnection()
    {
        // A server that drops idle connections (TpmTcpServer's idle timeout, a restarted swtpm):
        // the transport sees the close before writing and reconnects; nothing fails, nothing repeats.
        using var server = new FakeTpmServer((s, socket, _) =>
        {
            if (s.ReadCommand(socket) is not null)
            {
                socket.Send(FakeTpmServer.SuccessResponse());
            }
        });
        using var transport = new SwtpmSocketTransport("127.0.0.1", server.Port, null, Patient);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(FakeTpmServer.SuccessResponse(), transport.Execute(GetRandom()));
            Thread.Sleep(100);
        }

        Assert.Equal(3, server.Commands);
        Assert.Equal(3, server.Connections);
    }

    [Fact]
    public void Execute_CreatePrimary_GetsTheKeyGenerationTimeout()
    {
        // RSA key generation on a discrete TPM can take tens of seconds: TPM2_CreatePrimary waits
        // for KeyGeneration, other commands for Response.
        using var server = new FakeTpmServer((s, socket, _) =>
        {
            while (s.ReadCommand(socket) is not null)
            {
                Thread.Sleep(700);
                socket.Send(FakeTpmServer.SuccessResponse());
            }
        });
        var timeouts = new TpmSocketTimeouts { Response = TimeSpan.FromMilliseconds(200), KeyGeneration = TimeSpan.FromSeconds(10) };
        using var transport = new SwtpmSocketTransport("127.0.0.1", server.Port, null, timeouts);

        Assert.Equal(FakeTpmServer.SuccessResponse(), transport.Execute(Command(TpmCc.CreatePrimary, [])));
        var e = Assert.Throws<TpmTransportException>(() => transport.Execute(GetRandom()));
        Assert.Equal(TpmTransportFailure.ResponseTimeout, e.Failure);
        Assert.Contains("200 ms", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Control_ServerNeverAnswers_TimesOut()
    {
        using var data = new FakeTpmServer((s, socket, _) => s.WaitForClose(socket));
        using var control = new FakeTpmServer((s, socket, _) => s.WaitForClose(socket));
        using var transport = new SwtpmSocketTransport("127.0.0.1", data.Port, control.Port, Short);

        var e = Assert.Throws<TpmTransportException>(() => transport.SetLocality(0));

        Assert.Equal(TpmTransportFailure.ResponseTimeout, e.Failure);
        Assert.Contains($"swtpm control 127.0.0.1:{control.Port}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NothingListens_ThrowsTransportExceptionNamingThePeer()
    {
        var port = FreePort();
        var e = Assert.Throws<TpmTransportException>(() => new SwtpmSocketTransport("127.0.0.1", port, null, Patient));

        Assert.Equal(TpmTransportFailure.ConnectFailed, e.Failure);
        Assert.False(e.CommandMayHaveExecuted);
        Assert.Contains($"swtpm 127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
        Assert.Contains("refused", e.Message, StringComparison.Ordinal);
    }

    // --- mssim -----------------------------------------------------------------------------

    [Fact]
    public void Execute_MssimServerClosesAfterReadingTheCommand_CommandArrivesOnce()
    {
        using var server = new FakeTpmServer((s, socket, _) => s.ReadMssimCommand(socket));
        using var transport = new MssimTransport("127.0.0.1", server.Port, null, powerOn: false, Patient);

        var e = Assert.Throws<TpmTransportException>(() => transport.Execute(GetRandom()));

        Assert.Equal(TpmTransportFailure.ConnectionClosed, e.Failure);
        Assert.True(e.CommandMayHaveExecuted);
        Thread.Sleep(200);
        Assert.Equal(1, server.Commands);
    }

    [Fact]
    public void Execute_MssimServerNeverAnswers_TimesOutNamingPeerAndTimeout()
    {
        using var server = new FakeTpmServer((s, socket, _) =>
        {
            s.ReadMssimCommand(socket);
            s.WaitForClose(socket);
        });
        using var transport = new MssimTransport("127.0.0.1", server.Port, null, powerOn: false, Short);

        var e = Assert.Throws<TpmTransportException>(() => transport.Execute(GetRandom()));

        Assert.Equal(TpmTransportFailure.ResponseTimeout, e.Failure);
        Assert.Contains($"mssim 127.0.0.1:{server.Port}", e.Message, StringComparison.Ordinal);
        Assert.Contains("300 ms", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Commands);
    }

    [Fact]
    public void Execute_MssimServerAnswersHalfAResponse_FailsWithoutResending()
    {
        using var server = new FakeTpmServer((s, socket, _) =>
        {
            if (s.ReadMssimCommand(socket) is not null)
            {
                var frame = new byte[4 + 10];
                BinaryPrimitives.WriteUInt32BigEndian(frame, 10);
                FakeTpmServer.SuccessResponse().CopyTo(frame, 4);
                socket.Send(frame); // no u32 0 trailer, then close
            }
        });
        using var transport = new MssimTransport("127.0.0.1", server.Port, null, powerOn: false, Patient);

        var e = Assert.Throws<TpmTransportException>(() => transport.Execute(GetRandom()));

        Assert.Equal(TpmTransportFailure.ConnectionClosed, e.Failure);
        Assert.Contains("trailer", e.Message, StringComparison.Ordinal);
        Thread.Sleep(200);
        Assert.Equal(1, server.Commands);
    }

    [Fact]
    public void Signal_PlatformPortNeverAnswers_TimesOut()
    {
        using var platform = new FakeTpmServer((s, socket, _) => s.WaitForClose(socket));
        var e = Assert.Throws<TpmTransportException>(() => new MssimTransport("127.0.0.1", FreePort(), platform.Port, powerOn: true, Short));

        Assert.Equal(TpmTransportFailure.ResponseTimeout, e.Failure);
        Assert.Contains($"mssim platform 127.0.0.1:{platform.Port}", e.Message, StringComparison.Ordinal);
    }

    // --- device ----------------------------------------------------------------------------

    [Fact]
    public void Execute_DeviceReturnsNoResponse_ThrowsMalformedNamingTheDevice()
    {
        // A regular file stands in for the device: the write lands, the read finds nothing.
        var path = Path.GetTempFileName();
        try
        {
            using var device = new LinuxDeviceTransport(path);
            var e = Assert.Throws<TpmTransportException>(() => device.Execute(GetRandom()));
            Assert.Equal(TpmTransportFailure.MalformedResponse, e.Failure);
            Assert.Contains($"device {path}", e.Message, StringComparison.Ordinal);
            Assert.Contains("0-octet response", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // --- total response parsing ----------------------------------------------------------

    /// <summary>
    /// Whatever a server answers (then closing the connection), the swtpm transport returns a
    /// whole response framed by its header or throws TpmTransportException; nothing else escapes.
    /// </summary>
    [Property(MaxTest = 100)]
    public void Execute_AnySwtpmAnswer_ReturnsAFramedResponseOrThrowsTransportException(byte[] answer, bool validHeader)
    {
        byte[] bytes = validHeader ? [.. FakeTpmServer.SuccessResponse()[..6], .. answer ?? []] : answer ?? [];
        if (validHeader)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(2), (uint)Math.Max(10, bytes.Length));
        }

        using var server = new FakeTpmServer((s, socket, _) =>
        {
            if (s.ReadCommand(socket) is not null)
            {
                socket.Send(bytes);
            }
        });
        using var transport = new SwtpmSocketTransport("127.0.0.1", server.Port, null, Patient);
        try
        {
            var response = transport.Execute(GetRandom());
            Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(2)), (uint)response.Length);
        }
        catch (TpmTransportException e)
        {
            Assert.True(e.CommandMayHaveExecuted);
        }

        Assert.Equal(1, server.Commands);
    }

    /// <summary>The same for mssim framing (u32 length, response, u32 0).</summary>
    [Property(MaxTest = 100)]
    public void Execute_AnyMssimAnswer_ReturnsTheFramedResponseOrThrowsTransportException(byte[] answer, bool validLength)
    {
        var body = answer ?? [];
        byte[] bytes = validLength ? [.. U32((uint)body.Length), .. body, 0, 0, 0, 0] : body;
        using var server = new FakeTpmServer((s, socket, _) =>
        {
            if (s.ReadMssimCommand(socket) is not null)
            {
                socket.Send(bytes);
            }
        });
        using var transport = new MssimTransport("127.0.0.1", server.Port, null, powerOn: false, Patient);
        try
        {
            var response = transport.Execute(GetRandom());
            Assert.True(validLength || bytes.Length >= 8);
            if (validLength)
            {
                Assert.Equal(body, response);
            }
        }
        catch (TpmTransportException e)
        {
            Assert.True(e.CommandMayHaveExecuted);
        }
    }

    // --- helpers ---------------------------------------------------------------------------

    private static byte[] U32(uint value) => TpmWriter.U32Bytes(value);

    private static byte[] GetRandom() => Command(TpmCc.GetRandom, [0, 8]);

    private static byte[] Command(TpmCc code, byte[] parameters)
    {
        var command = new byte[10 + parameters.Length];
        BinaryPrimitives.WriteUInt16BigEndian(command, 0x8001);
        BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(2), (uint)command.Length);
        BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(6), (uint)code);
        parameters.CopyTo(command, 10);
        return command;
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }
}
