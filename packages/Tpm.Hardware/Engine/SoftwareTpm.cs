using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// The software TPM 2.0 engine: executes marshalled command buffers exactly as a TPM does
/// and returns marshalled responses, so in-process callers, TCP servers and vTPM front ends
/// share one implementation. Commands are serialized; a malformed command gets the response
/// code a TPM returns and changes no state.
/// </summary>
public sealed partial class SoftwareTpm : ITpmTransport
{
    private const int HeaderSize = 10;
    /// <summary>The largest command and response (TPM_PT_MAX_COMMAND_SIZE, TPM_PT_MAX_RESPONSE_SIZE).</summary>
    internal const int MaxCommandSize = 4096;

    private readonly Lock _lock = new();
    private readonly CommandTable _commands = new();
    private readonly SoftwareTpmOptions _options;
    private readonly ILogger _logger;
    private readonly StatePersistence? _persistence;
    private readonly StateFolderLock? _folderLock;
    private readonly ITpmSecret? _stateKey;
    private long _powerOnTimestamp;
    private bool _poweredOn;
    private bool _disposed;

    /// <summary>Creates an engine: loads its state folder if one is configured and exists, else manufactures a new TPM.</summary>
    /// <param name="options">Engine options.</param>
    /// <param name="random">Randomness; defaults to a DRBG seeded by <see cref="SoftwareTpmOptions.Seed"/>, else the OS CSPRNG.</param>
    /// <param name="timeProvider">Clock; defaults to a frozen clock in deterministic mode, else the system clock.</param>
    /// <param name="secretStore">Where seeds and private areas live; defaults to <see cref="ManagedSecretStore"/>.</param>
    /// <param name="logger">Logger for lifecycle events.</param>
    /// <exception cref="TpmStateException">The state folder holds a corrupt or unreadable state file, one encrypted under another key, or an encrypted one and no key was given.</exception>
    /// <exception cref="StateFolderLockedException">Another engine (in this or another process) owns the state folder.</exception>
    /// <exception cref="ObjectDisposedException"><see cref="SoftwareTpmOptions.StateEncryptionKey"/> is disposed.</exception>
    public SoftwareTpm(SoftwareTpmOptions? options = null, IRandomSource? random = null, TimeProvider? timeProvider = null, ITpmSecretStore? secretStore = null, ILogger<SoftwareTpm>? logger = null)
        : this(options, random, timeProvider, secretStore, logger, image: default, fromImage: false)
    {
    }

    private SoftwareTpm(SoftwareTpmOptions? options, IRandomSource? random, TimeProvider? timeProvider, ITpmSecretStore? secretStore, ILogger<SoftwareTpm>? logger, ReadOnlySpan<byte> image, bool fromImage)
    {
        _options = options ?? new SoftwareTpmOptions();
        _options.Validate();
        Random = random ?? (_options.Seed is { } seed ? DeterministicRandomSource.FromSeed(seed) : SystemRandomSource.Instance);
        Time = timeProvider ?? (_options.Seed is not null ? new FixedTimeProvider() : TimeProvider.System);
        Secrets = secretStore ?? ManagedSecretStore.Instance;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        if (fromImage && _options.StateDirectory is not null)
        {
            throw new ArgumentException("An engine restored from an in-memory state image has no state folder.", nameof(options));
        }

        State = fromImage ? StatePersistence.Deserialize(image, _options.PcrBanks, Secrets, "<in-memory state image>") : new EngineState(_options.PcrBanks);
        RegisterCommands();

        if (fromImage)
        {
            _logger.LogDebug("Restored TPM state from an in-memory image");
        }
        else if (_options.StateDirectory is { } dir)
        {
            // One owner per state folder: a second engine on it would serve the same TPM and
            // overwrite this one's acknowledged writes.
            _folderLock = StateFolderLock.Acquire(dir, "TrustStack TPM engine");
            try
            {
                WarnIfFolderIsShared(_folderLock.Directory);
                _stateKey = StoreStateKey(_options.StateEncryptionKey, Secrets);
                _persistence = new StatePersistence(dir, _stateKey, _options.StateEncryptionKey?.KeyId.ToArray());
                var encryption = _persistence.Encrypts ? "encrypted, AES-256-GCM" : "not encrypted";
                if (!_persistence.TryLoad(this))
                {
                    Manufacture();
                    _persistence.Save(this);
                    _logger.LogInformation("Manufactured a new TPM in {StateDirectory} (state file {Encryption})", dir, encryption);
                }
                else
                {
                    _logger.LogInformation("Loaded TPM state from {StateDirectory} (state file {Encryption})", dir, encryption);
                    if (_persistence.TightenedFrom is { } mode)
                    {
                        _logger.LogWarning("The state file {Path} was readable by others (mode {Mode}); it is owner-only (0600) now", _persistence.Path, Octal(mode));
                    }

                    if (_persistence.LoadedUnencrypted)
                    {
                        // Encrypt it at once rather than at the next NV write, so the seeds do not
                        // stay in the clear in the folder (a copy the file system kept is beyond reach).
                        _persistence.Save(this);
                        _logger.LogWarning("The state file {Path} was not encrypted; it was loaded and is now encrypted under the state key (key id {KeyId})", _persistence.Path, Convert.ToHexStringLower(_options.StateEncryptionKey!.KeyId.Span));
                    }
                }
            }
            catch
            {
                _stateKey?.Dispose();
                _folderLock.Dispose();
                State.Dispose();
                throw;
            }
        }
        else
        {
            Manufacture();
        }

        PowerOn();
    }

    /// <summary>The engine's options.</summary>
    public SoftwareTpmOptions Options => _options;

    /// <summary>True after TPM2_Startup and until power-off.</summary>
    public bool IsStarted
    {
        get
        {
            lock (_lock)
            {
                return State.Started;
            }
        }
    }

    /// <summary>True between <see cref="PowerOn"/> and <see cref="PowerOff"/>; a powered-off TPM answers every command with TPM_RC_FAILURE.</summary>
    public bool IsPoweredOn
    {
        get
        {
            lock (_lock)
            {
                return _poweredOn;
            }
        }
    }

    /// <summary>Command codes this engine implements, ascending.</summary>
    public IReadOnlyList<TpmCc> ImplementedCommands => [.. _commands.Codes];

    /// <summary>True when the engine implements <paramref name="code"/>.</summary>
    internal bool Implements(TpmCc code) => _commands.Contains(code);

    internal EngineState State { get; private set; }

    /// <summary>The command table (tests check descriptors against the client's tables).</summary>
    internal CommandTable CommandsForTests => _commands;

    internal IRandomSource Random { get; }

    internal TimeProvider Time { get; }

    internal ITpmSecretStore Secrets { get; }

    /// <summary>Deterministic mode: RFC 6979 signatures and seeded randomness.</summary>
    internal bool IsDeterministic => _options.Seed is not null;

    /// <summary>Current locality (set by a server's control channel).</summary>
    public byte Locality { get; set; }

    /// <summary>TPMS_TIME_INFO.time: milliseconds since the last power-on.</summary>
    internal ulong TimeMilliseconds => (ulong)Time.GetElapsedTime(_powerOnTimestamp).TotalMilliseconds;

    /// <summary>TPMS_CLOCK_INFO.clock: milliseconds powered, persisted across power cycles.</summary>
    internal ulong ClockMilliseconds => State.ClockBase + (ulong)Time.GetElapsedTime(_powerOnTimestamp).TotalMilliseconds;

    /// <inheritdoc />
    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _poweredOn ? ExecuteLocked(command) : ErrorResponse(TpmRc.Failure);
        }
    }

    /// <summary>
    /// Power-on (TPM_Init): the TPM needs TPM2_Startup, or runs TPM2_Startup(CLEAR) itself with
    /// <see cref="SoftwareTpmOptions.AutoStartup"/>. A TPM that is on is powered off first.
    /// </summary>
    public void PowerOn()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_poweredOn)
            {
                PowerOffLocked();
            }

            State.Started = false;
            _powerOnTimestamp = Time.GetTimestamp();
            _poweredOn = true;
            if (_options.AutoStartup)
            {
                ExecuteLocked(StartupCommand(TpmSu.Clear));
            }
        }
    }

    /// <summary>
    /// Power-off: the clock is saved and the state goes through the state image, as a process
    /// restart from the state folder would: loaded objects and sessions are lost, PCRs and saved
    /// sessions survive only a TPM2_Shutdown(STATE), and without TPM2_Shutdown the next startup is
    /// a disorderly TPM Reset. Does nothing when the TPM is off.
    /// </summary>
    public void PowerOff()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_poweredOn)
            {
                PowerOffLocked();
            }
        }
    }

    /// <summary>Writes the state folder now (no-op without one) and raises <see cref="PersistentStateChanged"/>.</summary>
    public void Save()
    {
        lock (_lock)
        {
            SaveState();
            PersistentStateChanged?.Invoke(this, EventArgs.Empty);
        }
    }

    /// <summary>
    /// Raised after every command that changed the TPM's persistent state (those after which a
    /// state folder is written: NV definitions and writes, hierarchy auth, EvictControl, Clear,
    /// Startup, Shutdown) and by <see cref="Save"/>: on the executing thread, under the engine's
    /// lock, before the command's response is returned. A host that keeps the state itself (a vTPM
    /// manager, encrypted) writes <see cref="ExportState"/> here, so that no acknowledged write is
    /// lost to a crash; the engine's lock orders those writes. A handler that throws makes the
    /// command answer TPM_RC_FAILURE (the write is not acknowledged). A handler may call this
    /// engine; it must not wait for another thread that waits for the engine.
    /// </summary>
    public event EventHandler? PersistentStateChanged;

    /// <summary>
    /// Restores an engine from a state image made by <see cref="ExportState"/> (the content of a
    /// state folder's <c>tpm-state.bin</c>), so a host such as a vTPM manager can keep the state
    /// wherever it likes (for example encrypted). The engine then powers on as after a restart.
    /// </summary>
    /// <param name="image">The state image.</param>
    /// <param name="options">Engine options; <see cref="SoftwareTpmOptions.StateDirectory"/> must be null.</param>
    /// <param name="random">Randomness, as for the constructor.</param>
    /// <param name="timeProvider">Clock, as for the constructor.</param>
    /// <param name="secretStore">Where the restored seeds and private areas go.</param>
    /// <param name="logger">Logger for lifecycle events.</param>
    /// <returns>The restored, powered-on engine.</returns>
    /// <exception cref="TpmStateException">The image is corrupt, truncated or of an unknown version.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> names a state folder.</exception>
    public static SoftwareTpm FromState(ReadOnlySpan<byte> image, SoftwareTpmOptions? options = null, IRandomSource? random = null, TimeProvider? timeProvider = null, ITpmSecretStore? secretStore = null, ILogger<SoftwareTpm>? logger = null) =>
        new(options, random, timeProvider, secretStore, logger, image, fromImage: true);

    /// <summary>
    /// The engine's persistent state (seeds, hierarchy auth, NV, persistent objects, clock, and the
    /// PCRs after an orderly TPM2_Shutdown(STATE)) as one image, in the format of <c>tpm-state.bin</c>.
    /// The image holds the seeds in the clear: encrypt it or zero it (<see cref="CryptographicOperations.ZeroMemory"/>) when done.
    /// </summary>
    /// <returns>The state image.</returns>
    /// <exception cref="ObjectDisposedException">The engine is disposed.</exception>
    public byte[] ExportState()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // The image carries the clock as of now; the running engine keeps counting from its base.
            var clockBase = State.ClockBase;
            State.ClockBase = State.Started ? ClockMilliseconds : clockBase;
            try
            {
                return StatePersistence.Serialize(State);
            }
            finally
            {
                State.ClockBase = clockBase;
            }
        }
    }

    /// <summary>
    /// The engine's whole state for a live move to another host (vTPM migration): as
    /// <see cref="ExportState"/>, plus the reset data that only an orderly TPM2_Shutdown(STATE) keeps
    /// (PCRs and their update counter, the null hierarchy, the context key and sequence, saved
    /// sessions), marked as shut down with STATE. An engine restored from it with
    /// <see cref="FromState"/> (AutoStartup off) and started with TPM2_Startup(STATE) resumes with
    /// the same PCRs, as after a hibernation (Part 1 §12.2.3 TPM Resume). Loaded transient objects
    /// and loaded sessions are not included (a guest reloads them, as after a resume).
    /// The running engine is not changed. Zero the image when done: it holds the seeds.
    /// </summary>
    /// <returns>The state image, in the format of <c>tpm-state.bin</c>.</returns>
    /// <exception cref="ObjectDisposedException">The engine is disposed.</exception>
    /// <exception cref="InvalidOperationException">The TPM is not started (it has no reset data yet).</exception>
    public byte[] ExportLiveState()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!State.Started || State.ContextKey is null)
            {
                throw new InvalidOperationException("A live state export needs a started TPM; export a stopped TPM with ExportState.");
            }

            var clockBase = State.ClockBase;
            var orderly = State.OrderlyShutdown;
            State.ClockBase = ClockMilliseconds;
            State.OrderlyShutdown = TpmSu.State;
            try
            {
                return StatePersistence.Serialize(State);
            }
            finally
            {
                State.ClockBase = clockBase;
                State.OrderlyShutdown = orderly;
            }
        }
    }

    /// <summary>Saves state and releases every secret.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (State.Started)
            {
                State.ClockBase = ClockMilliseconds;
            }

            try
            {
                SaveState();
            }
            finally
            {
                State.Dispose();
                _stateKey?.Dispose();
                _folderLock?.Dispose();
                _disposed = true;
            }
        }
    }

    internal void SaveState() => _persistence?.Save(this);

    /// <summary>The state key, copied into the secret store (the caller's holder may then be disposed).</summary>
    private static ITpmSecret? StoreStateKey(TpmStateKey? key, ITpmSecretStore store)
    {
        if (key is null)
        {
            return null;
        }

        Span<byte> copy = stackalloc byte[TpmStateKey.Size];
        try
        {
            key.CopyTo(copy);
            return store.Store(copy, "state file key");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(copy);
        }
    }

    /// <summary>A folder made by an older version (0755) or by the user may be readable by others: say so.</summary>
    private void WarnIfFolderIsShared(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(directory);
        if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0)
        {
            _logger.LogWarning("The state folder {StateDirectory} is open to other users (mode {Mode}); its files are owner-only, but chmod 700 it", directory, Octal(mode));
        }
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8);

    private void PowerOffLocked()
    {
        if (State.Started)
        {
            State.ClockBase = ClockMilliseconds;
            State.Started = false;
        }

        var image = StatePersistence.Serialize(State);
        try
        {
            _persistence?.Write(image);
            ReplaceState(StatePersistence.Deserialize(image, _options.PcrBanks, Secrets, "the power-off state image"));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(image);
        }

        _poweredOn = false;
    }

    /// <summary>TPM2_Clear sets Clock to zero (TPM 2.0 Part 3 §24.6).</summary>
    internal void ResetClock()
    {
        State.ClockBase = 0;
        _powerOnTimestamp = Time.GetTimestamp();
    }

    internal void ReplaceState(EngineState loaded)
    {
        State.Dispose();
        State = loaded;
    }

    /// <summary>Creates the seeds and proofs of a new TPM (what a manufacturer does).</summary>
    internal void Manufacture()
    {
        State.Eps = NewSecret(64, "EPS");
        State.Sps = NewSecret(64, "SPS");
        State.Pps = NewSecret(64, "PPS");
        State.ShProof = NewSecret(64, "shProof");
        State.EhProof = NewSecret(64, "ehProof");
        State.PhProof = NewSecret(64, "phProof");
    }

    internal ITpmSecret NewSecret(int size, string purpose)
    {
        Span<byte> buffer = stackalloc byte[size];
        Random.Fill(buffer);
        var secret = Secrets.Store(buffer, purpose);
        CryptographicOperations.ZeroMemory(buffer);
        return secret;
    }

    internal byte[] NewNonce(int size) => Random.GetBytes(size);

    private static byte[] StartupCommand(TpmSu type)
    {
        var w = new TpmWriter(12);
        w.WriteU16((ushort)TpmSt.NoSessions);
        w.WriteU32(12);
        w.WriteU32((uint)TpmCc.Startup);
        w.WriteU16((ushort)type);
        return w.ToArray();
    }

    private void RegisterCommands()
    {
        ICommandGroup[] groups =
        [
            new StartupCommands(),
            new RandomCommands(),
            new PcrCommands(),
            new CapabilityCommands(),
            new ObjectCommands(),
            new ContextCommands(),
            new HierarchyCommands(),
            new SessionCommands(),
            new PolicyCommands(),
            new SigningCommands(),
            new EcdaaCommands(),
            new AttestationCommands(),
            new CredentialCommands(),
            new NvCommands(),
            new HashCommands(),
            new SequenceCommands(),
            new ClockCommands(),
        ];
        foreach (var group in groups)
        {
            group.Register(_commands);
        }

    }
}
