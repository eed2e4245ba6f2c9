using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack vtpm serve --vms N --base-port P [--state DIR] [--tpm SPEC]</c>: N vTPMs on one
/// hardware TPM, each served over the swtpm socket protocol (VM i on P+2i, control port one
/// above). VM UUIDs and vTPM state persist in DIR (encrypted under a key the hardware TPM seals
/// to PCRs 0-7); Ctrl-C or SIGTERM stops every server and saves every vTPM. Exit codes: 0 clean
/// stop, 1 a vTPM could not be opened or served, 2 unusable options. With
/// <c>--accept-migrations PORT</c> it is also a migration destination on 127.0.0.1:PORT.
/// <c>truststack vtpm migrate --vm UUID --to HOST:PORT --state DIR --trust-ak NAME</c> moves a
/// stopped vTPM of DIR to such a destination (exit 0 moved, 1 refused or rolled back, 2 options).
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
        var accept = new Option<int>("--accept-migrations") { Description = "Also accept incoming vTPM migrations on 127.0.0.1:PORT (0: do not).", HelpName = "PORT", DefaultValueFactory = _ => 0 };
        var serve = new Command("serve", "Serve N vTPMs over the swtpm socket protocol on one hardware TPM, until Ctrl-C or SIGTERM.")
        {
            vms, basePort, state, tpm, accept,
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
            try
            {
                spec = TpmTransportSpec.Parse(parseResult.GetValue(tpm) ?? "embedded");
            }
            catch (FormatException e)
            {
                error.WriteLine($"error: {e.Message}");
                return 2;
            }

            try
            {
                return await ServeAsync(spec, dir, count, port, migrationPort, output, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TpmException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException or VirtualizationLayerChangedException or VTpmLaunchRejectedException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });

        return new Command("vtpm", "vTPM manager: many vTPMs, one hardware TPM.") { serve, VTpmMigrateCommand.Create(state, tpm) };
    }

    /// <summary>Opens the hardware TPM of <paramref name="spec"/> (the embedded one keeps its state under DIR/hardware-tpm) and starts it if needed.</summary>
    internal static (ITpmTransport Transport, Tpm2 Hardware) OpenHardware(TpmTransportSpec spec, string dir)
    {
        var transport = spec.Open(new SoftwareTpmOptions { AutoStartup = true, StateDirectory = Path.Combine(dir, "hardware-tpm") });
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

    private static async Task<int> ServeAsync(TpmTransportSpec spec, string dir, int count, int basePort, int migrationPort, TextWriter output, CancellationToken cancellationToken)
    {
        var (transport, hardware) = OpenHardware(spec, dir);
        using var transportScope = transport;
        using var hardwareScope = hardware;
        using var loggerFactory = migrationPort > 0 ? MigrationLogging() : NullLoggerFactory.Instance;
        await using var manager = new VTpmManager(new VTpmCoreOptions { StateDirectory = dir }, hardware, loggerFactory: loggerFactory);
        while (manager.Count < count)
        {
            manager.Create();
        }

        var instances = manager.List().Take(count).ToList();
        output.WriteLine($"vTPM manager on hardware TPM {spec}, state in {dir}");
        for (var i = 0; i < instances.Count; i++)
        {
            var vm = instances[i].VmId;
            manager.Start(vm);
            var served = manager.Serve(vm, basePort + (2 * i));
            output.WriteLine($"vm {vm} vtpm 127.0.0.1:{served.Port} control {served.Port + 1} TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port={served.Port}");
        }

        TcpMigrationListener? listener = null;
        if (migrationPort > 0)
        {
            var destination = new VTpmMigrationDestination(manager);
            listener = new TcpMigrationListener(destination, migrationPort, loggerFactory.CreateLogger<TcpMigrationListener>());
            listener.Start();
            output.WriteLine($"accepting migrations on 127.0.0.1:{listener.Port}; attestation key {Convert.ToHexStringLower(destination.AttestationKeyName)}");
        }

        output.WriteLine($"serving {instances.Count} vTPMs; Ctrl-C or SIGTERM stops and saves them");
        output.Flush();
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C / SIGTERM: fall through to the orderly stop.
        }

        if (listener is not null)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }

        var saved = manager.List().Count(i => i.State != VTpmInstanceState.Stopped);
        await manager.DisposeAsync().ConfigureAwait(false);
        output.WriteLine($"stopped; saved {saved} vTPMs to {dir}");
        return 0;
    }
}
