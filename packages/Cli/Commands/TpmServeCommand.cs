using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack tpm serve --protocol swtpm|mssim --port P [--state DIR [--state-key FILE]] [--seed N]
/// [--no-startup] [--max-connections N] [--idle-timeout S]</c>: serves the software TPM on 127.0.0.1
/// to real TPM software (tpm2-tools, IBM TSS) until Ctrl-C, SIGTERM, swtpm's CMD_STOP or mssim's
/// TPM_STOP; the state folder is saved after every command that changes it and on the way out.
/// Exit codes: 0 after a clean stop, 1 when the server cannot start (port taken, state folder in
/// use by another process, unreadable state or wrong key), 2 for unusable options.
/// </summary>
internal static class TpmServeCommand
{
    /// <summary>Exit code of a clean stop.</summary>
    public const int Stopped = 0;

    /// <summary>Exit code when the server could not start or failed.</summary>
    public const int Failed = 1;

    /// <summary>Exit code of unusable options.</summary>
    public const int UnusableInput = 2;

    /// <summary>The default port of both swtpm and the Microsoft simulator.</summary>
    public const int DefaultPort = 2321;

    /// <summary>The <c>tpm</c> command with its <c>serve</c> sub-command.</summary>
    public static Command Create()
    {
        var protocol = new Option<string>("--protocol") { Description = "Wire protocol: swtpm (socket: data port P, control port P+1) or mssim (Microsoft simulator: TPM port P, platform port P+1).", DefaultValueFactory = _ => "swtpm", HelpName = "swtpm|mssim" };
        protocol.AcceptOnlyFromAmong("swtpm", "mssim");
        var port = new Option<int>("--port") { Description = $"Command port on 127.0.0.1 (the control/platform port is one above); 0 picks a free pair. Default {DefaultPort}.", DefaultValueFactory = _ => DefaultPort, HelpName = "P" };
        var state = new Option<DirectoryInfo?>("--state") { Description = "State folder (seeds, NV, persistent objects, clock): loaded if present, saved after every command that changes it and on stop; owned by this process while it runs (a second tpm serve on it is refused); created 0700, files 0600. Default: memory only.", HelpName = "DIR" };
        var stateKey = new Option<FileInfo?>("--state-key") { Description = "Encrypt the state file with AES-256-GCM under the key in FILE (32 raw octets or 64 hex digits: openssl rand -hex 32 > FILE; chmod 600 FILE). A clear state file is loaded and encrypted from then on; a wrong key is refused.", HelpName = "FILE" };
        var seed = new Option<ulong?>("--seed") { Description = "Deterministic mode: the engine's DRBG seed (same seed, same keys and nonces). For tests only.", HelpName = "N" };
        var noStartup = new Option<bool>("--no-startup") { Description = "Do not run TPM2_Startup(CLEAR) at power-on; the client must send tpm2_startup -c." };
        var maxConnections = new Option<int>("--max-connections") { Description = "Connections open at once on both ports; one more is closed at once with a warning. Default 64.", DefaultValueFactory = _ => 64, HelpName = "N" };
        var idleTimeout = new Option<double>("--idle-timeout") { Description = "Seconds a connection may wait between commands before it is closed; 0 for never (for long-lived clients such as tpm2-abrmd over mssim). Default 300.", DefaultValueFactory = _ => 300, HelpName = "S" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log each client connection and engine event (debug level) to standard error." };

        var serve = new Command("serve", "Serve the software TPM over the swtpm or mssim protocol on 127.0.0.1 until Ctrl-C, SIGTERM or a stop command.")
        {
            protocol, port, state, stateKey, seed, noStartup, maxConnections, idleTimeout, verbose,
        };
        serve.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new ServeSettings(
                parseResult.GetValue(protocol) ?? "swtpm",
                parseResult.GetValue(port),
                parseResult.GetValue(state)?.FullName,
                parseResult.GetValue(seed),
                !parseResult.GetValue(noStartup),
                parseResult.GetValue(verbose))
            {
                StateKeyFile = parseResult.GetValue(stateKey)?.FullName,
                MaxConnections = parseResult.GetValue(maxConnections),
                IdleTimeoutSeconds = parseResult.GetValue(idleTimeout),
            };
            return await ServeAsync(settings, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, cancellationToken).ConfigureAwait(false);
        });

        return new Command("tpm", "Work with the software TPM engine.") { serve };
    }

    /// <summary>
    /// Runs the server until <paramref name="cancellationToken"/> is cancelled (System.CommandLine
    /// cancels it on SIGINT/SIGTERM), SIGTERM/SIGINT arrive, or a client sends a stop command.
    /// </summary>
    public static async Task<int> ServeAsync(ServeSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (settings.Port is < 0 or > 65534)
        {
            error.WriteLine($"error: --port {settings.Port} is out of range (0..65534; the next port is the control port).");
            return UnusableInput;
        }

        if (settings.MaxConnections is < 1 or > 10_000 || !(settings.IdleTimeoutSeconds is 0 or (>= 0.001 and <= 2_000_000)))
        {
            error.WriteLine("error: --max-connections must be 1..10000 and --idle-timeout 0 (never) or 0.001..2000000 seconds.");
            return UnusableInput;
        }

        var serverOptions = new TpmServerOptions
        {
            MaxConnections = settings.MaxConnections,
            IdleTimeout = settings.IdleTimeoutSeconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(settings.IdleTimeoutSeconds),
        };

        if (settings.StateKeyFile is not null && settings.StateDirectory is null)
        {
            error.WriteLine("error: --state-key needs --state DIR (without a state folder nothing is written).");
            return UnusableInput;
        }

        TpmStateKey? key = null;
        if (settings.StateKeyFile is { } keyFile)
        {
            try
            {
                key = TpmStateKey.FromFile(keyFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                error.WriteLine($"error: --state-key {keyFile}: {e.Message}");
                return UnusableInput;
            }

            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(keyFile) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            {
                error.WriteLine($"warning: the state key file {keyFile} is readable by other users; chmod 600 it.");
            }
        }

        using var keyHolder = key;

        using var loggerFactory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(settings.Verbose ? LogLevel.Debug : LogLevel.Warning)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

        SoftwareTpm tpm;
        try
        {
            tpm = new SoftwareTpm(
                new SoftwareTpmOptions { StateDirectory = settings.StateDirectory, StateEncryptionKey = key, Seed = settings.Seed, AutoStartup = settings.Startup },
                logger: loggerFactory.CreateLogger<SoftwareTpm>());
        }
        catch (StateFolderLockedException e)
        {
            // One line naming the holder's pid: two servers on one folder would serve the same TPM
            // and the last to stop would overwrite the other's acknowledged writes.
            error.WriteLine($"error: {e.Message}");
            return Failed;
        }
        catch (Exception e) when (e is TpmStateException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: cannot open the TPM state: {e.Message}");
            return Failed;
        }

        using (tpm)
        {
            TpmTcpServer server = settings.Protocol == "mssim"
                ? new MssimServer(tpm, settings.Port, loggerFactory.CreateLogger<MssimServer>(), serverOptions)
                : new SwtpmSocketServer(tpm, settings.Port, loggerFactory.CreateLogger<SwtpmSocketServer>(), serverOptions);
            await using (server.ConfigureAwait(false))
            {
                try
                {
                    server.Start();
                }
                catch (SocketException e)
                {
                    error.WriteLine($"error: cannot listen on 127.0.0.1:{settings.Port} or {settings.Port + 1}: {e.Message}");
                    return Failed;
                }

                // SIGTERM and SIGINT stop the server cleanly (state saved) instead of killing the process.
                using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
                using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
                using var registration = cancellationToken.Register(server.Stop);

                output.WriteLine($"truststack tpm serve: {settings.Protocol} listening on 127.0.0.1:{server.Port} ({(settings.Protocol == "mssim" ? "platform" : "control")} port {server.ControlPort})");
                output.WriteLine($"  TPM2TOOLS_TCTI={settings.Protocol}:host=127.0.0.1,port={server.Port}");
                var stateLine = settings.StateDirectory is null ? "memory only"
                    : key is null ? $"{settings.StateDirectory} (not encrypted; --state-key FILE encrypts it)"
                    : $"{settings.StateDirectory} (AES-256-GCM, key id {Convert.ToHexStringLower(key.KeyId.Span)})";
                output.WriteLine($"  state: {stateLine}; startup: {(settings.Startup ? "TPM2_Startup(CLEAR) at power-on" : "client sends TPM2_Startup")}; stop with Ctrl-C or SIGTERM");
                output.WriteLine($"  limits: {settings.MaxConnections} connections, idle timeout {(serverOptions.IdleTimeout == Timeout.InfiniteTimeSpan ? "none" : FormattableString.Invariant($"{settings.IdleTimeoutSeconds:0.###} s"))}");
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);

                await server.Completion.ConfigureAwait(false);

                void OnSignal(PosixSignalContext context)
                {
                    context.Cancel = true;
                    server.Stop();
                }
            }
        }

        output.WriteLine(settings.StateDirectory is { } dir ? $"stopped; state saved in {dir}" : "stopped");
        await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        return Stopped;
    }

    /// <summary>What <c>tpm serve</c> was asked to do.</summary>
    /// <param name="Protocol">swtpm or mssim.</param>
    /// <param name="Port">The command port (0 for any free pair).</param>
    /// <param name="StateDirectory">The state folder, or null for memory only.</param>
    /// <param name="Seed">The DRBG seed, or null for the OS CSPRNG.</param>
    /// <param name="Startup">Run TPM2_Startup(CLEAR) at power-on.</param>
    /// <param name="Verbose">Log at debug level.</param>
    internal sealed record ServeSettings(string Protocol, int Port, string? StateDirectory, ulong? Seed, bool Startup, bool Verbose)
    {
        /// <summary>The state key file, or null for a clear state file.</summary>
        public string? StateKeyFile { get; init; }

        /// <summary>Connections open at once on both ports.</summary>
        public int MaxConnections { get; init; } = 64;

        /// <summary>Seconds a connection may wait between commands; 0 for never.</summary>
        public double IdleTimeoutSeconds { get; init; } = 300;
    }
}
