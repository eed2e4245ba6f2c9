using System.CommandLine;
using System.Globalization;
using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack certs compare --vtpms N</c>: credentials N vTPMs with the VMEK scheme and each
/// rival of the design on the same workload and prints, per scheme, the hardware keys needed, the
/// Privacy CA round trips and signatures per vTPM, the hardware TPM signatures, the verifier's work
/// per attestation, the TCG rules broken, and the measured time (progress on stderr).
/// </summary>
internal static class CertsCommands
{
    /// <summary>The <c>certs</c> command with its <c>compare</c> sub-command.</summary>
    public static Command Create()
    {
        var vtpms = new Option<int>("--vtpms", "-n") { Description = "How many vTPMs each scheme credentials.", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the hardware TPMs, CAs and vTPMs.", DefaultValueFactory = _ => 1 };
        var compare = new Command("compare", "Compare the VMEK scheme with its rivals (hardware AIK, local CA, deep quote, PCA per vEK).") { vtpms, seed };
        compare.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var n = parseResult.GetValue(vtpms);
            if (n is < 1 or > 100_000)
            {
                error.WriteLine("error: --vtpms must be 1..100000.");
                return 2;
            }

            var clock = new FixedTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
            var results = new List<SchemeMeasurement>();
            foreach (var scheme in SchemeComparison.All())
            {
                var name = scheme.Profile.Name;
                var progress = new SyncProgress(done =>
                {
                    if (done == n || done % Math.Max(1, n / 10) == 0)
                    {
                        error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {done}/{n} vTPMs credentialed"));
                    }
                });
                results.Add(SchemeComparison.Measure(scheme, n, parseResult.GetValue(seed), clock, progress));
            }

            Print(results, output);
            return results.All(r => r.AttestationsAccepted == r.VTpms) ? 0 : 1;
        });
        return new Command("certs", "vTPM certificate schemes (VMEK and rivals).") { compare };
    }

    private static void Print(IReadOnlyList<SchemeMeasurement> results, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"vTPM credential schemes, {results[0].VTpms} vTPMs each (credential + one attestation per vTPM)"));
        output.WriteLine();
        output.WriteLine(string.Create(inv, $"{"scheme",-12} {"hw keys",7} {"PCA trips/vTPM",14} {"PCA sigs/vTPM",13} {"hw sigs/vTPM",12} {"hw sigs/attest",14} {"verifier sigs",13} {"PCA/attest",10} {"accepted",8} {"credential ms",13} {"attest ms",9}"));
        foreach (var r in results)
        {
            var p = r.Profile;
            output.WriteLine(string.Create(inv, $"{p.Name,-12} {p.HardwareKeys,7} {r.PcaRoundTripsPerVTpm,14:0.##} {r.PcaSignaturesPerVTpm,13:0.##} {r.HardwareSignaturesPerVTpm,12:0.##} {r.HardwareSignaturesPerAttestation,14:0.##} {p.VerifierSignatureChecks,13} {(p.PcaPerAttestation ? "yes" : "no"),10} {r.AttestationsAccepted,8} {r.CredentialTime.TotalMilliseconds,13:0} {r.AttestationTime.TotalMilliseconds,9:0}"));
        }

        output.WriteLine();
        foreach (var r in results)
        {
            var p = r.Profile;
            output.WriteLine($"{p.Name}: {p.Summary}");
            output.WriteLine($"  verifier per attestation: {p.VerifierWork}");
            output.WriteLine($"  TCG rules broken: {(p.TcgRulesBroken.Count == 0 ? "none" : string.Join("; ", p.TcgRulesBroken))}");
        }
    }

    /// <summary>Reports synchronously (Progress&lt;T&gt; posts to the thread pool, which would reorder lines).</summary>
    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
