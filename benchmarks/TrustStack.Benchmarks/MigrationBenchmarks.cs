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
    private Host _a = null!;
    private Host _b = null!;
    private Guid _single;
    private Host _singleAt = null!;
    private Guid[] _batch = [];
    private Host _batchAt = null!;

    [GlobalSetup]
    public void Setup()
    {
        _a = new Host(1);
        _b = new Host(2);
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

    private sealed class Host : IDisposable
    {
        private readonly SoftwareTpm _hardware;
        private readonly Tpm2 _client;
        private readonly InProcessMigrationTransport _transport;

        public Host(ulong seed)
        {
            _hardware = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = seed });
            _client = new Tpm2(_hardware);
            Manager = new VTpmManager(new VTpmCoreOptions(), _client);
            Destination = new VTpmMigrationDestination(Manager);
            Source = new VTpmMigrationSource(Manager, new VTpmMigrationSourceOptions { RetryDelay = TimeSpan.Zero });
            _transport = new InProcessMigrationTransport(Destination);
            AkName = Destination.AttestationKeyName;
        }

        public VTpmManager Manager { get; }

        public VTpmMigrationDestination Destination { get; }

        public VTpmMigrationSource Source { get; }

        public byte[] AkName { get; }

        public VTpmMigrationOutcome Migrate(Guid vm, Host to)
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
}
