using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.Tests;

/// <summary>A temporary state folder and an embedded "hardware" TPM that outlive managers, as a host does.</summary>
internal sealed class TestPlatform : IDisposable
{
    public TestPlatform()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("truststack-vtpm-").FullName;
        Hardware = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = 7 });
        Client = new Tpm2(Hardware);
    }

    public string Directory { get; }

    public SoftwareTpm Hardware { get; }

    public Tpm2 Client { get; }

    public VTpmCoreOptions Options() => new() { StateDirectory = Directory };

    public VTpmManager Manager(IEnumerable<IVTpmLaunchObserver>? observers = null, ITpmSecretStore? store = null) =>
        new(Options(), Client, store, observers);

    /// <summary>Changes the measured virtualization layer: extends hardware PCR <paramref name="pcr"/>.</summary>
    public void ChangeLayer(uint pcr) => Client.PcrExtend(pcr, TpmAlgId.Sha256, new byte[32]);

    public void Dispose()
    {
        Hardware.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}

/// <summary>Records launches and what it saw of the instance at that moment.</summary>
internal sealed class RecordingObserver(Func<VTpmLaunch, string?>? probe = null) : IVTpmLaunchObserver
{
    public List<VTpmLaunch> Launches { get; } = [];

    public List<string?> Probes { get; } = [];

    public void OnLaunch(VTpmLaunch launch)
    {
        Launches.Add(launch);
        Probes.Add(probe?.Invoke(launch));
    }
}

internal sealed class VetoObserver : IVTpmLaunchObserver
{
    public void OnLaunch(VTpmLaunch launch) => throw new InvalidOperationException("vTPM code digest is not in the reference values");
}

/// <summary>A secret store that counts what it is given (and delegates to the default).</summary>
internal sealed class CountingSecretStore : ITpmSecretStore
{
    private int _count;

    public int Count => _count;

    public List<string> Purposes { get; } = [];

    public bool AllowsDerivedKeyCaching => false;

    public ITpmSecret Store(ReadOnlySpan<byte> value, string purpose)
    {
        Interlocked.Increment(ref _count);
        lock (Purposes)
        {
            Purposes.Add(purpose);
        }

        return ManagedSecretStore.Instance.Store(value, purpose);
    }
}
