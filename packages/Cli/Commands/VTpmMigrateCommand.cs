using System.CommandLine;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack vtpm migrate --vm UUID --to HOST:PORT [--state DIR] [--tpm SPEC] --trust-ak NAME...</c>:
/// moves the vTPM of a VM of the state folder DIR to a destination started with
/// <c>truststack vtpm serve --accept-migrations PORT</c>. When a <c>vtpm serve</c> owns DIR, the
/// request goes through its control endpoint (<c>DIR/control.sock</c>): the serving manager stops
/// serving the vTPM, migrates it (every write its guest had acknowledged is in the state it sends)
/// and, once completed, never serves it again. Otherwise the command opens DIR itself (and is
/// refused, naming the holder's pid, if another process owns it). The destination must quote the
/// same virtualization-layer PCRs as this host's hardware TPM and use an attestation key named by
/// <c>--trust-ak</c>. <c>--resolve --vm UUID</c> finishes a migration left unfinished (a crash, a
/// lost confirmation) as the source's journal says: rolled back here, or committed and the commit
/// resent. Exit codes: 0 completed (or resolved with nothing left owed), 1 refused, rolled back or
/// failed (reasons on standard error; the vTPM stays here), 2 unusable options, 3 unfinished: the
/// commit (or an abort) is not yet confirmed by the destination; <c>--resolve</c> finishes it.
/// </summary>
internal static class VTpmMigrateCommand
{
    /// <summary>Exit code of an unfinished migration (commit or abort not confirmed).</summary>
    public const int Unfinished = 3;

    /// <summary>The <c>migrate</c> sub-command, sharing <c>--state</c> and <c>--tpm</c> with <c>serve</c>.</summary>
    public static Command Create(Option<string> state, Option<string> tpm)
    {
        var vm = new Option<string>("--vm") { Description = "The VM whose vTPM moves (or whose migration --resolve finishes).", HelpName = "UUID", Required = true };
        var to = new Option<string>("--to") { Description = "The destination's migration endpoint (not with --resolve: the journal names it).", HelpName = "HOST:PORT" };
        var trustAk = new Option<string[]>("--trust-ak") { Description = "Name (hex) of a destination attestation key to trust, as `vtpm serve --accept-migrations` prints it; repeatable.", HelpName = "NAME", AllowMultipleArgumentsPerToken = true };
        var resolve = new Option<bool>("--resolve") { Description = "Finish the VM's unfinished migration as the journal records it: roll back (locked or aborting) or resend the commit (committed)." };
        var command = new Command("migrate", "Move a vTPM to another vTPM manager: the destination proves its platform and its TPM-held migration key, then gets the state encrypted; exactly one copy stays live.")
        {
            vm, to, state, tpm, trustAk, resolve,
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

            var resolving = parseResult.GetValue(resolve);
            var endpoint = parseResult.GetValue(to);
            if (resolving == endpoint is not null)
            {
                error.WriteLine(resolving ? "error: --resolve takes no --to (the journal names the destination)." : "error: --to HOST:PORT is required (or --resolve).");
                return 2;
            }

            TpmTransportSpec spec;
            byte[][] trusted;
            try
            {
                if (endpoint is not null)
                {
                    TcpMigrationTransport.Parse(endpoint).Dispose();
                }

                spec = TpmTransportSpec.Parse(parseResult.GetValue(tpm) ?? "embedded");
                trusted = [.. (parseResult.GetValue(trustAk) ?? []).Select(Convert.FromHexString)];
            }
            catch (FormatException e)
            {
                error.WriteLine($"error: {e.Message}");
                return 2;
            }

            var dir = Path.GetFullPath(parseResult.GetValue(state) ?? "truststack-vtpm");
            var request = new VTpmControlRequest(resolving ? VTpmControlCommand.Resolve : VTpmControlCommand.Migrate) { VmId = vmId, Destination = endpoint, TrustedAttestationKeyNames = trusted };
            try
            {
                // One owner per state folder: a folder that is being served changes only through its server.
                using var control = await VTpmControlClient.TryConnectAsync(VTpmControlServer.DefaultPath(dir), cancellationToken).ConfigureAwait(false);
                if (control is not null)
                {
                    output.WriteLine($"{(resolving ? "resolving" : "migrating")} the vTPM of VM {vmId} through the manager serving {dir}");
                    var response = await control.SendAsync(request, cancellationToken).ConfigureAwait(false);
                    if (response.Migration is not { } served)
                    {
                        error.WriteLine($"error: {response.Error ?? "the serving manager gave no result"}");
                        return 1;
                    }

                    return Report(served, request, dir, output, error);
                }

                return await RunLocallyAsync(spec, dir, request, output, error, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TpmException or IOException or UnauthorizedAccessException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                // One line; a StateFolderLockedException names the process that holds the folder.
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>Prints the outcome and maps it to the exit code: only a completed (or fully resolved) migration is 0.</summary>
    internal static int Report(VTpmMigrationResult result, VTpmControlRequest request, string dir, TextWriter output, TextWriter error)
    {
        var resolve = $"truststack vtpm migrate --resolve --vm {result.VmId} --state {dir}";
        switch (result.Outcome)
        {
            case VTpmMigrationOutcome.Completed:
                output.WriteLine($"completed: VM {result.VmId} moved to {request.Destination ?? "its destination"} (migration {result.MigrationId}); the local copy is destroyed");
                return 0;
            case VTpmMigrationOutcome.RolledBack when request.Command == VTpmControlCommand.Resolve && !result.AwaitsDestination:
                output.WriteLine($"rolled back: the vTPM of VM {result.VmId} is live here again (migration {result.MigrationId}; the destination acknowledged the abort)");
                return 0;
            case VTpmMigrationOutcome.CommitPending:
                error.WriteLine($"commit pending: VM {result.VmId} is committed to its destination (migration {result.MigrationId}) and its local copy destroyed, but the destination has not confirmed: the vTPM runs nowhere until `{resolve}` delivers the commit");
                WriteReasons(result, error);
                return Unfinished;
            case VTpmMigrationOutcome.RolledBack when result.AwaitsDestination:
                error.WriteLine($"rolled back: the vTPM of VM {result.VmId} stays here (live); the destination has not acknowledged the abort yet (`{resolve}` resends it)");
                WriteReasons(result, error);
                return Unfinished;
            default:
                error.WriteLine($"{result.Outcome.ToString().ToLowerInvariant()}: the vTPM of VM {result.VmId} stays here");
                WriteReasons(result, error);
                return 1;
        }
    }

    private static void WriteReasons(VTpmMigrationResult result, TextWriter error)
    {
        foreach (var reason in result.Reasons)
        {
            error.WriteLine($"  - {reason}");
        }
    }

    /// <summary>No manager serves DIR: open it here (refused, naming the holder, if another process owns it).</summary>
    private static async Task<int> RunLocallyAsync(TpmTransportSpec spec, string dir, VTpmControlRequest request, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var vmId = request.VmId!.Value;
        var (hardwareTransport, hardware) = VTpmCommands.OpenHardware(spec, dir);
        using var transportScope = hardwareTransport;
        using var hardwareScope = hardware;
        using var loggerFactory = VTpmCommands.MigrationLogging();
        var options = new VTpmCoreOptions { StateDirectory = dir };
        await using var manager = new VTpmManager(options, hardware, loggerFactory: loggerFactory);
        if (request.Command == VTpmControlCommand.Resolve)
        {
            var resolver = new VTpmMigrationSource(manager, new VTpmMigrationSourceOptions { RecoverOnStart = false });
            output.WriteLine($"resolving the migration of VM {vmId}");
            var resolved = await resolver.ResolveAsync(vmId, TcpMigrationTransport.Parse, cancellationToken).ConfigureAwait(false);
            return Report(resolved, request, dir, output, error);
        }

        var source = new VTpmMigrationSource(manager);
        if (source.Pending.Count > 0)
        {
            foreach (var pending in await source.RecoverAsync(TcpMigrationTransport.Parse, cancellationToken).ConfigureAwait(false))
            {
                output.WriteLine($"finished earlier migration: {pending}");
            }
        }

        using var transport = TcpMigrationTransport.Parse(request.Destination!);
        var policy = MigrationTrustPolicy.SameLayerAs(hardware, PcrSelectionList.Parse(options.VirtualizationLayerPcrs), request.TrustedAttestationKeyNames);
        output.WriteLine($"migrating the vTPM of VM {vmId} to {transport.Endpoint}");
        var result = await source.MigrateAsync(vmId, transport, policy, cancellationToken).ConfigureAwait(false);
        return Report(result, request, dir, output, error);
    }
}
