using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using TrustStack.Cli.Commands;
using TrustStack.Tests.Shared;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Tests;

public sealed partial class TpmServeCommandTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void Build_TpmServe_IsRegistered()
    {
        var tpm = Assert.Single(CliApp.Build().Subcommands, c => c.Name == "tpm");
        var serve = Assert.Single(tpm.Subcommands, c => c.Name == "serve");
        Assert.Equal(["--protocol", "--port", "--state", "--state-key", "--seed", "--no-startup", "--max-connections", "--idle-timeout", "--verbose"], serve.Options.Select(o => o.Name).Where(n => n.StartsWith("--", StringComparison.Ordinal) && n != "--help"));
    }

    [Fact]
    public async Task RunAsync_UnknownProtocol_FailsToParse()
    {
        Assert.NotEqual(0, await CliApp.RunAsync(["tpm", "serve", "--protocol", "tcp"]));
    }

    [Fact]
    public async Task ServeAsync_PortOutOfRange_ReturnsUnusableInput()
    {
        var error = new StringWriter();
        var code = await TpmServeCommand.ServeAsync(Settings("swtpm", port: 65535), TextWriter.Null, error, CancellationToken.None);
        Assert.Equal(TpmServeCommand.UnusableInput, code);
        Assert.Contains("out of range", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServeAsync_PortTaken_ReturnsFailed()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var error = new StringWriter();

        var code = await TpmServeCommand.ServeAsync(Settings("swtpm", port: port), TextWriter.Null, error, CancellationToken.None);

        Assert.Equal(TpmServeCommand.Failed, code);
        Assert.Contains("cannot listen", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServeAsync_SwtpmUntilCancelled_ServesOurClientAndSavesState()
    {
        var state = Directory.CreateTempSubdirectory("truststack-serve-");
        try
        {
            var output = new LineWriter();
            using var stop = new CancellationTokenSource();
            var serving = TpmServeCommand.ServeAsync(Settings("swtpm", state: state.FullName), output, TextWriter.Null, stop.Token);
            var port = await output.WaitForPortAsync("swtpm");

            using (var transport = new SwtpmSocketTransport("127.0.0.1", port))
            {
                var client = new Tpm2(transport);
                Assert.Equal(16, client.GetRandom(16).Length);
                client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(0x0150_0001, TpmAlgId.Sha256, TpmaNv.OwnerRead | TpmaNv.OwnerWrite, [], 4), []);
            }

            await stop.CancelAsync();
            Assert.Equal(TpmServeCommand.Stopped, await serving.WaitAsync(Patience));
            Assert.Contains("stopped; state saved in", output.Text, StringComparison.Ordinal);

            // The index survives: a new engine on the same folder has it.
            using var reloaded = new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = state.FullName, AutoStartup = true });
            Assert.Equal(4, new Tpm2(reloaded).NvReadPublic(0x0150_0001).NvPublic.DataSize);
        }
        finally
        {
            state.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ServeAsync_MssimStopSignal_StopsCleanly()
    {
        var output = new LineWriter();
        var serving = TpmServeCommand.ServeAsync(Settings("mssim", startup: false), output, TextWriter.Null, CancellationToken.None);
        var port = await output.WaitForPortAsync("mssim");
        Assert.Contains("client sends TPM2_Startup", output.Text, StringComparison.Ordinal);

        using (var transport = new MssimTransport("127.0.0.1", port))
        {
            // --no-startup: the client must start the TPM.
            var client = new Tpm2(transport);
            Assert.Equal(TpmRc.Initialize, Assert.Throws<TpmException>(() => client.GetRandom(8)).ResponseCode);
            client.Startup();
            Assert.Equal(8, client.GetRandom(8).Length);
        }

        // TPM_STOP (21) on the platform port.
        using (var platform = new TcpClient())
        {
            await platform.ConnectAsync(IPAddress.Loopback, port + 1);
            var signal = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(signal, 21);
            await platform.GetStream().WriteAsync(signal);
            await platform.GetStream().ReadExactlyAsync(signal);
        }

        Assert.Equal(TpmServeCommand.Stopped, await serving.WaitAsync(Patience));
    }

    [Fact]
    public async Task TruststackTpmServe_ChildProcess_ServesTpm2GetRandomAndStopsOnSigterm()
    {
        PeerTools.Require("tpm2_getrandom", "tpm2-tools");
        var state = Directory.CreateTempSubdirectory("truststack-serve-child-");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { CliDll(), "tpm", "serve", "--protocol", "swtpm", "--port", "0", "--state", state.FullName, "--verbose" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            // Wait for the listening lines.
            string? tcti = null;
            var lines = new List<string>();
            var deadline = Stopwatch.StartNew();
            while (tcti is null && deadline.Elapsed < Patience)
            {
                var next = await process.StandardOutput.ReadLineAsync().WaitAsync(Patience) ?? throw new InvalidOperationException($"truststack exited early: {string.Join('\n', lines)} {await stderr}");
                lines.Add(next);
                var match = TctiLine().Match(next);
                tcti = match.Success ? match.Groups[1].Value : null;
            }

            Assert.NotNull(tcti);
            Assert.Contains(lines, l => l.Contains("swtpm listening on 127.0.0.1:", StringComparison.Ordinal));

            var (exitCode, stdout, toolError) = PeerTools.Run("tpm2_getrandom", ["--hex", "16"], new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = tcti });
            Assert.True(exitCode == 0, toolError);
            Assert.Matches("^[0-9a-f]{32}$", stdout.Trim());

            // SIGTERM (Process.Kill would send SIGKILL): a clean stop, state saved, exit 0.
            var (killCode, _, killError) = PeerTools.Run("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
            Assert.True(killCode == 0, killError);
            await process.WaitForExitAsync().WaitAsync(Patience);
            var rest = await process.StandardOutput.ReadToEndAsync();
            var errors = await stderr;
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {rest} {errors}");
            Assert.Contains("stopped; state saved in", rest, StringComparison.Ordinal);
            Assert.NotEmpty(state.GetFiles());

            // --verbose logs one debug line per client connection.
            Assert.Contains("connected to port", errors, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            state.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(0, 300)]
    [InlineData(10_001, 300)]
    [InlineData(64, -1)]
    [InlineData(64, double.NaN)]
    public async Task ServeAsync_LimitsOutOfRange_ReturnUnusableInput(int maxConnections, double idle)
    {
        var error = new StringWriter();
        var code = await TpmServeCommand.ServeAsync(Settings("swtpm") with { MaxConnections = maxConnections, IdleTimeoutSeconds = idle }, TextWriter.Null, error, CancellationToken.None);
        Assert.Equal(TpmServeCommand.UnusableInput, code);
        Assert.Contains("--max-connections", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServeAsync_StateKeyWithoutState_ReturnsUnusableInput()
    {
        var error = new StringWriter();
        var code = await TpmServeCommand.ServeAsync(Settings("swtpm") with { StateKeyFile = "/nonexistent.key" }, TextWriter.Null, error, CancellationToken.None);
        Assert.Equal(TpmServeCommand.UnusableInput, code);
        Assert.Contains("--state-key needs --state", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServeAsync_KeyFileNotAKey_ReturnsUnusableInputSayingHowToMakeOne()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-serve-key-");
        try
        {
            var keyFile = Path.Combine(dir.FullName, "bad.key");
            await File.WriteAllTextAsync(keyFile, "not a key");
            var error = new StringWriter();
            var code = await TpmServeCommand.ServeAsync(Settings("swtpm", state: Path.Combine(dir.FullName, "state")) with { StateKeyFile = keyFile }, TextWriter.Null, error, CancellationToken.None);
            Assert.Equal(TpmServeCommand.UnusableInput, code);
            Assert.Contains("openssl rand -hex 32", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ServeAsync_WrongStateKey_FailsWithoutTouchingTheState()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-serve-key-");
        try
        {
            var state = Path.Combine(dir.FullName, "state");
            var right = WriteKey(dir.FullName, "right.key");
            var wrong = WriteKey(dir.FullName, "wrong.key");
            using (var key = TpmStateKey.FromFile(right))
            using (new SoftwareTpm(new SoftwareTpmOptions { StateDirectory = state, StateEncryptionKey = key }))
            {
            }

            var before = await File.ReadAllBytesAsync(Path.Combine(state, "tpm-state.bin"));
            var error = new StringWriter();
            var code = await TpmServeCommand.ServeAsync(Settings("swtpm", state: state) with { StateKeyFile = wrong }, TextWriter.Null, error, CancellationToken.None);

            Assert.Equal(TpmServeCommand.Failed, code);
            Assert.Contains("encrypted under another key", error.ToString(), StringComparison.Ordinal);
            Assert.Equal(before, await File.ReadAllBytesAsync(Path.Combine(state, "tpm-state.bin")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task TruststackTpmServe_SecondServerOnTheSameState_ExitsNonZeroNamingTheHoldersPid()
    {
        var state = Directory.CreateTempSubdirectory("truststack-serve-twice-");
        using var first = await ServeChild.StartAsync(["--state", state.FullName]);
        try
        {
            using var second = ServeChild.Start(["--state", state.FullName]);
            await second.Process.WaitForExitAsync().WaitAsync(Patience);
            var stderr = await second.Stderr;

            Assert.Equal(TpmServeCommand.Failed, second.Process.ExitCode);
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.StartsWith("error: state folder", line, StringComparison.Ordinal);
            Assert.Contains($"in use by pid {first.Process.Id} ", line, StringComparison.Ordinal);

            // The first is untouched and still serves.
            using var transport = new SwtpmSocketTransport("127.0.0.1", first.Port);
            Assert.Equal(8, new Tpm2(transport).GetRandom(8).Length);
        }
        finally
        {
            await first.StopAsync();
            state.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task TruststackTpmServe_SecondServerWithFileLockingSwitchedOff_IsStillRefused()
    {
        // DOTNET_SYSTEM_IO_DISABLEFILELOCKING turns .NET's flock into a no-op: without a check the
        // second server would take the folder as well.
        var state = Directory.CreateTempSubdirectory("truststack-serve-nolock-");
        using var first = await ServeChild.StartAsync(["--state", state.FullName]);
        try
        {
            using var second = ServeChild.Start(["--state", state.FullName], new Dictionary<string, string> { ["DOTNET_SYSTEM_IO_DISABLEFILELOCKING"] = "1" });
            await second.Process.WaitForExitAsync().WaitAsync(Patience);

            Assert.Equal(TpmServeCommand.Failed, second.Process.ExitCode);
            Assert.Contains("file locking is switched off", await second.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            await first.StopAsync();
            state.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task TruststackTpmServe_EncryptedStateAfterKill9_KeepsEveryAcknowledgedNvWrite()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-serve-kill-");
        try
        {
            var state = Path.Combine(dir.FullName, "state");
            var key = WriteKey(dir.FullName, "state.key");
            const uint counter = 0x0150_0040;
            const int increments = 25;
            using (var first = await ServeChild.StartAsync(["--state", state, "--state-key", key]))
            {
                Assert.Contains("AES-256-GCM, key id", first.Output, StringComparison.Ordinal);
                using (var transport = new SwtpmSocketTransport("127.0.0.1", first.Port))
                {
                    var client = new Tpm2(transport);
                    client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(counter, TpmAlgId.Sha256, TpmaNv.OwnerRead | TpmaNv.OwnerWrite | TpmaNv.TypeCounter, [], 8), []);
                    for (var i = 0; i < increments; i++)
                    {
                        client.NvIncrement(TpmRh.Owner, counter);
                    }
                }

                // SIGKILL: no clean stop, no save on the way out.
                first.Process.Kill();
                await first.Process.WaitForExitAsync().WaitAsync(Patience);
            }

            var file = await File.ReadAllBytesAsync(Path.Combine(state, "tpm-state.bin"));
            Assert.Equal("TSTPMSE1"u8.ToArray(), file[..8]);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(state, "tpm-state.bin")));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(state));
            }

            using (var again = await ServeChild.StartAsync(["--state", state, "--state-key", key]))
            {
                using (var transport = new SwtpmSocketTransport("127.0.0.1", again.Port))
                {
                    Assert.Equal((ulong)increments, BinaryPrimitives.ReadUInt64BigEndian(new Tpm2(transport).NvRead(TpmRh.Owner, counter, 8)));
                }

                await again.StopAsync();
            }

            // Without the key the state does not open, and nothing is reset.
            using var keyless = ServeChild.Start(["--state", state]);
            await keyless.Process.WaitForExitAsync().WaitAsync(Patience);
            Assert.Equal(TpmServeCommand.Failed, keyless.Process.ExitCode);
            Assert.Contains("it is encrypted (AES-256-GCM)", await keyless.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string WriteKey(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return path;
    }

    private static TpmServeCommand.ServeSettings Settings(string protocol, int port = 0, string? state = null, bool startup = true) =>
        new(protocol, port, state, Seed: 7, startup, Verbose: false);

    /// <summary>The Cli build output (the test references the project, so it sits beside the tests or in packages/Cli/bin).</summary>
    private static string CliDll()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "truststack.dll");
        if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
        {
            return beside;
        }

        // tests/Cli.Tests/bin/<Configuration>/<tfm>/ -> packages/Cli/bin/<Configuration>/<tfm>/
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = tfm.Parent!;
        var root = configuration.Parent!.Parent!.Parent!.Parent!;
        var built = Path.Combine(root.FullName, "packages", "Cli", "bin", configuration.Name, tfm.Name, "truststack.dll");
        return File.Exists(built) ? built : throw new FileNotFoundException("The Cli build output was not found.", built);
    }

    [GeneratedRegex(@"TPM2TOOLS_TCTI=(\S+)")]
    private static partial Regex TctiLine();

    [GeneratedRegex(@"TPM2TOOLS_TCTI=swtpm:host=127\.0\.0\.1,port=(\d+)")]
    private static partial Regex PortLine();

    /// <summary>A <c>dotnet truststack.dll tpm serve --protocol swtpm --port 0 ...</c> child process.</summary>
    private sealed class ServeChild : IDisposable
    {
        private ServeChild(Process process)
        {
            Process = process;
            Stderr = process.StandardError.ReadToEndAsync();
        }

        public Process Process { get; }

        public Task<string> Stderr { get; }

        public int Port { get; private set; }

        public string Output { get; private set; } = string.Empty;

        public static ServeChild Start(string[] arguments, IReadOnlyDictionary<string, string>? environment = null)
        {
            var psi = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { CliDll(), "tpm", "serve", "--protocol", "swtpm", "--port", "0" }.Concat(arguments))
            {
                psi.ArgumentList.Add(arg);
            }

            foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            {
                psi.Environment[name] = value;
            }

            return new ServeChild(Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start"));
        }

        /// <summary>Starts a server and waits until it listens.</summary>
        public static async Task<ServeChild> StartAsync(string[] arguments)
        {
            var child = Start(arguments);
            var lines = new List<string>();
            var deadline = Stopwatch.StartNew();
            while (child.Port == 0 && deadline.Elapsed < Patience)
            {
                var next = await child.Process.StandardOutput.ReadLineAsync().WaitAsync(Patience);
                if (next is null)
                {
                    throw new InvalidOperationException($"truststack exited early: {string.Join('\n', lines)} {await child.Stderr}");
                }

                lines.Add(next);
                var match = PortLine().Match(next);
                child.Port = match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            }

            // The state line follows the TCTI line.
            lines.Add(await child.Process.StandardOutput.ReadLineAsync().WaitAsync(Patience) ?? string.Empty);
            child.Output = string.Join('\n', lines);
            return child;
        }

        /// <summary>SIGTERM and wait for the clean stop.</summary>
        public async Task StopAsync()
        {
            if (Process.HasExited)
            {
                return;
            }

            PeerTools.Run("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)]);
            await Process.WaitForExitAsync().WaitAsync(Patience);
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit();
            }

            Process.Dispose();
        }
    }

    /// <summary>A thread-safe writer the test can wait on for the "listening" lines.</summary>
    private sealed class LineWriter : SynchronizedStringWriter
    {
        public async Task<int> WaitForPortAsync(string protocol)
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < Patience)
            {
                var match = Regex.Match(Text, $@"TPM2TOOLS_TCTI={protocol}:host=127\.0\.0\.1,port=(\d+)");
                if (match.Success)
                {
                    return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                }

                await Task.Delay(20);
            }

            throw new TimeoutException($"no listening line: {Text}");
        }
    }
}
