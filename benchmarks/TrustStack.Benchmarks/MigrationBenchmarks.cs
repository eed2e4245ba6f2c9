using BenchmarkDotNet.Attributes;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Benchmarks;

/// <summary>
/// vTPM migration between two in-memory managers, each on its own (software) hardware TPM, over
/// the in-process transport: the latency of one complete migration (offer with quote and
/// certified migration key, lock, export, AES-GCM + MakeCredential wrap, ActivateCredential
/// unwrap, signed receipt, commit, activation), and the throughput of moving a batch of vTPMs
/// one after another. The size of the migration package is printed at setup.
/// </summary>
[MemoryDiagnoser]
public class MigrationBenchmarks
{
    private const int Batch = 100;
    private MigrationBenchmarkHost _a = null!;
    private MigrationBenchmarkHost _b = null!;
    private Guid _single;
    private MigrationBenchmarkHost _singleAt = null!;
    private Guid[] _batch = [];
    private MigrationBenchmarkHost _batchAt = null!;

    [GlobalSetup]
    public void Setup()
    {
        _a = new MigrationBenchmarkHost(1);
        _b = new MigrationBenchmarkHost(2);
        _single = _a.Manager.Create().VmId;
        _a.Manager.Start(_single);
        _singleAt = _a;
        _batch = [.. Enumerable.Range(0, Batch).Select(_ => _a.Manager.Start(_a.Manager.Create().VmId).VmId)];
        _batchAt = _a;

        var (image, _) = _a.Manager.LockForMigration(_single);
        _a.Manager.UnlockMigration(_single);
        Console.WriteLine($"// vTPM state image: {image.Length} octets (live, one SHA-256 bank, no objects)");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Benchmark(Description = "migrate one running vTPM (in-process)")]
    public VTpmMigrationOutcome MigrateOne()
    {
        var to = _singleAt == _a ? _b : _a;
        var result = _singleAt.Migrate(_single, to);
        _singleAt = to;
        return result;
    }

    [Benchmark(Description = "migrate 100 running vTPMs one by one (per vTPM)", OperationsPerInvoke = Batch)]
    public void MigrateBatch()
    {
        var to = _batchAt == _a ? _b : _a;
        foreach (var vm in _batch)
        {
            _batchAt.Migrate(vm, to);
        }

        _batchAt = to;
    }
}

/// <summary>An in-memory vTPM manager on its own software hardware TPM, with both migration endpoints.</summary>
internal sealed class MigrationBenchmarkHost : IDisposable
{
    private readonly SoftwareTpm _hardware;
    private readonly Tpm2 _client;
    private readonly InProcessMigrationTransport _transport;

    public MigrationBenchmarkHost(ulong seed)
    {
        _hardware = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = seed });
        _client = new Tpm2(_hardware);
        // A planned bulk move: the destination's offer bounds (10/s by default) would throttle it.
        Manager = new VTpmManager(new VTpmCoreOptions { IncomingMigrations = new() { OffersPerSecond = 1000, OfferBurst = 1000 } }, _client);
        Destination = new VTpmMigrationDestination(Manager);
        Source = new VTpmMigrationSource(Manager, new VTpmMigrationSourceOptions { RetryDelay = TimeSpan.Zero });
        _transport = new InProcessMigrationTransport(Destination);
        AkName = Destination.AttestationKeyName;
    }

    public VTpmManager Manager { get; }

    public VTpmMigrationDestination Destination { get; }

    public VTpmMigrationSource Source { get; }

    public byte[] AkName { get; }

    public VTpmMigrationOutcome Migrate(Guid vm, MigrationBenchmarkHost to)
    {
        var policy = MigrationTrustPolicy.SameLayerAs(_client, PcrSelectionList.Parse(Manager.Options.VirtualizationLayerPcrs), [to.AkName]);
        var result = Source.MigrateAsync(vm, to._transport, policy).GetAwaiter().GetResult();
        return result.Outcome == VTpmMigrationOutcome.Completed ? result.Outcome : throw new InvalidOperationException(result.ToString());
    }

    public void Dispose()
    {
        Manager.Dispose();
        _client.Dispose();
        _hardware.Dispose();
    }
}

/// <summary>
/// Throughput of migrating many running vTPMs between two managers, one after another:
/// <c>dotnet run -c Release --project benchmarks/TrustStack.Benchmarks -- migration-throughput [count]</c>.
/// </summary>
public static class MigrationThroughput
{
    /// <summary>Creates <paramref name="count"/> running vTPMs on one manager, migrates them all to the other, and prints the rate.</summary>
    /// <param name="output">Where to print.</param>
    /// <param name="count">How many vTPMs.</param>
    public static void Run(TextWriter output, int count = 1_000)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var a = new MigrationBenchmarkHost(11);
        using var b = new MigrationBenchmarkHost(12);
        var vms = Enumerable.Range(0, count).Select(_ => a.Manager.Start(a.Manager.Create().VmId).VmId).ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var vm in vms)
        {
            a.Migrate(vm, b);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        output.WriteLine($"migrated {count} running vTPMs in {seconds:F1} s: {count / seconds:F1} vTPMs/s, {seconds * 1000 / count:F1} ms each (source now {a.Manager.Count}, destination {b.Manager.Count})");
    }
}
