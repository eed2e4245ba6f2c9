using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// The per-command cost of the engine's state file, clear against AES-256-GCM encrypted, paired and
/// interleaved like <see cref="ServerVsSwtpmPaired"/> (robust on a loaded machine): each round times
/// a batch on each engine back to back, alternating which goes first; the statistic is the median of
/// the per-round ratios encrypted/clear with a distribution-free 95% interval. TPM2_NV_Increment
/// writes the state file (temporary file 0600, fsync, rename) before it answers, as <c>tpm serve</c>
/// does; TPM2_PCR_Extend writes nothing. An engine without a state folder gives the no-disk floor.
/// Run: dotnet run -c Release --project benchmarks/TrustStack.Benchmarks -- state-file-cost [rounds].
/// </summary>
internal static class StateFileCost
{
    private const uint Counter = 0x0150_0100;

    public static void Run(TextWriter output, int rounds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 6);
        var root = Directory.CreateTempSubdirectory("truststack-state-cost-");
        try
        {
            // Declared inside the try: disposed before the folder is deleted (a disposing engine saves, recreating it).
            using var key = TpmStateKey.Generate();
            using var clear = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, StateDirectory = Path.Combine(root.FullName, "clear") });
            using var encrypted = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, StateDirectory = Path.Combine(root.FullName, "encrypted"), StateEncryptionKey = key });
            using var memory = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
            var (c, e, m) = (new Tpm2(clear), new Tpm2(encrypted), new Tpm2(memory));
            foreach (var tpm in new[] { c, e, m })
            {
                tpm.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(Counter, TpmAlgId.Sha256, TpmaNv.OwnerRead | TpmaNv.OwnerWrite | TpmaNv.TypeCounter, [], 8), []);
            }

            var digest = SHA256.HashData("cost"u8);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Paired rounds: {rounds}; state files under {root.FullName}; load average at start {ServerVsSwtpmPaired.LoadAverage()}"));
            output.WriteLine("| Command | in memory µs/op | clear file µs/op | encrypted file µs/op | encrypted/clear (median of rounds) | 95% interval |");
            output.WriteLine("|---|---|---|---|---|---|");
            Row(output, "NV_Increment", 20, rounds, t => t.NvIncrement(TpmRh.Owner, Counter), m, c, e);
            Row(output, "PCR_Extend", 400, rounds, t => t.PcrExtend(16, TpmAlgId.Sha256, digest), m, c, e);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"State file: {new FileInfo(Path.Combine(root.FullName, "clear", "tpm-state.bin")).Length} octets clear, {new FileInfo(Path.Combine(root.FullName, "encrypted", "tpm-state.bin")).Length} encrypted; load average at end {ServerVsSwtpmPaired.LoadAverage()}"));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private static void Row(TextWriter output, string name, int batch, int rounds, Action<Tpm2> operation, Tpm2 memory, Tpm2 clear, Tpm2 encrypted)
    {
        for (var i = 0; i < batch; i++)
        {
            operation(memory);
            operation(clear);
            operation(encrypted);
        }

        var (m, c, e, ratios) = (new double[rounds], new double[rounds], new double[rounds], new double[rounds]);
        for (var round = 0; round < rounds; round++)
        {
            m[round] = Time(memory, operation, batch);
            if (round % 2 == 0)
            {
                c[round] = Time(clear, operation, batch);
                e[round] = Time(encrypted, operation, batch);
            }
            else
            {
                e[round] = Time(encrypted, operation, batch);
                c[round] = Time(clear, operation, batch);
            }

            ratios[round] = e[round] / c[round];
        }

        var (low, high) = ServerVsSwtpmPaired.MedianInterval(ratios);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {ServerVsSwtpmPaired.Median(m):F1} | {ServerVsSwtpmPaired.Median(c):F1} | {ServerVsSwtpmPaired.Median(e):F1} | {ServerVsSwtpmPaired.Median(ratios):F3} | {low:F3}–{high:F3} |"));
    }

    private static double Time(Tpm2 tpm, Action<Tpm2> operation, int batch)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < batch; i++)
        {
            operation(tpm);
        }

        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / batch;
    }
}
