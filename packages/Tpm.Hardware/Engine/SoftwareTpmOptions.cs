namespace TrustStack.Tpm.Hardware;

/// <summary>How a <see cref="SoftwareTpm"/> is built.</summary>
public sealed class SoftwareTpmOptions
{
    /// <summary>
    /// Deterministic mode: seeds the engine's DRBG so that every seed, key, nonce and signature
    /// is reproducible. <see langword="null"/> (the default) uses the OS CSPRNG.
    /// </summary>
    public ulong? Seed { get; set; }

    /// <summary>
    /// A folder where state (seeds, NV, persistent objects, clock) persists; <see langword="null"/>
    /// keeps it in memory only. The engine owns the folder while it runs (<see cref="StateFolderLock"/>),
    /// creates it 0700 and its files 0600.
    /// </summary>
    public string? StateDirectory { get; set; }

    /// <summary>
    /// Encrypts the state file at rest with AES-256-GCM under this key (its header authenticated),
    /// as VTpm.Core encrypts each vTPM's state; <see langword="null"/> (the default) writes it in the
    /// clear. The engine copies the key into its secret store at construction, so the caller may
    /// dispose this holder afterwards. A file written without a key still loads with one (and is
    /// encrypted from then on); a file encrypted under another key, or altered, fails with
    /// <see cref="TpmStateException"/> — never a silent reset. Needs <see cref="StateDirectory"/>.
    /// </summary>
    public TpmStateKey? StateEncryptionKey { get; set; }

    /// <summary>Transient object slots (swtpm/libtpms has 3); a client without a resource manager gets TPM_RC_OBJECT_MEMORY past it.</summary>
    public int MaxTransientObjects { get; set; } = 3;

    /// <summary>Loaded session slots (libtpms has 3).</summary>
    public int MaxLoadedSessions { get; set; } = 3;

    /// <summary>Active (loaded or saved) sessions (libtpms has 64).</summary>
    public int MaxActiveSessions { get; set; } = 64;

    /// <summary>Allocated PCR banks.</summary>
    public IReadOnlyList<TpmAlgId> PcrBanks { get; set; } = [TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384];

    /// <summary>Start the TPM (TPM2_Startup(CLEAR)) on power-on, as swtpm's <c>--flags startup-clear</c> does.</summary>
    public bool AutoStartup { get; set; }

    /// <summary>TPM_PT_MANUFACTURER as four ASCII characters.</summary>
    public string Manufacturer { get; set; } = "TSTK";

    /// <summary>TPMS_ATTEST.firmwareVersion.</summary>
    public ulong FirmwareVersion { get; set; } = 0x0001_0000_0000_0000;

    /// <summary>Throws when the options cannot build an engine.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (MaxTransientObjects is < 1 or > 64)
        {
            throw new ArgumentException("MaxTransientObjects must be 1..64.", nameof(MaxTransientObjects));
        }

        if (MaxLoadedSessions is < 1 or > 64 || MaxActiveSessions < MaxLoadedSessions)
        {
            throw new ArgumentException("MaxLoadedSessions must be 1..64 and at most MaxActiveSessions.", nameof(MaxLoadedSessions));
        }

        if (PcrBanks.Count == 0 || PcrBanks.Any(b => !TpmHash.IsSupported(b)) || PcrBanks.Distinct().Count() != PcrBanks.Count)
        {
            throw new ArgumentException("PcrBanks must be distinct supported hash algorithms.", nameof(PcrBanks));
        }

        if (StateEncryptionKey is not null && StateDirectory is null)
        {
            throw new ArgumentException("StateEncryptionKey needs a StateDirectory (an engine without one keeps no state file).", nameof(StateEncryptionKey));
        }

        if (Manufacturer.Length != 4 || Manufacturer.Any(c => c > 0x7f))
        {
            throw new ArgumentException("Manufacturer must be four ASCII characters.", nameof(Manufacturer));
        }
    }
}
