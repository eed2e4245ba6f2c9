namespace TrustStack.Tpm.Hardware;

/// <summary>TPMA_ALGORITHM: what an algorithm is (TPM 2.0 Part 2 §8.2).</summary>
[Flags]
public enum TpmaAlgorithm : uint
{
    /// <summary>No attributes.</summary>
    None = 0,
    /// <summary>An asymmetric algorithm.</summary>
    Asymmetric = 0x1,
    /// <summary>A symmetric block cipher.</summary>
    Symmetric = 0x2,
    /// <summary>A hash algorithm.</summary>
    Hash = 0x4,
    /// <summary>An object type.</summary>
    Object = 0x8,
    /// <summary>A signing algorithm.</summary>
    Signing = 0x100,
    /// <summary>An encryption/decryption algorithm.</summary>
    Encrypting = 0x200,
    /// <summary>A method such as a key derivation function.</summary>
    Method = 0x400,
}

/// <summary>TPMA_CC: the attributes of one implemented command (TPM 2.0 Part 2 §8.9).</summary>
[Flags]
public enum TpmaCc : uint
{
    /// <summary>No attributes.</summary>
    None = 0,
    /// <summary>Mask of commandIndex: the low 16 bits of the command code.</summary>
    CommandIndexMask = 0x0000FFFF,
    /// <summary>The command may write NV.</summary>
    Nv = 0x00400000,
    /// <summary>The command may flush many objects.</summary>
    Extensive = 0x00800000,
    /// <summary>The command flushes the context of a handle it uses.</summary>
    Flushed = 0x01000000,
    /// <summary>Mask of cHandles: the number of handles in the handle area, bits 25..27.</summary>
    CHandlesMask = 0x0E000000,
    /// <summary>The response has a handle.</summary>
    RHandle = 0x10000000,
    /// <summary>A vendor-specific command.</summary>
    V = 0x20000000,
}

/// <summary>TPMS_ALG_PROPERTY: an implemented algorithm (TPM 2.0 Part 2 §10.8.1).</summary>
/// <param name="Alg">The algorithm.</param>
/// <param name="Properties">What kind of algorithm it is.</param>
public sealed record TpmsAlgProperty(TpmAlgId Alg, TpmaAlgorithm Properties);

/// <summary>TPMS_TAGGED_PROPERTY: one TPM property (TPM 2.0 Part 2 §10.8.2).</summary>
/// <param name="Property">The property tag.</param>
/// <param name="Value">Its value.</param>
public sealed record TpmsTaggedProperty(TpmPt Property, uint Value);

/// <summary>TPMS_TAGGED_PCR_SELECT: the PCRs that have one TPM_PT_PCR property (TPM 2.0 Part 2 §10.8.3).</summary>
/// <param name="Tag">The TPM_PT_PCR property (0 TPM_PT_PCR_SAVE, 1 EXTEND_L0, 2 RESET_L0, ...).</param>
/// <param name="Select">The PCR bitmap.</param>
public sealed record TpmsTaggedPcrSelect(uint Tag, byte[] Select);

/// <summary>
/// The answer of TPM2_GetCapability: moreData and the TPMS_CAPABILITY_DATA. The list that matches
/// <see cref="Capability"/> is filled; the others are empty.
/// </summary>
/// <param name="Capability">The capability the TPM answered.</param>
/// <param name="MoreData">True when the TPM has more values past the last one returned.</param>
public sealed record CapabilityData(TpmCap Capability, bool MoreData)
{
    /// <summary>TPM_CAP_ALGS.</summary>
    public IReadOnlyList<TpmsAlgProperty> Algorithms { get; init; } = [];

    /// <summary>TPM_CAP_HANDLES.</summary>
    public IReadOnlyList<uint> Handles { get; init; } = [];

    /// <summary>TPM_CAP_COMMANDS.</summary>
    public IReadOnlyList<TpmaCc> Commands { get; init; } = [];

    /// <summary>TPM_CAP_PP_COMMANDS and TPM_CAP_AUDIT_COMMANDS.</summary>
    public IReadOnlyList<TpmCc> CommandCodes { get; init; } = [];

    /// <summary>TPM_CAP_PCRS: the PCR allocation.</summary>
    public PcrSelectionList AssignedPcrs { get; init; } = PcrSelectionList.Empty;

    /// <summary>TPM_CAP_TPM_PROPERTIES.</summary>
    public IReadOnlyList<TpmsTaggedProperty> TpmProperties { get; init; } = [];

    /// <summary>TPM_CAP_PCR_PROPERTIES.</summary>
    public IReadOnlyList<TpmsTaggedPcrSelect> PcrProperties { get; init; } = [];

    /// <summary>TPM_CAP_ECC_CURVES.</summary>
    public IReadOnlyList<TpmEccCurve> EccCurves { get; init; } = [];

    /// <summary>Unmarshals TPMI_YES_NO moreData ‖ TPMS_CAPABILITY_DATA.</summary>
    /// <exception cref="TpmException">The bytes are malformed or name a capability this parser does not know.</exception>
    public static CapabilityData Unmarshal(ref TpmReader reader)
    {
        var more = reader.ReadU8() != 0;
        var capability = (TpmCap)reader.ReadU32();
        var count = reader.ReadU32();
        if (count > CapabilityBufferMax)
        {
            throw reader.Fail(TpmRc.Size, $"{count} capability entries");
        }

        var n = (int)count;
        var data = new CapabilityData(capability, more);
        switch (capability)
        {
            case TpmCap.Algs:
                var algs = new TpmsAlgProperty[n];
                for (var i = 0; i < n; i++)
                {
                    algs[i] = new TpmsAlgProperty(reader.ReadAlg(), (TpmaAlgorithm)reader.ReadU32());
                }

                return data with { Algorithms = algs };
            case TpmCap.Handles:
                var handles = new uint[n];
                for (var i = 0; i < n; i++)
                {
                    handles[i] = reader.ReadU32();
                }

                return data with { Handles = handles };
            case TpmCap.Commands:
                var commands = new TpmaCc[n];
                for (var i = 0; i < n; i++)
                {
                    commands[i] = (TpmaCc)reader.ReadU32();
                }

                return data with { Commands = commands };
            case TpmCap.PpCommands or TpmCap.AuditCommands:
                var codes = new TpmCc[n];
                for (var i = 0; i < n; i++)
                {
                    codes[i] = (TpmCc)reader.ReadU32();
                }

                return data with { CommandCodes = codes };
            case TpmCap.Pcrs:
                var banks = new PcrSelection[n];
                for (var i = 0; i < n; i++)
                {
                    banks[i] = PcrSelection.Unmarshal(ref reader);
                }

                return data with { AssignedPcrs = new PcrSelectionList(banks) };
            case TpmCap.TpmProperties:
                var properties = new TpmsTaggedProperty[n];
                for (var i = 0; i < n; i++)
                {
                    properties[i] = new TpmsTaggedProperty((TpmPt)reader.ReadU32(), reader.ReadU32());
                }

                return data with { TpmProperties = properties };
            case TpmCap.PcrProperties:
                var pcrProperties = new TpmsTaggedPcrSelect[n];
                for (var i = 0; i < n; i++)
                {
                    var tag = reader.ReadU32();
                    var size = reader.ReadU8();
                    pcrProperties[i] = new TpmsTaggedPcrSelect(tag, reader.ReadBytes(size).ToArray());
                }

                return data with { PcrProperties = pcrProperties };
            case TpmCap.EccCurves:
                var curves = new TpmEccCurve[n];
                for (var i = 0; i < n; i++)
                {
                    curves[i] = (TpmEccCurve)reader.ReadU16();
                }

                return data with { EccCurves = curves };
            default:
                throw reader.Fail(TpmRc.Value, $"capability {capability} is not parsed");
        }
    }

    // No TPM returns more entries than fit in a response.
    private const uint CapabilityBufferMax = 4096;
}

/// <summary>TPM2_GetCapability and conveniences over it (TPM 2.0 Part 3 §30.2).</summary>
public sealed partial class Tpm2
{
    /// <summary>TPM2_GetCapability: one call, which may stop early (see <see cref="CapabilityData.MoreData"/>).</summary>
    /// <param name="capability">What to list.</param>
    /// <param name="property">Where to start: an algorithm, handle, command code, property tag or curve.</param>
    /// <param name="propertyCount">The most values wanted.</param>
    /// <exception cref="TpmException">For example TPM_RC_VALUE for an unknown capability.</exception>
    public CapabilityData GetCapability(TpmCap capability, uint property, uint propertyCount)
    {
        var r = Execute(TpmCc.GetCapability, [], [], w =>
        {
            w.WriteU32((uint)capability);
            w.WriteU32(property);
            w.WriteU32(propertyCount);
        }).Reader();
        var data = CapabilityData.Unmarshal(ref r);
        r.EnsureConsumed();
        return data;
    }

    /// <summary>Every fixed and variable TPM property (TPM_PT_FIXED and TPM_PT_VAR groups), following moreData.</summary>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public IReadOnlyDictionary<TpmPt, uint> GetTpmProperties()
    {
        var result = new SortedDictionary<TpmPt, uint>();
        foreach (var group in new[] { TpmPt.Fixed, TpmPt.Var })
        {
            foreach (var p in ReadAll(TpmCap.TpmProperties, (uint)group, d => d.TpmProperties, p => (uint)p.Property))
            {
                if ((uint)p.Property >= (uint)group && (uint)p.Property < (uint)group + (uint)TpmPt.Group)
                {
                    result[p.Property] = p.Value;
                }
            }
        }

        return result;
    }

    /// <summary>The implemented algorithms.</summary>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public IReadOnlyList<TpmsAlgProperty> GetAlgorithms() =>
        ReadAll(TpmCap.Algs, 0, d => d.Algorithms, a => (uint)a.Alg);

    /// <summary>The implemented commands with their TPMA_CC.</summary>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public IReadOnlyList<TpmaCc> GetCommands() =>
        ReadAll(TpmCap.Commands, 0, d => d.Commands, a => (uint)(a & TpmaCc.CommandIndexMask));

    /// <summary>The handles of one type (TPM_HT_TRANSIENT, PERSISTENT, NV_INDEX, loaded/saved sessions, PCR, PERMANENT).</summary>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public IReadOnlyList<uint> GetHandles(TpmHt type) =>
        ReadAll(TpmCap.Handles, (uint)type << 24, d => d.Handles, h => h);

    /// <summary>The PCR allocation: one selection per bank the TPM implements (empty bitmaps for unallocated banks).</summary>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public PcrSelectionList GetPcrAllocation() => GetCapability(TpmCap.Pcrs, 0, PcrSelectionList.MaxBanks).AssignedPcrs;

    /// <summary>The implemented ECC curves.</summary>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public IReadOnlyList<TpmEccCurve> GetEccCurves() =>
        ReadAll(TpmCap.EccCurves, 0, d => d.EccCurves, c => (uint)c);

    /// <summary>Calls TPM2_GetCapability from <paramref name="start"/> until moreData is NO, each call resuming after the last key returned.</summary>
    private List<T> ReadAll<T>(TpmCap capability, uint start, Func<CapabilityData, IReadOnlyList<T>> select, Func<T, uint> key)
    {
        const uint MaxPerCall = 1024;
        var all = new List<T>();
        var property = start;
        while (true)
        {
            var data = GetCapability(capability, property, MaxPerCall);
            var items = select(data);
            all.AddRange(items);
            if (!data.MoreData || items.Count == 0)
            {
                return all;
            }

            var last = key(items[^1]);
            if (last == uint.MaxValue)
            {
                return all;
            }

            property = last + 1;
        }
    }
}
