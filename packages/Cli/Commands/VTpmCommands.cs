using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack vtpm serve --vms N --base-port P [--state DIR] [--tpm SPEC]</c>: at least N vTPMs
/// on one hardware TPM, every vTPM of DIR served over the swtpm socket protocol (VM slot i on
/// P+2i, control port one above; a VM keeps its slot across restarts). VM UUIDs and vTPM state
/// persist in DIR (encrypted under a key the hardware TPM seals to PCRs 0-7; every acknowledged
/// NV write is on disk before its response); one process owns DIR (a second exits 1 naming the
/// holder's pid); <c>DIR/control.sock</c> lets <c>vtpm migrate</c> go through the serving process.
/// A vTPM left mid-migration, or whose state cannot be opened, is reported and skipped. Ctrl-C or
/// SIGTERM stops every server and saves every vTPM. Exit codes: 0 clean stop, 1 the folder or
/// the hardware TPM cannot be used or no vTPM can be served, 2 unusable options. With
/// <c>--accept-migrations PORT</c> it is also a migration destination on 127.0.0.1:PORT, and a
/// vTPM that arrives is served at once.
/// </summary>
internal static class VTpmCommands
{
    /// <summary>The <c>vtpm</c> command with its <c>serve</c> sub-command.</summary>
    public static Command Create()
    {
        var vms = new Option<int>("--vms") { Description = "Number of vTPMs (VMs) to serve.", HelpName = "N", DefaultValueFactory = _ => 1 };
        var basePort = new Option<int>("--base-port") { Description = "Command port of the first vTPM; VM i uses base+2i (control port one above).", HelpName = "P", DefaultValueFactory = _ => 2421 };
        var state = new Option<string>("--state") { Description = "State folder: VM index, sealed state key, encrypted vTPM files (and the embedded hardware TPM's state).", HelpName = "DIR", DefaultValueFactory = _ => "truststack-vtpm" };
        var tpm = new Option<string>("--tpm") { Description = "The hardware TPM: embedded (default, its state under DIR/hardware-tpm), swtpm:host=H,port=P, mssim:host=H,port=P or device:/dev/tpmrm0.", HelpName = "SPEC", DefaultValueFactory = _ => "embedded" };
        var accept = new Option<int>("--accept-migrations") { Description = "Also accept incoming vTPM migrations on 127.0.0.1:PORT (0: do not); an arriving vTPM is served at once.", HelpName = "PORT", DefaultValueFactory = _ => 0 };
        var defaults = new VTpmMigrationDestinationOptions();
        var offerRate = new Option<double>("--offers-per-second") { Description = $"Migration offer requests admitted per second (token bucket; each costs hardware-TPM work). Default {defaults.OffersPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)}.", HelpName = "R", DefaultValueFactory = _ => defaults.OffersPerSecond };
        var offerBurst = new Option<int>("--offer-burst") { Description = $"Migration offer requests admitted at once before the rate applies. Default {defaults.OfferBurst}.", HelpName = "N", DefaultValueFactory = _ => defaults.OfferBurst };
        var maxPending = new Option<int>("--max-pending-migrations") { Description = $"Incoming migrations in progress at most (offered or prepared, not yet committed). Default {defaults.MaxPendingMigrations}.", HelpName = "N", DefaultValueFactory = _ => defaults.MaxPendingMigrations };
        var offerTimeout = new Option<double>("--offer-timeout") { Description = $"Seconds an offer waits for its prepare before it is forgotten. Default {defaults.OfferTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}.", HelpName = "SECONDS", DefaultValueFactory = _ => defaults.OfferTimeout.TotalSeconds };
        var serve = new Command("serve", "Serve the vTPMs of a state folder (at least N) over the swtpm socket protocol on one hardware TPM, until Ctrl-C or SIGTERM.")
        {
            vms, basePort, state, tpm, accept, offerRate, offerBurst, maxPending, offerTimeout,
        };
        serve.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var count = parseResult.GetValue(vms);
            var port = parseResult.GetValue(basePort);
            var dir = Path.GetFullPath(parseResult.GetValue(state) ?? "truststack-vtpm");
            var migrationPort = parseResult.GetValue(accept);
            if (migrationPort is < 0 or > 65535 || (count == 0 && migrationPort == 0))
            {
                error.WriteLine($"error: --accept-migrations {migrationPort} must be a port 1..65535 (and is required with --vms 0).");
                return 2;
            }

            if (count < 0 || (count > 0 && (port < 1 || port + (2 * count) - 1 > 65535)))
            {
                error.WriteLine($"error: --vms {count} from --base-port {port} needs ports {port}..{port + (2 * count) - 1}, which must lie in 1..65535.");
                return 2;
            }

            TpmTransportSpec spec;
            var limits = new VTpmMigrationDestinationOptions
            {
                OffersPerSecond = parseResult.GetValue(offerRate),
                OfferBurst = parseResult.GetValue(offerBurst),
                MaxPendingMigrations = parseResult.GetValue(maxPending),
                OfferTimeout = TimeSpan.FromSeconds(Math.Clamp(parseResult.GetValue(offerTimeout), 0, TimeSpan.MaxValue.TotalSeconds / 2)),
            };
            try
            {
                spec = TpmTransportSpec.Parse(parseResult.GetValue(tpm) ?? "embedded");
                limits.Validate();
            }
            catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException)
            {
                error.WriteLine($"error: {e.Message}");
                return 2;
            }

            try
            {
                return await ServeAsync(spec, dir, count, port, migrationPort, limits, output, error, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TpmException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException or VirtualizationLayerChangedException or VTpmLaunchRejectedException)
            {
                // One line (a StateFolderLockedException names the pid that holds the folder).
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });

        return new Command("vtpm", "vTPM manager: many vTPMs, one hardware TPM.") { serve, VTpmMigrateCommand.Create(state, tpm) };
    }

    /// <summary>Opens the hardware TPM of <paramref name="spec"/> (the embedded one keeps its state under DIR/hardware-tpm) and starts it if needed.</summary>
    /// <exception cref="StateFolderLockedException">Another process serves DIR (its embedded hardware TPM's folder is held).</exception>
    internal static (ITpmTransport Transport, Tpm2 Hardware) OpenHardware(TpmTransportSpec spec, string dir)
    {
        var hardwareState = Path.Combine(dir, "hardware-tpm");
        if (spec.Kind == "embedded")
        {
            // The embedded engine's tpm-state.bin holds its seeds in the clear and, with
            // vtpm-state-key.sealed, would let anyone who copies the folder open every vTPM: both
            // folders are owner-only (0700), existing ones narrowed (issue 19, finding 11).
            OwnerOnly(dir);
            OwnerOnly(hardwareState);
        }

        var transport = spec.Open(new SoftwareTpmOptions { AutoStartup = true, StateDirectory = hardwareState });
        var hardware = new Tpm2(transport);
        if (spec.Kind != "embedded")
        {
            try
            {
                hardware.Startup(TpmSu.Clear);
            }
            catch (TpmException e) when (e.BaseCode == TpmRc.Initialize)
            {
                // Already started by the platform.
            }
        }

        return (transport, hardware);
    }

    /// <summary>Progress and events of the migration code, on standard error.</summary>
    internal static ILoggerFactory MigrationLogging() => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(LogLevel.Information)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        })
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

    private static void OwnerOnly(string directory)
    {
        StateFolderLock.CreateOwnerOnlyDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static async Task<int> ServeAsync(TpmTransportSpec spec, string dir, int count, int basePort, int migrationPort, VTpmMigrationDestinationOptions limits, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var (transport, hardware) = OpenHardware(spec, dir);
        using var transportScope = transport;
        using var hardwareScope = hardware;
        using var loggerFactory = migrationPort > 0 ? MigrationLogging() : NullLoggerFactory.Instance;
        await using var manager = new VTpmManager(new VTpmCoreOptions { StateDirectory = dir, IncomingMigrations = limits }, hardware, loggerFactory: loggerFactory);
        while (manager.Count < count)
        {
            manager.Create();
        }

        output.WriteLine($"vTPM manager on hardware TPM {spec}, state in {dir}");
        var host = new VTpmServeHost(manager, hardware, dir, basePort, output, error, loggerFactory);
        await using (host.ConfigureAwait(false))
        {
            // The destination first: its recovery may activate vTPMs committed before a restart, which then serve too.
            if (migrationPort > 0)
            {
                host.AcceptMigrations(migrationPort);
            }

            var served = host.ServeAll();
            if (served == 0 && manager.Count > 0 && migrationPort == 0)
            {
                error.WriteLine($"error: none of the {manager.Count} vTPMs of {dir} can be served (reasons above)");
                return 1;
            }

            host.StartControl();
            output.WriteLine($"serving {served} vTPMs; Ctrl-C or SIGTERM stops and saves them");
            output.Flush();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C / SIGTERM: fall through to the orderly stop.
            }
        }

        var saved = manager.List().Count(i => i.State != VTpmInstanceState.Stopped);
        await manager.DisposeAsync().ConfigureAwait(false);
        output.WriteLine($"stopped; saved {saved} vTPMs to {dir}");
        return 0;
    }
}
