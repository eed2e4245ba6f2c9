using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using TrustStack.Tpm.Hardware;
using Xunit.Abstractions;

namespace TrustStack.Cli.Tests;

/// <summary>
/// <c>truststack vtpm serve</c> and <c>vtpm migrate</c> as real processes (issue 19, findings 7,
/// 9, 10, 11, 12): kill -9 during NV writes, one owner per state folder, migration of a served
/// vTPM between two serving processes, a migration left unfinished.
/// </summary>
public sealed partial class VTpmServeProcessTests(ITestOutputHelper log) : IDisposable
{
    private const uint Counter = 0x0150_0061;
    private const uint Data = 0x0150_0062;
    private readonly string _source = Directory.CreateTempSubdirectory("truststack-vtpm-src-").FullName;
    private readonly string _destination = Directory.CreateTempSubdirectory("truststack-vtpm-dst-").FullName;

    public void Dispose()
    {
        Directory.Delete(_source, recursive: true);
        Directory.Delete(_destination, recursive: true);
    }

    [Fact]
    public async Task VTpmServe_KillDashNineDuringNvWrites_EveryAcknowledgedWriteSurvives()
    {
        var basePort = TruststackProcess.FreePort(pairs: 2);
        var random = new Random(19);
        ulong counter = 0;     // the value after the last acknowledged NV_Increment
        byte[]? data = null;   // the last acknowledged NV_Write
        byte[]? inFlight = null;
        var acknowledged = 0;
        for (var round = 0; round < 5; round++)
        {
            using var serve = await TruststackProcess.ServeAsync("--vms", "2", "--base-port", Str(basePort), "--state", _source);
            var port = serve.VmPorts().Values.Min();
            Assert.Equal(basePort, port);
            using (var transport = new SwtpmSocketTransport("127.0.0.1", port))
            {
                var tpm = new Tpm2(transport);
                if (round == 0)
                {
                    DefineIndices(tpm);
                    counter = ReadCounter(tpm);
                }
                else
                {
                    // Everything acknowledged before the kill is there; at most the one command in flight went further.
                    var value = ReadCounter(tpm);
                    Assert.True(value == counter || value == counter + 1, $"round {round}: counter {value}, last acknowledged {counter}");
                    counter = value;
                    var stored = tpm.NvRead(TpmRh.Owner, Data, 32);
                    Assert.True(stored.SequenceEqual(data!) || (inFlight is not null && stored.SequenceEqual(inFlight)), $"round {round}: NV data is neither the acknowledged nor the in-flight write");
                    data = stored;
                }
            }

            // A guest streams monotonic-counter increments and NV writes; kill -9 lands at a random moment.
            using var stop = new CancellationTokenSource();
            var writer = Task.Run(() =>
            {
                using var transport = new SwtpmSocketTransport("127.0.0.1", port);
                var tpm = new Tpm2(transport);
                try
                {
                    for (var i = 0; ; i++)
                    {
                        if (i % 4 == 3)
                        {
                            var next = SHA256.HashData(BitConverter.GetBytes(((long)round << 32) | (uint)i));
                            inFlight = next;
                            tpm.NvWrite(TpmRh.Owner, Data, next);
                            data = next;
                        }
                        else
                        {
                            tpm.NvIncrement(TpmRh.Owner, Counter);
                            counter++;
                        }

                        acknowledged++;
                    }
                }
#pragma warning disable CA1031 // Any failure of the link ends the stream: the server was killed.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            });
            await Task.Delay(random.Next(150, 600));
            await serve.KillAsync();
            await writer;
        }

        log.WriteLine($"{acknowledged} acknowledged writes over 5 kill -9 rounds");
        Assert.True(acknowledged > 20, $"only {acknowledged} writes were acknowledged");
    }

    [Fact]
    public async Task VTpmServe_SecondServeOnTheSameFolder_ExitsOneNamingTheHolderPid()
    {
        using var first = await TruststackProcess.ServeAsync("--vms", "1", "--base-port", Str(TruststackProcess.FreePort()), "--state", _source);

        var (code, output, error) = await RunAsync("vtpm", "serve", "--vms", "1", "--base-port", Str(TruststackProcess.FreePort()), "--state", _source);

        Assert.Equal(1, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains($"pid {first.Id}", error, StringComparison.Ordinal);
        Assert.DoesNotContain("vtpm 127.0.0.1:", output, StringComparison.Ordinal);
        Assert.False(first.HasExited);
    }

    [Fact]
    public async Task VTpmMigrate_ServedFolderWithoutItsControlEndpoint_RefusedNamingTheHolderPid()
    {
        using var serve = await TruststackProcess.ServeAsync("--vms", "1", "--base-port", Str(TruststackProcess.FreePort()), "--state", _source);
        var vm = serve.VmPorts().Keys.Single();
        File.Delete(Path.Combine(_source, "control.sock"));

        var (code, _, error) = await RunAsync("vtpm", "migrate", "--vm", vm.ToString(), "--to", "127.0.0.1:9", "--state", _source);

        Assert.Equal(1, code);
        Assert.Contains($"pid {serve.Id}", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VTpmMigrate_ServedVmOverTcpBetweenTwoServeProcesses_DestinationHasEveryAcknowledgedWriteAndSourceRefusesIt()
    {
        var sourcePort = TruststackProcess.FreePort();
        var destinationPort = TruststackProcess.FreePort();
        var migrationPort = TruststackProcess.FreePort();
        using var source = await TruststackProcess.ServeAsync("--vms", "1", "--base-port", Str(sourcePort), "--state", _source);
        using var destination = await TruststackProcess.ServeAsync("--vms", "0", "--base-port", Str(destinationPort), "--state", _destination, "--accept-migrations", Str(migrationPort));
        var ak = (await destination.WaitForOutputAsync(TruststackProcess.AcceptingLine())).Groups["ak"].Value;
        var vm = source.VmPorts().Keys.Single();

        // The guest writes through the source's TPM port; each write is acknowledged before migration starts.
        var written = SHA256.HashData("written before the migration"u8);
        ulong counter;
        using (var transport = new SwtpmSocketTransport("127.0.0.1", sourcePort))
        {
            var tpm = new Tpm2(transport);
            DefineIndices(tpm);
            tpm.NvWrite(TpmRh.Owner, Data, written);
            tpm.NvIncrement(TpmRh.Owner, Counter);
            counter = ReadCounter(tpm);
        }

        var (code, output, error) = await RunAsync("vtpm", "migrate", "--vm", vm.ToString(), "--to", $"127.0.0.1:{migrationPort}", "--state", _source, "--trust-ak", ak);

        Assert.True(code == 0, output + error + source.Error);
        Assert.Contains("through the manager serving", output, StringComparison.Ordinal);
        Assert.Contains($"completed: VM {vm} moved to 127.0.0.1:{migrationPort}", output, StringComparison.Ordinal);

        // The destination serves it at once, with every acknowledged write.
        var arrived = await destination.WaitForOutputAsync(new Regex($@"^vm {vm} vtpm 127\.0\.0\.1:(?<port>\d+)", RegexOptions.Multiline));
        var port = int.Parse(arrived.Groups["port"].Value, CultureInfo.InvariantCulture);
        Assert.Equal(destinationPort, port);
        using (var transport = new SwtpmSocketTransport("127.0.0.1", port))
        {
            var tpm = new Tpm2(transport);
            Assert.Equal(written, tpm.NvRead(TpmRh.Owner, Data, 32));
            Assert.Equal(counter, ReadCounter(tpm));
        }

        // The source refuses that VM from now on: its port is closed, it is not listed, and it cannot migrate again.
        await source.WaitForOutputAsync(new Regex($"^vm {vm} completed", RegexOptions.Multiline));
        Assert.ThrowsAny<Exception>(() => new Tpm2(new SwtpmSocketTransport("127.0.0.1", sourcePort)).GetRandom(8));
        var (again, _, againError) = await RunAsync("vtpm", "migrate", "--vm", vm.ToString(), "--to", $"127.0.0.1:{migrationPort}", "--state", _source, "--trust-ak", ak);
        Assert.Equal(1, again);
        Assert.Contains("No vTPM for VM", againError, StringComparison.Ordinal);

        // ... also after a restart; and the destination keeps it (same port) across its own restart.
        Assert.Equal(0, await source.StopAsync());
        Assert.Equal(0, await destination.StopAsync());
        using var restartedSource = await TruststackProcess.ServeAsync("--vms", "0", "--base-port", Str(sourcePort), "--state", _source, "--accept-migrations", Str(TruststackProcess.FreePort()));
        Assert.DoesNotContain(vm, restartedSource.VmPorts().Keys);
        using var restartedDestination = await TruststackProcess.ServeAsync("--vms", "0", "--base-port", Str(destinationPort), "--state", _destination, "--accept-migrations", Str(migrationPort));
        Assert.Equal(destinationPort, restartedDestination.VmPorts()[vm]);
        using (var transport = new SwtpmSocketTransport("127.0.0.1", destinationPort))
        {
            Assert.Equal(written, new Tpm2(transport).NvRead(TpmRh.Owner, Data, 32));
        }
    }

    [Fact]
    public async Task VTpmServe_LeftoverMigratingMarker_ReportsThatVmSkipsItServesTheOthersAndResolveServesIt()
    {
        var migrationPort = TruststackProcess.FreePort();
        using var destination = await TruststackProcess.ServeAsync("--vms", "0", "--base-port", Str(TruststackProcess.FreePort()), "--state", _destination, "--accept-migrations", Str(migrationPort));
        var ak = (await destination.WaitForOutputAsync(TruststackProcess.AcceptingLine())).Groups["ak"].Value;
        var basePort = TruststackProcess.FreePort(pairs: 2);
        Guid[] vms;
        using (var first = await TruststackProcess.ServeAsync("--vms", "2", "--base-port", Str(basePort), "--state", _source))
        {
            vms = [.. first.VmPorts().OrderBy(p => p.Value).Select(p => p.Key)];
            Assert.Equal(0, await first.StopAsync());
        }

        // An interrupted `vtpm migrate`: killed while the destination has not answered the prepare.
        await using var proxy = new MigrationProxy(migrationPort) { HoldPrepare = true };
        using (var migrate = TruststackProcess.Start("vtpm", "migrate", "--vm", vms[0].ToString(), "--to", $"127.0.0.1:{proxy.Port}", "--state", _source, "--trust-ak", ak))
        {
            await proxy.PrepareHeld.Task.WaitAsync(TruststackProcess.Patience);
            await migrate.KillAsync();
        }

        proxy.HoldPrepare = false;

        Assert.True(File.Exists(Path.Combine(_source, "vtpms", vms[0] + ".migrating")));

        // The next serve reports that vTPM with its state, skips it and serves the other.
        var serveOutput = new SynchronizedStringWriter();
        var serveError = new SynchronizedStringWriter();
        using var stop = new CancellationTokenSource();
        var serving = CliApp.Build().Parse(["vtpm", "serve", "--vms", "2", "--base-port", Str(basePort), "--state", _source])
            .InvokeAsync(new InvocationConfiguration { Output = serveOutput, Error = serveError }, stop.Token);
        try
        {
            await WaitForAsync(() => serveOutput.Text.Contains("serving 1 vTPMs", StringComparison.Ordinal), serving, serveOutput, serveError);
            var error = serveError.Text;
            Assert.Contains($"warning: vm {vms[0]} not served: it is locked for migration", error, StringComparison.Ordinal);
            Assert.Contains("locked: interrupted before its commit", error, StringComparison.Ordinal);
            Assert.Contains($"resolve with: truststack vtpm migrate --resolve --vm {vms[0]} --state {_source}", error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
            Assert.Matches($"(?m)^vm {vms[1]} vtpm 127\\.0\\.0\\.1:{basePort + 2} ", serveOutput.Text);

            // Resolved through the serving manager: rolled back (the commit secret was never revealed) and served at once, on its own port.
            var (code, output, resolveError) = await RunAsync("vtpm", "migrate", "--resolve", "--vm", vms[0].ToString(), "--state", _source);
            Assert.True(code == 0, output + resolveError);
            Assert.Contains("through the manager serving", output, StringComparison.Ordinal);
            Assert.Contains("is live here again", output, StringComparison.Ordinal);
            await WaitForAsync(() => Regex.IsMatch(serveOutput.Text, $"(?m)^vm {vms[0]} vtpm 127\\.0\\.0\\.1:{basePort} "), serving, serveOutput, serveError);
            using var transport = new SwtpmSocketTransport("127.0.0.1", basePort);
            Assert.Equal(8, new Tpm2(transport).GetRandom(8).Length);
        }
        finally
        {
            await stop.CancelAsync();
            await serving.WaitAsync(TruststackProcess.Patience);
        }

        Assert.Equal(0, await serving);
        Assert.False(File.Exists(Path.Combine(_source, "vtpms", vms[0] + ".migrating")));
    }

    [Fact]
    public async Task VTpmMigrate_CommitNotConfirmed_ExitsThreeAndResolveCompletesIt()
    {
        var migrationPort = TruststackProcess.FreePort();
        var destinationPort = TruststackProcess.FreePort();
        using var destination = await TruststackProcess.ServeAsync("--vms", "0", "--base-port", Str(destinationPort), "--state", _destination, "--accept-migrations", Str(migrationPort));
        var ak = (await destination.WaitForOutputAsync(TruststackProcess.AcceptingLine())).Groups["ak"].Value;
        Guid vm;
        using (var first = await TruststackProcess.ServeAsync("--vms", "1", "--base-port", Str(TruststackProcess.FreePort()), "--state", _source))
        {
            vm = first.VmPorts().Keys.Single();
            Assert.Equal(0, await first.StopAsync());
        }

        await using var proxy = new MigrationProxy(migrationPort) { LoseCommitAnswer = true };
        var (code, _, error) = await RunAsync("vtpm", "migrate", "--vm", vm.ToString(), "--to", $"127.0.0.1:{proxy.Port}", "--state", _source, "--trust-ak", ak);

        Assert.Equal(3, code);
        Assert.Contains("commit pending", error, StringComparison.Ordinal);
        Assert.Contains("--resolve", error, StringComparison.Ordinal);

        // Delivered by --resolve: the destination activates it (and serves it at once).
        proxy.LoseCommitAnswer = false;
        var (resolved, output, resolveError) = await RunAsync("vtpm", "migrate", "--resolve", "--vm", vm.ToString(), "--state", _source);
        Assert.True(resolved == 0, output + resolveError);
        Assert.Contains("completed", output, StringComparison.Ordinal);
        await destination.WaitForOutputAsync(new Regex($"^vm {vm} vtpm 127", RegexOptions.Multiline));
    }

    [Fact]
    public async Task VTpmServe_StateFolder_IsOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using (var serve = await TruststackProcess.ServeAsync("--vms", "1", "--base-port", Str(TruststackProcess.FreePort()), "--state", _source))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_source, "control.sock")));
            Assert.Equal(0, await serve.StopAsync());
        }

        const UnixFileMode OwnerAll = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Assert.Equal(OwnerAll, File.GetUnixFileMode(_source));
        Assert.Equal(OwnerAll, File.GetUnixFileMode(Path.Combine(_source, "hardware-tpm")));
        Assert.Equal(OwnerAll, File.GetUnixFileMode(Path.Combine(_source, "vtpms")));
        foreach (var file in Directory.EnumerateFiles(_source, "*", SearchOption.AllDirectories).Where(f => !f.StartsWith(Path.Combine(_source, "hardware-tpm"), StringComparison.Ordinal)))
        {
            Assert.True(File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{file} is {File.GetUnixFileMode(file)}");
        }
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void DefineIndices(Tpm2 tpm)
    {
        var attributes = TpmaNv.OwnerWrite | TpmaNv.OwnerRead | TpmaNv.NoDA;
        tpm.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(Counter, TpmAlgId.Sha256, attributes | TpmaNv.TypeCounter, [], 8), []);
        tpm.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(Data, TpmAlgId.Sha256, attributes, [], 32), []);
        tpm.NvIncrement(TpmRh.Owner, Counter);
        tpm.NvWrite(TpmRh.Owner, Data, new byte[32]);
    }

    private static ulong ReadCounter(Tpm2 tpm) => BinaryPrimitives.ReadUInt64BigEndian(tpm.NvRead(TpmRh.Owner, Counter, 8));

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CliApp.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private static async Task WaitForAsync(Func<bool> condition, Task running, SynchronizedStringWriter output, SynchronizedStringWriter error)
    {
        for (var i = 0; i < 900 && !condition(); i++)
        {
            Assert.False(running.IsCompleted, $"serve ended: {output.Text}\n{error.Text}");
            await Task.Delay(100);
        }

        Assert.True(condition(), $"{output.Text}\n{error.Text}");
    }
}
