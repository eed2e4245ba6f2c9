using System.CommandLine;
using TrustStack.Cli.Demo;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack demo [--seed N] [--tpm SPEC]</c>: measured boot and remote attestation end to
/// end on one TPM (the embedded software TPM by default); exit 0 only if everything verified.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var seed = new Option<ulong?>("--seed") { Description = "Deterministic mode: the engine's DRBG seed and the verifier's nonce source. Same seed, same report.", HelpName = "N" };
        var tpm = new Option<string>("--tpm") { Description = "The TPM: embedded (default), swtpm:host=H,port=P, mssim:host=H,port=P or device:/dev/tpmrm0.", HelpName = "SPEC", DefaultValueFactory = _ => "embedded" };
        var command = new Command("demo", "Measure a boot chain, create EK and AK, prove the AK by credential activation, quote with a fresh nonce, verify the quote and replay the event log.")
        {
            seed, tpm,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var seedValue = parseResult.GetValue(seed);
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

            var random = seedValue is { } s ? (IRandomSource)DeterministicRandomSource.FromSeed(s ^ 0x5EED_0F_5E11F1E5) : SystemRandomSource.Instance;
            try
            {
                using var transport = spec.Open(new SoftwareTpmOptions { Seed = seedValue, AutoStartup = true });
                using var client = new Tpm2(transport, random);
                output.WriteLine($"TrustStack demo on {spec}{(seedValue is { } n ? $" (deterministic, seed {n})" : string.Empty)}");
                var report = new TpmDemo(client, random, step => error.WriteLine($"  ... {step}")).Run();
                Print(report, output);

                // Book ch. 2: a virtualized host. Its hardware TPM is a fresh engine (the PCRs above
                // already hold this demo's boot chain); three VMs get vTPMs measured at the junction point.
                error.WriteLine("  ... launching a TVP-QT host with three VMs");
                var host = RunTvpQtHost(seedValue, random);
                PrintHost(host, output);

                // Book ch. 5: top-down attestation with the sameness proof, and two attacks it defeats.
                error.WriteLine("  ... attesting a TVP-PCA host top-down (three VMs, a tampered guest, a cuckoo relay)");
                var pca = TvpPcaDemoSection.Run(seedValue, random);
                TvpPcaDemoSection.Print(pca, spec.Kind != "embedded", output);

                var passed = report.Passed && host.AllTrusted && pca.Passed;
                output.WriteLine();
                output.WriteLine(passed ? "Result: TRUSTED — every step verified." : "Result: NOT TRUSTED — see the failed steps above.");
                return passed ? 0 : 1;
            }
            catch (Exception e) when (e is TpmException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static void Print(DemoReport report, TextWriter output)
    {
        output.WriteLine();
        var width = report.Steps.Max(s => s.Name.Length);
        foreach (var step in report.Steps)
        {
            output.WriteLine($"  [{(step.Passed ? " OK " : "FAIL")}] {step.Name.PadRight(width)}  {step.Detail}");
        }

        output.WriteLine();
        output.WriteLine("  Quoted PCRs:");
        foreach (var (bank, pcr, value) in report.Pcrs)
        {
            output.WriteLine($"    {PcrValues.BankName(bank)}:{pcr,-2} 0x{Convert.ToHexString(value)}");
        }

    }

    private static TvpQtDemoResult RunTvpQtHost(ulong? seed, IRandomSource random)
    {
        SoftwareTpm Engine(ulong offset) => new(new SoftwareTpmOptions { Seed = seed is { } s ? s + offset : null, AutoStartup = true });
        using var hardware = Engine(100);
        var vTpms = new[] { Engine(101), Engine(102), Engine(103) };
        try
        {
            return TvpQtDemo.Run(hardware, vTpms, random);
        }
        finally
        {
            foreach (var v in vTpms)
            {
                v.Dispose();
            }
        }
    }

    private static void PrintHost(TvpQtDemoResult host, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"  TVP-QT host: platform chain measured ({host.PlatformEventLog.Length}-octet event log), junction point measured each vTPM at launch");
        foreach (var vm in host.Vms)
        {
            var passed = vm.Result.Checks.Count(c => c.Passed);
            output.WriteLine($"  [{(vm.Result.IsTrusted ? " OK " : "FAIL")}] VM {vm.VmId}  {passed}/{vm.Result.Checks.Count} checks: hardware quote, platform log, junction event, vTPM quote, guest log, references");
            foreach (var failure in vm.Result.Failures)
            {
                output.WriteLine($"         {failure}");
            }
        }
    }
}
