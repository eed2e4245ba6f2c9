using System.Buffers.Binary;
using System.Net.Sockets;

namespace TrustStack.VTpm.Core.Tests;

public sealed class VTpmControlServerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("truststack-control-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task SendAsync_ListAndMigrate_ReachTheHandlerAndReturnItsAnswer()
    {
        var handler = new Handler();
        await using var server = new VTpmControlServer(VTpmControlServer.DefaultPath(_dir), handler);
        server.Start();
        var vm = Guid.NewGuid();

        using var client = await VTpmControlClient.TryConnectAsync(server.Path);
        Assert.NotNull(client);
        var list = await client.SendAsync(new VTpmControlRequest(VTpmControlCommand.List));
        var migrate = await client.SendAsync(new VTpmControlRequest(VTpmControlCommand.Migrate) { VmId = vm, Destination = "127.0.0.1:1", TrustedAttestationKeyNames = [[7]] });

        Assert.Equal(new VTpmControlInstance(Guid.Empty, VTpmInstanceState.Running, 2421), Assert.Single(list.Instances!));
        Assert.Equal(VTpmMigrationOutcome.Refused, migrate.Migration!.Outcome);
        Assert.Equal("127.0.0.1:1", handler.Last!.Destination);
        Assert.Equal([7], Assert.Single(handler.Last.TrustedAttestationKeyNames));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.Path));
        }
    }

    [Fact]
    public async Task Server_MalformedRequestAndFailingHandler_AnswerErrorsAndKeepServing()
    {
        await using var server = new VTpmControlServer(VTpmControlServer.DefaultPath(_dir), new Handler { Throw = true });
        server.Start();

        using (var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await raw.ConnectAsync(new UnixDomainSocketEndPoint(server.Path));
            using var stream = new NetworkStream(raw);
            var garbage = "{not json"u8.ToArray();
            var prefix = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)garbage.Length);
            await stream.WriteAsync(prefix);
            await stream.WriteAsync(garbage);
            await stream.ReadExactlyAsync(prefix);
            var answer = new byte[BinaryPrimitives.ReadUInt32BigEndian(prefix)];
            await stream.ReadExactlyAsync(answer);
            Assert.Contains("malformed request", System.Text.Encoding.UTF8.GetString(answer), StringComparison.Ordinal);
        }

        using var client = await VTpmControlClient.TryConnectAsync(server.Path);
        var response = await client!.SendAsync(new VTpmControlRequest(VTpmControlCommand.List));
        Assert.Equal("handler broke", response.Error);
    }

    [Fact]
    public async Task TryConnectAsync_NoSocketOrAStaleOne_ReturnsNull()
    {
        var path = VTpmControlServer.DefaultPath(_dir);
        Assert.Null(await VTpmControlClient.TryConnectAsync(path));

        // A socket file nobody listens on (as a killed manager leaves it: bound, not accepting).
        using var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        stale.Bind(new UnixDomainSocketEndPoint(path));
        Assert.True(File.Exists(path));

        Assert.Null(await VTpmControlClient.TryConnectAsync(path));
    }

    private sealed class Handler : IVTpmControlHandler
    {
        public bool Throw { get; init; }

        public VTpmControlRequest? Last { get; private set; }

        public Task<VTpmControlResponse> HandleAsync(VTpmControlRequest request, CancellationToken cancellationToken)
        {
            if (Throw)
            {
                throw new InvalidOperationException("handler broke");
            }

            Last = request;
            return Task.FromResult(request.Command == VTpmControlCommand.List
                ? new VTpmControlResponse { Instances = [new VTpmControlInstance(request.VmId ?? Guid.Empty, VTpmInstanceState.Running, 2421)] }
                : new VTpmControlResponse { Migration = new VTpmMigrationResult(request.VmId!.Value, Guid.Empty, VTpmMigrationOutcome.Refused, ["no"]) });
        }
    }
}
