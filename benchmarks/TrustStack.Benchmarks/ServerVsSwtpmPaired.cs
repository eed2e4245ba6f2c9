using System.Diagnostics;
using System.Globalization;

namespace TrustStack.Benchmarks;

/// <summary>
/// A paired, interleaved comparison of our swtpm-protocol server with swtpm for the operations of
/// <see cref="ServerVsSwtpmBenchmarks"/>. BenchmarkDotNet measures one target after the other, so
/// on a machine whose load drifts the two targets see different machines; here every round times a
/// batch on each target back to back (alternating which goes first) and the statistic is the
/// median of the per-round ratios ours/swtpm, with a distribution-free 95% interval for it.
/// Run: dotnet run -c Release --project benchmarks/TrustStack.Benchmarks -- server-vs-swtpm-paired [rounds].
/// </summary>
internal static class ServerVsSwtpmPaired
{
    private static readonly (string Name, int Batch, Action<ServerVsSwtpmBenchmarks> Ours, Action<ServerVsSwtpmBenchmarks> Theirs)[] Operations =
    [
        ("PCR_Extend", 400, b => b.PcrExtendOurs(), b => b.PcrExtendSwtpm()),
        ("Quote ECC P-256", 40, b => b.QuoteOurs(), b => b.QuoteSwtpm()),
        ("Sign ECC P-256", 40, b => b.SignOurs(), b => b.SignSwtpm()),
        ("CreatePrimary ECC P-256", 40, b => b.CreatePrimaryOurs(), b => b.CreatePrimarySwtpm()),
    ];

    public static void Run(TextWriter output, int rounds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 6);
        var bench = new ServerVsSwtpmBenchmarks();
        bench.Setup();
        try
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Paired rounds: {rounds} per operation; load average at start {LoadAverage()}"));
            output.WriteLine("| Operation | ours median µs/op | swtpm median µs/op | ratio ours/swtpm (median of rounds) | 95% interval | rounds ours faster |");
            output.WriteLine("|---|---|---|---|---|---|");
            foreach (var (name, batch, ours, theirs) in Operations)
            {
                for (var i = 0; i < batch * 2; i++)
                {
                    ours(bench);
                    theirs(bench);
                }

                var oursTimes = new double[rounds];
                var theirTimes = new double[rounds];
                var ratios = new double[rounds];
                for (var round = 0; round < rounds; round++)
                {
                    if (round % 2 == 0)
                    {
                        oursTimes[round] = Time(bench, ours, batch);
                        theirTimes[round] = Time(bench, theirs, batch);
                    }
                    else
                    {
                        theirTimes[round] = Time(bench, theirs, batch);
                        oursTimes[round] = Time(bench, ours, batch);
                    }

                    ratios[round] = oursTimes[round] / theirTimes[round];
                }

                var (low, high) = MedianInterval(ratios);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {Median(oursTimes):F1} | {Median(theirTimes):F1} | {Median(ratios):F3} | {low:F3}–{high:F3} | {ratios.Count(r => r < 1)}/{rounds} |"));
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Load average at end {LoadAverage()}"));
        }
        finally
        {
            bench.Cleanup();
        }
    }

    private static double Time(ServerVsSwtpmBenchmarks bench, Action<ServerVsSwtpmBenchmarks> operation, int batch)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < batch; i++)
        {
            operation(bench);
        }

        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / batch;
    }

    internal static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>
    /// The order-statistic confidence interval for a median: with n samples, the k-th smallest and
    /// k-th largest bound the median with probability ≥ 95% where k comes from the binomial(n, ½)
    /// tails (normal approximation, k = ⌊(n − 1.96·√n) / 2⌋).
    /// </summary>
    internal static (double Low, double High) MedianInterval(double[] values)
    {
        var sorted = values.Order().ToArray();
        var n = sorted.Length;
        var k = Math.Max(0, (int)Math.Floor((n - (1.96 * Math.Sqrt(n))) / 2));
        return (sorted[k], sorted[n - 1 - k]);
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
