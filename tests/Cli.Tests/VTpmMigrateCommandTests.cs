using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Cli.Tests;

/// <summary><c>truststack vtpm migrate</c> against <c>truststack vtpm serve --accept-migrations</c>, both in process over TCP on 127.0.0.1.</summary>
public sealed partial class VTpmMigrateCommandTests : IDisposable
{
    private const uint KeyHandle = 0x81000010;
    private readonly string _source = Directory.CreateTempSubdirectory("truststack-migrate-src-").FullName;
    private readonly string _destination = Directory.CreateTempSubdirectory("truststack-migrate-dst-").FullName;

    public void Dispose()
    {
        Directory.Delete(_source, recursive: true);
        Directory.Delete(_destination, recursive: true);
    }

    [GeneratedRegex(@"accepting migrations on 127\.0\.0\.1:(?<port>\d+); attestation key (?<ak>[0-9a-f]+)")]
    private static partial Regex AcceptingLine();

    [Fact]
    public async Task Migrate_TrustedDestination_MovesTheVTpmWithItsKeys()
    {
        var (vm, keyName) = ProvisionSourceVm();

        var (serveCode, serveOutput, migrate) = await WithDestinationAsync(async (port, ak) => await RunAsync("vtpm", "migrate", "--vm", vm.ToString(), "--to", $"127.0.0.1:{port}", "--state", _source, "--trust-ak", ak));

        Assert.Equal(0, serveCode);
        Assert.True(migrate.Code == 0, migrate.Output + migrate.Error);
        Assert.Contains($"completed: VM {vm} moved to 127.0.0.1:", migrate.Output, StringComparison.Ordinal);
        Assert.Contains("stopped; saved 1 vTPMs", serveOutput, StringComparison.Ordinal);
        using (var sourceHost = OpenManager(_source))
        {
            Assert.DoesNotContain(sourceHost.Manager.List(), i => i.VmId == vm);
        }

        using var destinationHost = OpenManager(_destination);
        destinationHost.Manager.Start(vm);
        using var channel = destinationHost.Manager.OpenChannel(vm);
        Assert.Equal(keyName, new Tpm2(channel).ReadPublic(KeyHandle).Name);
    }

    [Fact]
    public async Task Migrate_UntrustedAttestationKey_RefusedWithReasonAndTheVTpmStays()
    {
        var (vm, _) = ProvisionSourceVm();

        var (_, _, migrate) = await WithDestinationAsync(async (port, _) => await RunAsync("vtpm", "migrate", "--vm", vm.ToString(), "--to", $"127.0.0.1:{port}", "--state", _source));

        Assert.Equal(1, migrate.Code);
        Assert.Contains("refused: the vTPM of VM", migrate.Error, StringComparison.Ordinal);
        Assert.Contains("attestation key", migrate.Error, StringComparison.Ordinal);
        Assert.Contains("is not trusted", migrate.Error, StringComparison.Ordinal);
        using var sourceHost = OpenManager(_source);
        Assert.Equal(VTpmInstanceState.Stopped, sourceHost.Manager.Inspect(vm).State);
    }

    [Fact]
    public async Task Migrate_BadEndpoint_ExitsTwo()
    {
        var (code, _, error) = await RunAsync("vtpm", "migrate", "--vm", Guid.NewGuid().ToString(), "--to", "nowhere", "--state", _source);

        Assert.Equal(2, code);
        Assert.Contains("is not HOST:PORT", error, StringComparison.Ordinal);
    }

    /// <summary>A VM in the source folder, provisioned the way the CLI opens it (embedded hardware TPM under DIR/hardware-tpm), with a persistent key.</summary>
    private (Guid Vm, byte[] KeyName) ProvisionSourceVm()
    {
        using var host = OpenManager(_source);
        var vm = host.Manager.Create().VmId;
        host.Manager.Start(vm);
        using var channel = host.Manager.OpenChannel(vm);
        var tpm = new Tpm2(channel);
        var key = tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        tpm.EvictControl(TpmRh.Owner, key.Handle, KeyHandle);
        return (vm, key.Name);
    }

    private static ManagerHost OpenManager(string dir) => new(dir);

    /// <summary>Runs <c>vtpm serve --vms 0 --accept-migrations</c> on the destination folder while <paramref name="body"/> runs, then stops it.</summary>
    private async Task<(int Code, string Output, (int Code, string Output, string Error) Result)> WithDestinationAsync(Func<int, string, Task<(int, string, string)>> body)
    {
        var output = new StringWriter();
        using var stop = new CancellationTokenSource();
        var config = new InvocationConfiguration { Output = TextWriter.Synchronized(output), Error = TextWriter.Synchronized(new StringWriter()) };
        var port = FreePort();
        var serve = CliApp.Build().Parse(["vtpm", "serve", "--vms", "0", "--state", _destination, "--accept-migrations", port.ToString(CultureInfo.InvariantCulture)]).InvokeAsync(config, stop.Token);
        Match accepting = Match.Empty;
        for (var i = 0; i < 300 && !serve.IsCompleted && !(accepting = AcceptingLine().Match(output.ToString())).Success; i++)
        {
            await Task.Delay(100);
        }

        Assert.True(accepting.Success, output.ToString());
        (int, string, string) result;
        try
        {
            result = await body(int.Parse(accepting.Groups["port"].Value, CultureInfo.InvariantCulture), accepting.Groups["ak"].Value);
        }
        finally
        {
            await stop.CancelAsync();
        }

        return (await serve, output.ToString(), result);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CliApp.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>A manager over a CLI state folder, as the CLI opens it.</summary>
    private sealed class ManagerHost : IDisposable
    {
        private readonly SoftwareTpm _hardware;
        private readonly Tpm2 _client;

        public ManagerHost(string dir)
        {
            _hardware = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, StateDirectory = Path.Combine(dir, "hardware-tpm") });
            _client = new Tpm2(_hardware);
            Manager = new VTpmManager(new VTpmCoreOptions { StateDirectory = dir }, _client);
        }

        public VTpmManager Manager { get; }

        public void Dispose()
        {
            Manager.Dispose();
            _client.Dispose();
            _hardware.Dispose();
        }
    }
}
