using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.Tests.Migration;

/// <summary>
/// One host of a migration test: its own hardware TPM (seeded engine), measured virtualization
/// layer and trusted junction point, and a vTPM manager over a state folder that can "crash"
/// (be disposed and reloaded from the folder) while the hardware and the platform log survive.
/// </summary>
internal sealed class MigrationHost : IDisposable
{
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly SoftwareTpm _hardware;
    private readonly ulong _seed;

    public MigrationHost(string name, ulong seed, PlatformBootProfile? profile = null, VTpmMigrationDestinationOptions? destinationOptions = null)
    {
        Name = name;
        DestinationOptions = destinationOptions;
        _seed = seed;
        Directory = System.IO.Directory.CreateTempSubdirectory($"truststack-migration-{name}-").FullName;
        _hardware = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = seed }, timeProvider: new FixedTimeProvider(Epoch));
        Hardware = new Tpm2(_hardware);
        Platform = new PlatformMeasurement(Hardware);
        Platform.MeasureBoot(profile ?? TvpQtDemo.PlatformProfile());
        Junction = new TrustedJunctionPoint(Platform);
        Random = DeterministicRandomSource.FromSeed(seed + 500);
        Load();
    }

    public string Name { get; }

    public string Directory { get; }

    public Tpm2 Hardware { get; }

    public PlatformMeasurement Platform { get; }

    public TrustedJunctionPoint Junction { get; }

    public DeterministicRandomSource Random { get; }

    public VTpmManager Manager { get; private set; } = null!;

    public VTpmMigrationSource Source { get; private set; } = null!;

    public VTpmMigrationDestination Destination { get; private set; } = null!;

    public int Crashes { get; private set; }

    /// <summary>The clock of the manager (and so of the destination's offer bounds); it survives crashes.</summary>
    public FixedTimeProvider Clock { get; } = new(Epoch);

    /// <summary>Whether the next (re)load's source recovers its journal in its constructor.</summary>
    public bool RecoverOnStart { get; set; } = true;

    /// <summary>The destination's bounds on offers at the next (re)load; null for the defaults.</summary>
    public VTpmMigrationDestinationOptions? DestinationOptions { get; set; }

    /// <summary>The files under the state folder's <c>migrations/</c> folder.</summary>
    public IReadOnlyList<string> JournalFiles => System.IO.Directory.Exists(System.IO.Path.Combine(Directory, "migrations"))
        ? [.. System.IO.Directory.EnumerateFiles(System.IO.Path.Combine(Directory, "migrations"))]
        : [];

    public VTpmCoreOptions Options => new() { StateDirectory = Directory, Seed = _seed + 1 };

    /// <summary>The process dies and restarts: the manager and the migration endpoints reload from the state folder.</summary>
    public void Crash()
    {
        Crashes++;
        Manager.Dispose();
        Load();
    }

    public IMigrationTransport Transport() => new HostTransport(this);

    public void Dispose()
    {
        Manager.Dispose();
        Hardware.Dispose();
        _hardware.Dispose();
        Random.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    private void Load()
    {
        Manager = new VTpmManager(Options, Hardware, launchObservers: [Junction], random: Random, timeProvider: Clock);
        Destination = new VTpmMigrationDestination(Manager, options: DestinationOptions);
        Source = new VTpmMigrationSource(Manager, new VTpmMigrationSourceOptions { RetryDelay = TimeSpan.Zero, MaxAttempts = 4, RecoverOnStart = RecoverOnStart });
    }

    /// <summary>Delivers to whatever destination the host runs now (it follows crashes).</summary>
    private sealed class HostTransport(MigrationHost host) : IMigrationTransport
    {
        public string Endpoint => host.Name;

        public ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(host.Destination.Handle(request.Span));

        public void Dispose()
        {
        }
    }
}

/// <summary>What a fault-injecting transport does to one message.</summary>
internal enum MessageFault
{
    None,
    DropRequest,
    DropResponse,
    Duplicate,
    ReplayEarlier,
    Reorder,
}

/// <summary>
/// A transport that injects one fault into the first message of one kind, and turns a simulated
/// crash of the destination into a lost response after reloading the destination host.
/// </summary>
internal sealed class FaultyTransport(MigrationHost destination, MigrationMessageKind? kind = null, MessageFault fault = MessageFault.None) : IMigrationTransport
{
    private readonly List<byte[]> _sent = [];
    private byte[]? _delayed;
    private bool _done;

    public string Endpoint => destination.Name;

    public IReadOnlyList<byte[]> Sent => _sent;

    public List<string> Transcript { get; } = [];

    public ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default)
    {
        var bytes = request.ToArray();
        var message = MigrationMessage.Decode(bytes);
        if (_delayed is { } delayed)
        {
            // Reordered: the delayed message arrives after the one sent after it.
            _delayed = null;
            var response = Deliver(bytes);
            Deliver(delayed);
            return ValueTask.FromResult(response);
        }

        if (!_done && message.Kind == kind)
        {
            _done = true;
            switch (fault)
            {
                case MessageFault.DropRequest:
                    throw new IOException("dropped request");
                case MessageFault.DropResponse:
                    Deliver(bytes);
                    throw new IOException("dropped response");
                case MessageFault.Duplicate:
                    Deliver(bytes);
                    return ValueTask.FromResult(Deliver(bytes));
                case MessageFault.ReplayEarlier:
                    foreach (var earlier in _sent.ToArray())
                    {
                        Deliver(earlier);
                    }

                    break;
                case MessageFault.Reorder:
                    _delayed = bytes;
                    throw new IOException("delayed request");
            }
        }

        return ValueTask.FromResult(Deliver(bytes));
    }

    /// <summary>Delivers a message (the record keeps what went over the wire); a simulated destination crash loses the response.</summary>
    public byte[] Deliver(byte[] request)
    {
        _sent.Add(request);
        try
        {
            var response = destination.Destination.Handle(request);
            Transcript.Add($"{Describe(request)} -> {Describe(response)}");
            return response;
        }
        catch (SimulatedFault e)
        {
            Transcript.Add($"{Describe(request)} -> crash at {e.Point}");
            destination.Crash();
            throw new IOException($"destination crashed at {e.Point}", e);
        }
    }

    public static string Describe(byte[] message)
    {
        var m = MigrationMessage.Decode(message);
        return m.Kind == MigrationMessageKind.Error ? $"Error({m.ReadError().Code})" : $"{m.Kind}";
    }

    public void Dispose()
    {
    }
}
