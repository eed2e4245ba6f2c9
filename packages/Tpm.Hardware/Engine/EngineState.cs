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

    /// <summary>Set by TPM2_Shutdown; cleared at startup. Reset without it makes the clock unsafe.</summary>
    public TpmSu? OrderlyShutdown { get; set; }

    public bool ClockSafe { get; set; } = true;

    /// <summary>PCR values loaded from a TPM2_Shutdown(STATE) save, usable by TPM2_Startup(STATE).</summary>
    public bool SavedPcrsValid { get; set; }

    // ---- volatile ----

    public IReadOnlyList<TpmAlgId> Banks { get; }

    public Dictionary<TpmAlgId, byte[][]> Pcrs { get; }

    /// <summary>Incremented on every PCR change (PolicyPCR detects changes with it).</summary>
    public uint PcrUpdateCounter { get; set; }

    public bool Started { get; set; }

    /// <summary>The last TPM2_Startup followed an orderly TPM2_Shutdown (TPMA_STARTUP_CLEAR.orderly).</summary>
    public bool PreviousShutdownOrderly { get; set; }

    /// <summary>Null-hierarchy seed, new at every TPM Reset.</summary>
    public ITpmSecret? NullSeed { get; set; }

    public ITpmSecret? NullProof { get; set; }

    /// <summary>Key that protects saved contexts; new at every TPM Reset so old contexts cannot load.</summary>
    public ITpmSecret? ContextKey { get; set; }

    public ulong ContextSequence { get; set; }

    public SortedDictionary<uint, TpmObject> TransientObjects { get; } = [];

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

    /// <summary>PCRs 17–22 are DRTM PCRs: all ones until a dynamic launch resets them (PC Client profile).</summary>
    public void ResetPcrsForStartup()
    {
        foreach (var bank in Banks)
        {
            var values = Pcrs[bank];
            for (var i = 0; i < PcrCount; i++)
            {
                Array.Fill(values[i], i is >= 17 and <= 22 ? (byte)0xFF : (byte)0);
            }
        }

        PcrUpdateCounter = 0;
    }

    /// <summary>Flushes every transient object and session.</summary>
    public void FlushVolatile()
    {
        foreach (var o in TransientObjects.Values)
        {
            o.Dispose();
        }

        TransientObjects.Clear();
        foreach (var s in Sessions.Values)
        {
            s.Dispose();
        }

        Sessions.Clear();
    }

    public void Dispose()
    {
        FlushVolatile();
        foreach (var o in PersistentObjects.Values)
        {
            o.Dispose();
        }

        PersistentObjects.Clear();
        foreach (var secret in new[] { Eps, Sps, Pps, ShProof, EhProof, PhProof, NullSeed, NullProof, ContextKey })
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
