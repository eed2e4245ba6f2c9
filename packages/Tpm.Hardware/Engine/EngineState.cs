using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Everything a TPM remembers. "Persistent" parts survive power cycles (and are written to the
/// state folder); "volatile" parts live until TPM Reset (TPM 2.0 Part 1 §36–37).
/// </summary>
internal sealed class EngineState : IDisposable
{
    public const int PcrCount = 24;

    public EngineState(IReadOnlyList<TpmAlgId> banks)
    {
        Banks = banks;
        Pcrs = new Dictionary<TpmAlgId, byte[][]>();
        foreach (var bank in banks)
        {
            Pcrs[bank] = NewBank(bank);
        }

        Owner = new PermanentEntity(TpmRh.Owner);
        Endorsement = new PermanentEntity(TpmRh.Endorsement);
        Platform = new PermanentEntity(TpmRh.Platform);
        Lockout = new PermanentEntity(TpmRh.Lockout);
        NullHierarchy = new PermanentEntity(TpmRh.Null);
    }

    // ---- persistent ----

    /// <summary>Endorsement primary seed.</summary>
    public ITpmSecret? Eps { get; set; }

    /// <summary>Storage primary seed.</summary>
    public ITpmSecret? Sps { get; set; }

    /// <summary>Platform primary seed.</summary>
    public ITpmSecret? Pps { get; set; }

    /// <summary>Secret for tickets and saved contexts of the persistent hierarchies (proof values, Part 1 §14.5).</summary>
    public ITpmSecret? ShProof { get; set; }

    public ITpmSecret? EhProof { get; set; }

    public ITpmSecret? PhProof { get; set; }

    public PermanentEntity Owner { get; }

    public PermanentEntity Endorsement { get; }

    public PermanentEntity Platform { get; }

    public PermanentEntity Lockout { get; }

    public PermanentEntity NullHierarchy { get; }

    public SortedDictionary<uint, NvIndex> NvIndices { get; } = [];

    public SortedDictionary<uint, TpmObject> PersistentObjects { get; } = [];

    /// <summary>Milliseconds of powered time before this power-on.</summary>
    public ulong ClockBase { get; set; }

    public uint ResetCount { get; set; }

    public uint RestartCount { get; set; }

    public uint ClearCount { get; set; }

    /// <summary>
    /// Set by TPM2_Shutdown; cleared at startup, and when a command changes state the shutdown
    /// saved (a state-saved PCR). A TPM Reset without it makes the clock unsafe.
    /// </summary>
    public TpmSu? OrderlyShutdown { get; set; }

    public bool ClockSafe { get; set; } = true;

    // ---- reset data: kept by TPM2_Shutdown(STATE) for TPM Restart and TPM Resume, lost at TPM Reset ----

    /// <summary>Null-hierarchy seed, new at every TPM Reset.</summary>
    public ITpmSecret? NullSeed { get; set; }

    public ITpmSecret? NullProof { get; set; }

    /// <summary>Key that protects saved contexts; new at every TPM Reset so old contexts cannot load.</summary>
    public ITpmSecret? ContextKey { get; set; }

    public ulong ContextSequence { get; set; }

    /// <summary>
    /// Incremented at every TPM Restart, zero after a TPM Reset, unchanged by a TPM Resume: saved
    /// contexts of stClear objects are bound to it (Part 1 §30.3; the reference implementation's
    /// gr.clearCount). Not <see cref="RestartCount"/>, which a Resume increments too.
    /// </summary>
    public uint StClearEpoch { get; set; }

    /// <summary>Incremented on every PCR change (PolicyPCR detects changes with it).</summary>
    public uint PcrUpdateCounter { get; set; }

    /// <summary>gr.commitNonce: keys the KDF that derives each TPM2_Commit random value (new at TPM Reset).</summary>
    public ITpmSecret? CommitNonce { get; set; }

    /// <summary>gr.commitCounter: counts TPM2_Commit operations since the last TPM Reset.</summary>
    public ulong CommitCounter { get; set; }

    /// <summary>gr.commitArray: one bit per outstanding commitment, indexed by the low bits of its counter.</summary>
    public byte[] CommitArray { get; } = new byte[16];

    // ---- volatile ----

    public IReadOnlyList<TpmAlgId> Banks { get; }

    /// <summary>PCR values: state-saved ones (0–15) survive TPM2_Shutdown(STATE) for a TPM Resume.</summary>
    public Dictionary<TpmAlgId, byte[][]> Pcrs { get; }

    public bool Started { get; set; }

    /// <summary>The last TPM2_Startup followed an orderly TPM2_Shutdown (TPMA_STARTUP_CLEAR.orderly).</summary>
    public bool PreviousShutdownOrderly { get; set; }

    public SortedDictionary<uint, TpmObject> TransientObjects { get; } = [];

    /// <summary>Loaded sessions, and saved ones (<see cref="AuthSession.IsSaved"/>), which are reset data.</summary>
    public SortedDictionary<uint, AuthSession> Sessions { get; } = [];

    public IAuthEntity? Hierarchy(uint handle) => handle switch
    {
        TpmRh.Owner => Owner,
        TpmRh.Endorsement => Endorsement,
        TpmRh.Platform => Platform,
        TpmRh.Lockout => Lockout,
        TpmRh.Null => NullHierarchy,
        _ => null,
    };

    public PermanentEntity? PermanentEntityFor(uint handle) => Hierarchy(handle) as PermanentEntity;

    public static byte[][] NewBank(TpmAlgId bank)
    {
        var values = new byte[PcrCount][];
        for (var i = 0; i < PcrCount; i++)
        {
            values[i] = new byte[TpmHash.DigestSize(bank)];
        }

        return values;
    }

    /// <summary>
    /// PCRs to their startup values: all of them at TPM Reset and Restart (and the update counter
    /// to zero); at TPM Resume (<paramref name="resume"/>) only those that are not state-saved, 16–23
    /// (PC Client profile, the reference implementation's PCRStartup). PCRs 17–22 are DRTM PCRs:
    /// all ones until a dynamic launch resets them.
    /// </summary>
    public void ResetPcrsForStartup(bool resume)
    {
        foreach (var bank in Banks)
        {
            var values = Pcrs[bank];
            for (var i = 0; i < PcrCount; i++)
            {
                if (!resume || !PcrCommands.IsStateSaved(i))
                {
                    Array.Fill(values[i], i is >= 17 and <= 22 ? (byte)0xFF : (byte)0);
                }
            }
        }

        if (!resume)
        {
            PcrUpdateCounter = 0;
        }
    }

    /// <summary>Flushes every transient object and loaded session; saved sessions stay unless <paramref name="savedSessions"/>.</summary>
    public void FlushVolatile(bool savedSessions = false)
    {
        foreach (var o in TransientObjects.Values)
        {
            o.Dispose();
        }

        TransientObjects.Clear();
        foreach (var s in Sessions.Values.Where(s => savedSessions || !s.IsSaved).ToList())
        {
            Sessions.Remove(s.Handle);
            s.Dispose();
        }
    }

    public void Dispose()
    {
        FlushVolatile(savedSessions: true);
        foreach (var o in PersistentObjects.Values)
        {
            o.Dispose();
        }

        PersistentObjects.Clear();
        foreach (var secret in new[] { Eps, Sps, Pps, ShProof, EhProof, PhProof, NullSeed, NullProof, ContextKey, CommitNonce })
        {
            secret?.Dispose();
        }
    }

    /// <summary>The seed of a hierarchy (for primary object derivation).</summary>
    public ITpmSecret SeedOf(uint hierarchy) => hierarchy switch
    {
        TpmRh.Owner => Sps!,
        TpmRh.Endorsement => Eps!,
        TpmRh.Platform => Pps!,
        _ => NullSeed!,
    };

    /// <summary>The proof value of a hierarchy (for tickets).</summary>
    public ITpmSecret ProofOf(uint hierarchy) => hierarchy switch
    {
        TpmRh.Owner => ShProof!,
        TpmRh.Endorsement => EhProof!,
        TpmRh.Platform => PhProof!,
        _ => NullProof!,
    };

    internal static void Zero(byte[] bytes) => CryptographicOperations.ZeroMemory(bytes);
}
