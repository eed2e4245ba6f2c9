using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Benchmarks;

/// <summary>
/// vTPM manager costs: creating and starting a vTPM (engine manufacture, vEK derivation, launch,
/// AES-GCM state image), and command latency through the manager's in-process channel versus the
/// plain engine. The density figures (memory at 1,000 and 10,000 idle vTPMs) come from
/// <see cref="VTpmDensity"/>: <c>dotnet run -c Release --project benchmarks/TrustStack.Benchmarks -- vtpm-density</c>.
/// </summary>
[MemoryDiagnoser]
public class VTpmBenchmarks
{
    private readonly byte[] _digest = SHA256.HashData("benchmark"u8);
    private readonly byte[] _nonce = new byte[32];
    private VTpmManager _manager = null!;
    private Tpm2 _viaManager = null!;
    private SoftwareTpm _plainEngine = null!;
    private Tpm2 _plain = null!;
    private uint _akViaManager;
    private uint _akPlain;
    private PcrSelectionList _selection = null!;

    [GlobalSetup]
    public void Setup()
    {
        _manager = new VTpmManager(new VTpmCoreOptions());
        var vm = _manager.Create().VmId;
        _manager.Start(vm);
        _viaManager = new Tpm2(_manager.OpenChannel(vm));
        _plainEngine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, PcrBanks = [TpmAlgId.Sha256] });
        _plain = new Tpm2(_plainEngine);
        _akViaManager = _viaManager.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256()).Handle;
        _akPlain = _plain.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256()).Handle;
        _selection = PcrSelectionList.Create(TpmAlgId.Sha256, 0, 1, 2, 3, 4, 5, 6, 7);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _manager.Dispose();
        _plainEngine.Dispose();
    }

    [Benchmark(Description = "vTPM create+start+destroy (in-memory manager)")]
    public void CreateStartDestroy()
    {
        var vm = _manager.Create().VmId;
        _manager.Start(vm);
        _manager.Destroy(vm);
    }

    [Benchmark(Description = "PCR_Extend via vTPM channel")]
    public void PcrExtendVTpm() => _viaManager.PcrExtend(16, TpmAlgId.Sha256, _digest);

    [Benchmark(Description = "PCR_Extend plain engine", Baseline = true)]
    public void PcrExtendPlain() => _plain.PcrExtend(16, TpmAlgId.Sha256, _digest);

    [Benchmark(Description = "Quote ECC P-256 via vTPM channel")]
    public TpmtSignature QuoteVTpm() => _viaManager.Quote(_akViaManager, _nonce, _selection).Signature;

    [Benchmark(Description = "Quote ECC P-256 plain engine")]
    public TpmtSignature QuotePlain() => _plain.Quote(_akPlain, _nonce, _selection).Signature;
}

/// <summary>
/// Console measurement of vTPM density: managed heap (GC.GetTotalMemory after a full collection)
/// and process working set after creating, and after starting, 1,000 and 10,000 vTPMs in one
/// in-memory manager (idle: no server, no thread). swtpm needs one ~6.5 MB process per vTPM.
/// </summary>
public static class VTpmDensity
{
    /// <summary>Runs the measurement and prints a table.</summary>
    /// <param name="output">Where to print.</param>
    /// <param name="counts">Instance counts; default 1,000 and 10,000.</param>
    public static void Run(TextWriter output, params int[] counts)
    {
        ArgumentNullException.ThrowIfNull(output);
        counts = counts.Length == 0 ? [1_000, 10_000] : counts;
        output.WriteLine("| vTPMs | state | time s (this step) | per second | managed heap MiB | per vTPM KiB | working set growth MiB | per vTPM KiB (WS) | process working set MiB |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var count in counts)
        {
            var heap0 = GC.GetTotalMemory(forceFullCollection: true);
            var ws0 = WorkingSet();
            using var manager = new VTpmManager(new VTpmCoreOptions());
            var clock = Stopwatch.StartNew();
            var ids = new List<Guid>(count);
            for (var i = 0; i < count; i++)
            {
                ids.Add(manager.Create().VmId);
            }

            var createTime = clock.Elapsed.TotalSeconds;
            Row(output, count, "created (stopped)", createTime, heap0, ws0);
            clock.Restart();
            foreach (var id in ids)
            {
                manager.Start(id);
            }

            Row(output, count, "started (idle)", clock.Elapsed.TotalSeconds, heap0, ws0);
            GC.KeepAlive(manager);
        }

        SwtpmResidentSet(output, 10);
    }

    /// <summary>
    /// The comparison point, measured in the same run: <paramref name="count"/> idle swtpm
    /// processes (one per vTPM, as a swtpm-based host runs them), each after TPM2_Startup through
    /// its socket, and their VmRSS from /proc. Skipped with a note when swtpm is not installed.
    /// </summary>
    private static void SwtpmResidentSet(TextWriter output, int count)
    {
        var processes = new List<(Process Process, string State)>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var state = Directory.CreateTempSubdirectory("truststack-density-swtpm-").FullName;
                var port = ServerVsSwtpmBenchmarks.FreePortPair();
                Process process;
                try
                {
                    process = Process.Start(new ProcessStartInfo("swtpm", [
                        "socket", "--tpm2", "--server", $"type=tcp,port={port},bindaddr=127.0.0.1",
                        "--ctrl", $"type=tcp,port={port + 1},bindaddr=127.0.0.1", "--tpmstate", $"dir={state}",
                        "--flags", "not-need-init,startup-clear",
                    ]) { UseShellExecute = false, RedirectStandardError = true }) ?? throw new InvalidOperationException("swtpm did not start");
                }
                catch (System.ComponentModel.Win32Exception)
                {
                    output.WriteLine("swtpm is not installed: no swtpm comparison row.");
                    Directory.Delete(state, recursive: true);
                    return;
                }

                processes.Add((process, state));
                // A started TPM, as an idle vTPM is: one command makes libtpms allocate its state.
                using var transport = ServerVsSwtpmBenchmarks.Connect(port);
                new Tpm2(transport).GetRandom(8);
            }

            var rss = processes.Select(p => ResidentKiB(p.Process.Id)).ToList();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| swtpm × {count} | started (idle), one process each | — | — | — | — | — | {rss.Average():F0} (VmRSS, min {rss.Min()}, max {rss.Max()}) | — |"));
        }
        finally
        {
            foreach (var (process, state) in processes)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                process.Dispose();
                Directory.Delete(state, recursive: true);
            }
        }
    }

    private static long ResidentKiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"no VmRSS for process {pid}");
    }

    private static void Row(TextWriter output, int count, string state, double seconds, long heap0, long ws0)
    {
        var heap = GC.GetTotalMemory(forceFullCollection: true) - heap0;
        var ws = WorkingSet() - ws0;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {count:N0} | {state} | {seconds:F2} | {count / seconds:N0} | {heap / 1048576.0:F1} | {heap / 1024.0 / count:F1} | {ws / 1048576.0:F1} | {ws / 1024.0 / count:F1} | {WorkingSet() / 1048576.0:F1} |"));
    }

    private static long WorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }
}

/// <summary>
/// The cost of durability per vTPM command: NV_Increment (a monotonic counter, a command that
/// changes persistent state) and PCR_Extend (one that does not) through a manager with a state
/// folder on disk, against an in-memory manager and against a plain engine with its own state
/// folder (what <c>truststack tpm serve</c> pays: a state write after every NV-changing command).
/// Run with <c>--inProcess --job short --filter *VTpmDurable*</c>.
/// </summary>
[MemoryDiagnoser]
public class VTpmDurableCommandBenchmarks
{
    private const uint Counter = 0x0150_0042;
    private readonly byte[] _digest = SHA256.HashData("benchmark"u8);
    private string _folder = null!;
    private SoftwareTpm _hardware = null!;
    private Tpm2 _hardwareClient = null!;
    private VTpmManager _onDisk = null!;
    private VTpmManager _inMemory = null!;
    private SoftwareTpm _plainOnDisk = null!;
    private Tpm2 _viaDisk = null!;
    private Tpm2 _viaMemory = null!;
    private Tpm2 _plain = null!;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("truststack-bench-durable-").FullName;
        _hardware = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = 3 });
        _hardwareClient = new Tpm2(_hardware);
        _onDisk = new VTpmManager(new VTpmCoreOptions { StateDirectory = Path.Combine(_folder, "vtpm") }, _hardwareClient);
        _inMemory = new VTpmManager(new VTpmCoreOptions());
        _plainOnDisk = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, StateDirectory = Path.Combine(_folder, "plain") });
        _viaDisk = Open(_onDisk);
        _viaMemory = Open(_inMemory);
        _plain = new Tpm2(_plainOnDisk);
        DefineCounter(_plain);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _onDisk.Dispose();
        _inMemory.Dispose();
        _plainOnDisk.Dispose();
        _hardwareClient.Dispose();
        _hardware.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Description = "NV_Increment via vTPM channel (state folder)")]
    public void NvIncrementOnDisk() => _viaDisk.NvIncrement(TpmRh.Owner, Counter);

    [Benchmark(Description = "NV_Increment via vTPM channel (in-memory manager)")]
    public void NvIncrementInMemory() => _viaMemory.NvIncrement(TpmRh.Owner, Counter);

    [Benchmark(Description = "NV_Increment plain engine with state folder (tpm serve)", Baseline = true)]
    public void NvIncrementPlainOnDisk() => _plain.NvIncrement(TpmRh.Owner, Counter);

    [Benchmark(Description = "PCR_Extend via vTPM channel (state folder)")]
    public void PcrExtendOnDisk() => _viaDisk.PcrExtend(16, TpmAlgId.Sha256, _digest);

    private static Tpm2 Open(VTpmManager manager)
    {
        var vm = manager.Create().VmId;
        manager.Start(vm);
        var client = new Tpm2(manager.OpenChannel(vm));
        DefineCounter(client);
        return client;
    }

    private static void DefineCounter(Tpm2 client) =>
        client.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(Counter, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead | TpmaNv.NoDA | TpmaNv.TypeCounter, [], 8), []);
}

/// <summary>
/// <see cref="VTpmDurableCommandBenchmarks"/> paired and interleaved, for a loaded machine whose
/// disk latency drifts: every round times a batch of each operation back to back (rotating which
/// goes first); the table gives per-operation medians over the rounds and the median of the
/// per-round ratios of the vTPM's NV_Increment to the plain engine's (what <c>tpm serve</c> pays).
/// Run: dotnet run -c Release --project benchmarks/TrustStack.Benchmarks -- vtpm-durable-paired [rounds].
/// </summary>
internal static class VTpmDurablePaired
{
    public static void Run(TextWriter output, int rounds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 3);
        var bench = new VTpmDurableCommandBenchmarks();
        bench.Setup();
        try
        {
            (string Name, int Batch, Action Run)[] operations =
            [
                ("NV_Increment via vTPM channel (state folder)", 50, bench.NvIncrementOnDisk),
                ("NV_Increment plain engine with state folder (tpm serve)", 50, bench.NvIncrementPlainOnDisk),
                ("NV_Increment via vTPM channel (in-memory manager)", 2000, bench.NvIncrementInMemory),
                ("PCR_Extend via vTPM channel (state folder)", 2000, bench.PcrExtendOnDisk),
            ];
            foreach (var (_, batch, run) in operations)
            {
                for (var i = 0; i < batch; i++)
                {
                    run();
                }
            }

            var times = operations.Select(_ => new double[rounds]).ToArray();
            for (var round = 0; round < rounds; round++)
            {
                for (var k = 0; k < operations.Length; k++)
                {
                    var j = (k + round) % operations.Length;
                    var clock = Stopwatch.StartNew();
                    for (var i = 0; i < operations[j].Batch; i++)
                    {
                        operations[j].Run();
                    }

                    times[j][round] = clock.Elapsed.TotalMicroseconds / operations[j].Batch;
                }
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Paired rounds: {rounds}; load average {File.ReadAllText("/proc/loadavg").Trim()}"));
            output.WriteLine("| Operation | median µs/op | min µs/op | max µs/op |");
            output.WriteLine("|---|---|---|---|");
            for (var j = 0; j < operations.Length; j++)
            {
                var sorted = times[j].Order().ToArray();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {operations[j].Name} | {sorted[rounds / 2]:F1} | {sorted[0]:F1} | {sorted[^1]:F1} |"));
            }

            var ratios = Enumerable.Range(0, rounds).Select(r => times[0][r] / times[1][r]).Order().ToArray();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"NV_Increment vTPM (state folder) / plain engine (state folder): median of round ratios {ratios[rounds / 2]:F2} (min {ratios[0]:F2}, max {ratios[^1]:F2})"));
        }
        finally
        {
            bench.Cleanup();
        }
    }
}
