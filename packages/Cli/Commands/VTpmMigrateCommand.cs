using System.CommandLine;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack vtpm migrate --vm UUID --to HOST:PORT [--state DIR] [--tpm SPEC] --trust-ak NAME...</c>:
/// moves the vTPM of a VM from the state folder DIR (its manager must not be serving it) to a
/// destination started with <c>truststack vtpm serve --accept-migrations PORT</c>. The destination
/// must quote the same virtualization-layer PCRs as this host's hardware TPM and use an attestation
/// key named by <c>--trust-ak</c>. Exit codes: 0 moved, 1 refused or rolled back (reasons on
/// standard error; the vTPM stays here), 2 unusable options.
/// </summary>
internal static class VTpmMigrateCommand
{
    /// <summary>The <c>migrate</c> sub-command, sharing <c>--state</c> and <c>--tpm</c> with <c>serve</c>.</summary>
    public static Command Create(Option<string> state, Option<string> tpm)
    {
        var vm = new Option<string>("--vm") { Description = "The VM whose vTPM moves.", HelpName = "UUID", Required = true };
        var to = new Option<string>("--to") { Description = "The destination's migration endpoint.", HelpName = "HOST:PORT", Required = true };
        var trustAk = new Option<string[]>("--trust-ak") { Description = "Name (hex) of a destination attestation key to trust, as `vtpm serve --accept-migrations` prints it; repeatable.", HelpName = "NAME", AllowMultipleArgumentsPerToken = true };
        var command = new Command("migrate", "Move a vTPM to another vTPM manager: the destination proves its platform and its TPM-held migration key, then gets the state encrypted; exactly one copy stays live.")
        {
            vm, to, state, tpm, trustAk,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            if (!Guid.TryParse(parseResult.GetValue(vm), out var vmId))
            {
                error.WriteLine($"error: --vm '{parseResult.GetValue(vm)}' is not a UUID.");
                return 2;
            }

            TcpMigrationTransport transport;
            TpmTransportSpec spec;
            byte[][] trusted;
            try
            {
                transport = TcpMigrationTransport.Parse(parseResult.GetValue(to) ?? string.Empty);
                spec = TpmTransportSpec.Parse(parseResult.GetValue(tpm) ?? "embedded");
                trusted = [.. (parseResult.GetValue(trustAk) ?? []).Select(Convert.FromHexString)];
            }
            catch (FormatException e)
            {
                error.WriteLine($"error: {e.Message}");
                return 2;
            }

            using var _ = transport;
            var dir = Path.GetFullPath(parseResult.GetValue(state) ?? "truststack-vtpm");
            try
            {
                return await MigrateAsync(spec, dir, vmId, transport, trusted, output, error, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TpmException or IOException or UnauthorizedAccessException or KeyNotFoundException or InvalidOperationException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> MigrateAsync(TpmTransportSpec spec, string dir, Guid vmId, TcpMigrationTransport transport, byte[][] trusted, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var (hardwareTransport, hardware) = VTpmCommands.OpenHardware(spec, dir);
        using var transportScope = hardwareTransport;
        using var hardwareScope = hardware;
        using var loggerFactory = VTpmCommands.MigrationLogging();
        var options = new VTpmCoreOptions { StateDirectory = dir };
        await using var manager = new VTpmManager(options, hardware, loggerFactory: loggerFactory);
        var source = new VTpmMigrationSource(manager);
        if (source.Pending.Count > 0)
        {
            foreach (var pending in await source.RecoverAsync(TcpMigrationTransport.Parse, cancellationToken).ConfigureAwait(false))
            {
                output.WriteLine($"finished earlier migration: {pending}");
            }
        }

        var policy = MigrationTrustPolicy.SameLayerAs(hardware, PcrSelectionList.Parse(options.VirtualizationLayerPcrs), trusted);
        output.WriteLine($"migrating the vTPM of VM {vmId} to {transport.Endpoint}");
        var result = await source.MigrateAsync(vmId, transport, policy, cancellationToken).ConfigureAwait(false);
        if (result.Moved)
        {
            output.WriteLine($"{result.Outcome.ToString().ToLowerInvariant()}: VM {vmId} moved to {transport.Endpoint} (migration {result.MigrationId}); the local copy is destroyed");
            return 0;
        }

        error.WriteLine($"{result.Outcome.ToString().ToLowerInvariant()}: the vTPM of VM {vmId} stays here");
        foreach (var reason in result.Reasons)
        {
            error.WriteLine($"  - {reason}");
        }

        return 1;
    }
}
