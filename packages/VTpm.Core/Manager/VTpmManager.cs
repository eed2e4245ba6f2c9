using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// The vTPM manager (book ch. 1): creates, starts, suspends, resumes, stops and destroys vTPM
/// instances, each a full <see cref="SoftwareTpm"/> (its own seeds, PCRs, NV, persistent objects
/// and clock) bound to one VM UUID. State at rest is AES-256-GCM encrypted (the VM UUID is the
/// associated data) under a state key that the hardware TPM seals to the PCRs of the measured
/// virtualization layer; a changed layer cannot open any vTPM
/// (<see cref="VirtualizationLayerChangedException"/>). Every start calls each
/// <see cref="IVTpmLaunchObserver"/> before the vTPM serves its guest. Idle instances are cheap:
/// a stopped instance is one small record (no engine, no thread, no socket); an engine lives in
/// memory only while started, and a socket server exists only while it is served.
/// Every command that changes a vTPM's persistent state (NV, hierarchy auth, persistent objects)
/// writes its encrypted state through to its file before the response is returned
/// (<see cref="SoftwareTpm.PersistentStateChanged"/>), so an acknowledged write survives a crash of
/// the process (kill -9 included); other commands (PCR_Extend, Quote) write nothing. A manager with
/// a state folder owns it (<see cref="StateFolderLock"/>) until disposed.
/// All members are thread-safe.
/// </summary>
public sealed partial class VTpmManager : IAsyncDisposable, IDisposable
{
    /// <summary>The subfolder of <see cref="VTpmCoreOptions.StateDirectory"/> holding the vTPM files.</summary>
    public const string InstancesFolder = VTpmInstanceStore.InstancesFolder;

    private static readonly Lazy<byte[]> s_codeDigest = new(ComputeCodeDigest);

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Slot> _slots = [];
    private readonly List<Guid> _order = [];
    private readonly VTpmCoreOptions _options;
    private readonly Tpm2? _hardware;
    private readonly ITpmSecretStore _secretStore;
    private readonly IVTpmLaunchObserver[] _observers;
    private readonly IRandomSource _random;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly VTpmInstanceStore _store;
    private readonly List<Task> _stoppingServers = [];
    private bool _disposed;

    /// <summary>Creates a manager and loads the index of its state folder (no vTPM is opened yet).</summary>
    /// <param name="options">Options; validated here.</param>
    /// <param name="hardwareTpm">The platform's hardware TPM, which seals the state key; required when <see cref="VTpmCoreOptions.StateDirectory"/> is set.</param>
    /// <param name="secretStore">Where every vTPM engine keeps its secrets (the MMU-vTPM store plugs in here); default <see cref="ManagedSecretStore"/>.</param>
    /// <param name="launchObservers">Called at every start, before the vTPM serves (the trusted junction point).</param>
    /// <param name="random">Randomness for the state key and AEAD nonces; default the OS CSPRNG.</param>
    /// <param name="timeProvider">Clock of the vTPM engines; default the system clock.</param>
    /// <param name="loggerFactory">Loggers for the manager and its servers.</param>
    /// <exception cref="ArgumentException">The options are invalid, or a state folder is set without a hardware TPM.</exception>
    /// <exception cref="StateFolderLockedException">Another manager (in this or another process) owns the state folder; the message names its pid.</exception>
    /// <exception cref="VTpmStateException">The VM index cannot be read.</exception>
    public VTpmManager(
        VTpmCoreOptions options,
        Tpm2? hardwareTpm = null,
        ITpmSecretStore? secretStore = null,
        IEnumerable<IVTpmLaunchObserver>? launchObservers = null,
        IRandomSource? random = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.StateDirectory is not null && hardwareTpm is null)
        {
            throw new ArgumentException("A vTPM manager with a state folder needs the hardware TPM to seal its state key.", nameof(hardwareTpm));
        }

        _options = options;
        _hardware = hardwareTpm;
        _secretStore = secretStore ?? ManagedSecretStore.Instance;
        _observers = [.. launchObservers ?? []];
        _random = random ?? SystemRandomSource.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<VTpmManager>();
        _store = new VTpmInstanceStore(options.StateDirectory, hardwareTpm, PcrSelectionList.Parse(options.VirtualizationLayerPcrs), _random);
        try
        {
            foreach (var id in _store.LoadIndex())
            {
                _slots.Add(id, new Slot(id));
                _order.Add(id);
            }

            LoadMigrationMarkers();
        }
        catch
        {
            _store.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The vTPM code identity measured at every launch: SHA-256 of the engine assembly's file
    /// (TrustStack.Tpm.Hardware.dll, the code that executes the guest's commands), which is stable
    /// for one build and changes with any change of the engine. When the assembly has no file
    /// (single-file or in-memory loading), SHA-256 of its module version id (MVID) instead.
    /// </summary>
    public static ReadOnlySpan<byte> CodeDigest => s_codeDigest.Value;

    /// <summary>The manager's options.</summary>
    public VTpmCoreOptions Options => _options;

    /// <summary>Gives each newly manufactured vTPM its credentials (a vEK certificate chain); none by default.</summary>
    public IVTpmCredentialProvider CredentialProvider { get; init; } = NoVTpmCredentials.Instance;

    /// <summary>Number of instances.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _slots.Count;
            }
        }
    }

    /// <summary>Creates a stopped vTPM for a VM. Its engine is manufactured at its first start.</summary>
    /// <param name="vmId">The VM's UUID; null for a new random one.</param>
    /// <returns>The new instance.</returns>
    /// <exception cref="InvalidOperationException">The VM already has a vTPM.</exception>
    /// <exception cref="VirtualizationLayerChangedException">The virtualization layer changed: the state key does not unseal.</exception>
    public VTpmInstance Create(Guid? vmId = null)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var id = vmId ?? NewGuid();
            if (_slots.ContainsKey(id))
            {
                throw new InvalidOperationException($"VM {id} already has a vTPM.");
            }

            if (_store.IsPersistent)
            {
                // Never create beside state that cannot be opened: prove the key first.
                _ = _store.StateKey();
                _store.AppendIndex(id);
            }

            var slot = new Slot(id);
            _slots.Add(id, slot);
            _order.Add(id);
            _logger.LogInformation("Created the vTPM of VM {VmId}", id);
            return Info(slot);
        }
    }

    /// <summary>
    /// Starts a stopped vTPM: opens (decrypts) or manufactures its engine, derives its vEK
    /// (TpmTemplates.EkEccP256 in the endorsement hierarchy, the key a guest's <c>tpm2_createek -G ecc</c> gets),
    /// and calls every launch observer with the VM id, <see cref="CodeDigest"/>, and the vEK's
    /// public digest and Name. Only then does the instance run.
    /// </summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>The running instance.</returns>
    /// <exception cref="KeyNotFoundException">No such vTPM.</exception>
    /// <exception cref="InvalidOperationException">The vTPM is not stopped.</exception>
    /// <exception cref="VTpmLaunchRejectedException">An observer rejected the launch; the vTPM stays stopped.</exception>
    /// <exception cref="VTpmStateException">Its state file is tampered or unreadable.</exception>
    /// <exception cref="VirtualizationLayerChangedException">The virtualization layer changed.</exception>
    public VTpmInstance Start(Guid vmId)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var slot = Get(vmId);
            RequireState(slot, VTpmInstanceState.Stopped, "start");
            var engine = OpenEngine(slot);
            try
            {
                AnnounceLaunch(slot, engine, "Launch");
            }
            catch
            {
                engine.Dispose();
                throw;
            }

            slot.Engine = engine;
            SetState(slot, VTpmInstanceState.Running);
            _logger.LogInformation("Started the vTPM of VM {VmId}", vmId);
            return Info(slot);
        }
    }

    /// <summary>Suspends a running vTPM: it stops serving (its server closes), its engine stays frozen in memory with its volatile state, and its state at rest is written.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>The suspended instance (its port is kept for <see cref="Resume"/>).</returns>
    /// <exception cref="KeyNotFoundException">No such vTPM.</exception>
    /// <exception cref="InvalidOperationException">The vTPM is not running.</exception>
    public VTpmInstance Suspend(Guid vmId)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var slot = Get(vmId);
            RequireState(slot, VTpmInstanceState.Running, "suspend");
            StopServer(slot);
            SetState(slot, VTpmInstanceState.Suspended);
            Persist(slot);
            return Info(slot);
        }
    }

    /// <summary>Resumes a suspended vTPM exactly where it was (PCRs, sessions, loaded objects) and serves it again on its former port, if it had one. Not a new launch: observers are not called.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>The running instance.</returns>
    /// <exception cref="KeyNotFoundException">No such vTPM.</exception>
    /// <exception cref="InvalidOperationException">The vTPM is not suspended.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">Its former port is taken.</exception>
    public VTpmInstance Resume(Guid vmId)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var slot = Get(vmId);
            RequireState(slot, VTpmInstanceState.Suspended, "resume");
            slot.State = VTpmInstanceState.Running;
            if (slot.Port is { } port)
            {
                StartServer(slot, port);
            }

            return Info(slot);
        }
    }

    /// <summary>Stops a running or suspended vTPM: closes its server, powers the engine off (volatile state is lost, as at a VM power-off), writes its state at rest and frees the engine.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>The stopped instance.</returns>
    /// <exception cref="KeyNotFoundException">No such vTPM.</exception>
    /// <exception cref="InvalidOperationException">The vTPM is already stopped.</exception>
    public VTpmInstance Stop(Guid vmId)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var slot = Get(vmId);
            if (slot.State == VTpmInstanceState.Stopped)
            {
                throw new InvalidOperationException($"The vTPM of VM {vmId} is already stopped.");
            }

            RequireNotMigrating(slot, "stop");

            StopServer(slot);
            slot.Port = null;
            SetState(slot, VTpmInstanceState.Stopped);
            slot.Engine!.PowerOff();
            Persist(slot);
            slot.Engine.Dispose();
            slot.Engine = null;
            _logger.LogInformation("Stopped the vTPM of VM {VmId}", vmId);
            return Info(slot);
        }
    }

    /// <summary>Destroys a vTPM: closes its server, zeroes its engine's secrets, deletes its state at rest and removes it from the index.</summary>
    /// <param name="vmId">The VM.</param>
    /// <exception cref="KeyNotFoundException">No such vTPM.</exception>
    public void Destroy(Guid vmId)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var slot = Get(vmId);
            StopServer(slot);
            lock (slot.Gate)
            {
                slot.Removed = true;
                slot.State = VTpmInstanceState.Stopped;
            }

            // Powered off first: no command (and so no write-through) can follow the deletion.
            slot.Engine?.PowerOff();
            slot.Engine?.Dispose();
            slot.Engine = null;
            _store.Delete(vmId);
            _slots.Remove(vmId);
            _order.Remove(vmId);
            _store.RewriteIndex(_order);

            _logger.LogInformation("Destroyed the vTPM of VM {VmId}", vmId);
        }
    }

    /// <summary>Every instance, in creation order.</summary>
    /// <returns>Snapshots of the instances.</returns>
    public IReadOnlyList<VTpmInstance> List()
    {
        lock (_lock)
        {
            return [.. _order.Select(id => Info(_slots[id]))];
        }
    }

    /// <summary>One instance.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>Its snapshot.</returns>
    /// <exception cref="KeyNotFoundException">No such vTPM.</exception>
    public VTpmInstance Inspect(Guid vmId)
    {
        lock (_lock)
        {
            return Info(Get(vmId));
        }
    }

    /// <summary>Serves a running vTPM over the swtpm socket protocol (command port <paramref name="port"/>, control port one above) on 127.0.0.1.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="port">The command port; 0 picks a free pair.</param>
    /// <returns>The instance with its port.</returns>
    /// <exception cref="KeyNotFoundException">No such vTPM.</exception>
    /// <exception cref="InvalidOperationException">The vTPM is not running, or already served.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">The port is taken.</exception>
    public VTpmInstance Serve(Guid vmId, int port = 0)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var slot = Get(vmId);
            RequireState(slot, VTpmInstanceState.Running, "serve");
            if (slot.Server is not null)
            {
                throw new InvalidOperationException($"The vTPM of VM {vmId} is already served on port {slot.Port}.");
            }

            StartServer(slot, port);
            return Info(slot);
        }
    }

    /// <summary>An in-process channel to a vTPM (what a VMM front end uses): commands are executed while the vTPM runs; when it is suspended or stopped they fail with <see cref="InvalidOperationException"/>.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>A transport; disposing it does not affect the vTPM.</returns>
    /// <exception cref="KeyNotFoundException">No such vTPM.</exception>
    public ITpmTransport OpenChannel(Guid vmId)
    {
        lock (_lock)
        {
            return new Channel(this, Get(vmId));
        }
    }

    /// <summary>Writes the state at rest of every started (running or suspended) vTPM.</summary>
    public void SaveAll()
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            foreach (var slot in _slots.Values.Where(s => s.Engine is not null))
            {
                Persist(slot);
            }
        }
    }

    /// <summary>Closes every server, saves every started vTPM, frees every engine and zeroes the state key.</summary>
    /// <returns>A task that completes when the servers have closed.</returns>
    public async ValueTask DisposeAsync()
    {
        Task[] pending;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var slot in _slots.Values)
            {
                StopServer(slot);
                lock (slot.Gate)
                {
                    // Waits for an in-process command that is running; later ones see the disposed manager.
                }

                if (slot.Engine is { } engine)
                {
                    engine.PowerOff();
                    Persist(slot);
                    engine.Dispose();
                    slot.Engine = null;
                }
            }

            pending = [.. _stoppingServers];
        }

        await Task.WhenAll(pending).ConfigureAwait(false);

        // Every engine is disposed: nothing writes through any more, so the key can go.
        _store.Dispose();
    }

    /// <summary>As <see cref="DisposeAsync"/>, blocking.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static byte[] ComputeCodeDigest()
    {
        var assembly = typeof(SoftwareTpm).Assembly;
        var location = assembly.Location;
        return !string.IsNullOrEmpty(location) && File.Exists(location)
            ? SHA256.HashData(File.ReadAllBytes(location))
            : SHA256.HashData(assembly.ManifestModule.ModuleVersionId.ToByteArray());
    }

    private static (byte[] PublicDigest, byte[] Name) DeriveEk(SoftwareTpm engine)
    {
        var client = new Tpm2(engine);
        var wasStarted = engine.IsStarted;
        if (!wasStarted)
        {
            client.Startup(TpmSu.Clear);
        }

        var ek = client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        client.FlushContext(ek.Handle);
        if (!wasStarted)
        {
            // Leave the TPM as the guest firmware expects it: powered on, not yet started.
            engine.PowerOff();
            engine.PowerOn();
        }

        return (SHA256.HashData(ek.Public.ToBytes()), ek.Name);
    }

    private Guid NewGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        _random.Fill(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40); // RFC 9562 version 4
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>
    /// Tells every launch observer (the junction point among them) that the vTPM of
    /// <paramref name="slot"/> is about to run on <paramref name="engine"/>, and records its vEK.
    /// </summary>
    /// <exception cref="VTpmLaunchRejectedException">An observer refused the launch.</exception>
    private void AnnounceLaunch(Slot slot, SoftwareTpm engine, string what)
    {
        var (publicDigest, name) = DeriveEk(engine);
        var launch = new VTpmLaunch(slot.VmId, s_codeDigest.Value.ToArray(), publicDigest, name);
        foreach (var observer in _observers)
        {
            try
            {
                observer.OnLaunch(launch);
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "{What} of the vTPM of VM {VmId} rejected by {Observer}", what, slot.VmId, observer.GetType().Name);
                throw new VTpmLaunchRejectedException(slot.VmId, observer.GetType().FullName ?? observer.GetType().Name, e);
            }
        }

        slot.EkPublicDigest = publicDigest;
        slot.EkName = name;
    }

    private SoftwareTpm OpenEngine(Slot slot)
    {
        var engineOptions = new SoftwareTpmOptions
        {
            PcrBanks = _options.VTpmPcrBanks,
            AutoStartup = _options.AutoStartup,
            Seed = _options.Seed is { } seed ? EngineSeed(seed, slot.VmId) : null,
        };
        var engineLogger = _loggerFactory.CreateLogger<SoftwareTpm>();
        var image = _store.ReadState(slot.VmId);
        if (image is null)
        {
            var fresh = WithWriteThrough(slot.VmId, new SoftwareTpm(engineOptions, null, _time, _secretStore, engineLogger));
            try
            {
                ProvisionCredentials(fresh, slot.VmId);
                fresh.Save();
            }
            catch
            {
                fresh.Dispose();
                throw;
            }

            return fresh;
        }

        try
        {
            return WithWriteThrough(slot.VmId, SoftwareTpm.FromState(image, engineOptions, null, _time, _secretStore, engineLogger));
        }
        catch (TpmStateException e)
        {
            throw new VTpmStateException(_store.Describe(slot.VmId, VTpmInstanceStore.StateExtension), e.Message, e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(image);
        }
    }

    /// <summary>
    /// Makes every state-changing command of <paramref name="engine"/> write the vTPM's encrypted
    /// state through to the store before its response is returned (issue 19, finding 9: a
    /// write-through as <c>tpm serve</c> does, on the engine's own signal, so PCR_Extend, Quote and
    /// other commands that change nothing persistent cost nothing). The engine's lock orders the
    /// writes; the handler takes no lock of the manager, so a command never waits for it.
    /// </summary>
    private SoftwareTpm WithWriteThrough(Guid vmId, SoftwareTpm engine)
    {
        engine.PersistentStateChanged += (sender, _) =>
        {
            var image = ((SoftwareTpm)sender!).ExportState();
            try
            {
                _store.WriteState(vmId, image);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(image);
            }
        };
        return engine;
    }

    private void ProvisionCredentials(SoftwareTpm engine, Guid vmId, VTpmCredentialOccasion occasion = VTpmCredentialOccasion.Manufactured)
    {
        if (CredentialProvider is NoVTpmCredentials)
        {
            return;
        }

        var client = new Tpm2(engine);
        var wasStarted = engine.IsStarted;
        if (!wasStarted)
        {
            client.Startup(TpmSu.Clear);
        }

        CredentialProvider.Provision(new VTpmCredentialContext(vmId, client, s_codeDigest.Value.ToArray()) { Occasion = occasion });
        if (!wasStarted)
        {
            engine.PowerOff();
            engine.PowerOn();
        }
    }

    private static ulong EngineSeed(ulong seed, Guid vmId)
    {
        Span<byte> input = stackalloc byte[24];
        BinaryPrimitives.WriteUInt64BigEndian(input, seed);
        vmId.TryWriteBytes(input[8..], bigEndian: true, out _);
        return BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(input));
    }

    /// <summary>Writes the started engine's state through the store (the engine's lock orders it with the commands' own writes).</summary>
    private static void Persist(Slot slot) => slot.Engine!.Save();

    /// <summary>Changes a slot's state under its gate, so that no in-process channel command runs across the change.</summary>
    private static void SetState(Slot slot, VTpmInstanceState state)
    {
        lock (slot.Gate)
        {
            slot.State = state;
        }
    }

    private void StartServer(Slot slot, int port)
    {
        var server = new SwtpmSocketServer(slot.Engine!, port, _loggerFactory.CreateLogger<SwtpmSocketServer>());
        server.Start();
        slot.Server = server;
        slot.Port = server.Port;
        _logger.LogInformation("Serving the vTPM of VM {VmId} on 127.0.0.1:{Port}", slot.VmId, server.Port);
    }

    private void StopServer(Slot slot)
    {
        if (slot.Server is { } server)
        {
            server.Stop();
            _stoppingServers.Add(server.DisposeAsync().AsTask());
            slot.Server = null;
        }
    }

    private VTpmInstance Info(Slot slot) => slot.Info(_store.StatePath(slot.VmId));

    private Slot Get(Guid vmId) =>
        _slots.TryGetValue(vmId, out var slot) ? slot : throw new KeyNotFoundException($"No vTPM for VM {vmId}.");

    private static void RequireState(Slot slot, VTpmInstanceState state, string operation)
    {
        if (slot.State != state)
        {
            throw new InvalidOperationException($"Cannot {operation} the vTPM of VM {slot.VmId}: it is {slot.State.ToString().ToLowerInvariant()}, not {state.ToString().ToLowerInvariant()}.");
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private byte[] ExecuteOn(Slot slot, ReadOnlySpan<byte> command)
    {
        // The gate makes check and execution one step: a vTPM locked for migration (or suspended,
        // stopped) between the two would otherwise run, and acknowledge, a command its exported
        // state does not contain. The manager's lock is not held while the engine runs.
        lock (slot.Gate)
        {
            ThrowIfDisposed();
            if (slot.State != VTpmInstanceState.Running || slot.Engine is not { } engine || slot.Removed)
            {
                throw new InvalidOperationException($"The vTPM of VM {slot.VmId} is {(slot.Removed ? "destroyed" : slot.State.ToString().ToLowerInvariant())}: it serves no commands.");
            }

            return engine.Execute(command);
        }
    }

    /// <summary>The mutable record of one instance, guarded by the manager's lock (and <see cref="Gate"/> for leaving Running).</summary>
    private sealed class Slot(Guid vmId)
    {
        public Guid VmId { get; } = vmId;

        /// <summary>Held by in-process commands while they run and by every change of <see cref="State"/>; lock order: manager, gate, engine.</summary>
        public Lock Gate { get; } = new();

        /// <summary>Set when the slot left the manager (destroyed); its channels refuse.</summary>
        public bool Removed { get; set; }

        public VTpmInstanceState State { get; set; }

        public VTpmInstanceState LockedFrom { get; set; }

        public SoftwareTpm? Engine { get; set; }

        public SwtpmSocketServer? Server { get; set; }

        public int? Port { get; set; }

        public byte[]? EkName { get; set; }

        public byte[]? EkPublicDigest { get; set; }

        public VTpmInstance Info(string? statePath) => new(VmId, State, EkName, EkPublicDigest, Port, statePath);
    }

    private sealed class Channel(VTpmManager manager, Slot slot) : ITpmTransport
    {
        public byte[] Execute(ReadOnlySpan<byte> command) => manager.ExecuteOn(slot, command);

        public void Dispose()
        {
        }
    }
}
