namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_GetCapability (Part 3 §30.2).</summary>
internal sealed class CapabilityCommands : ICommandGroup
{
    /// <summary>TPM_PT_MAX_CAP_BUFFER: room for TPMU_CAPABILITIES plus its 8-octet header.</summary>
    public const int MaxCapBuffer = 1024;

    /// <summary>TPM_PT_FAMILY_INDICATOR: "2.0".</summary>
    public const uint SpecFamily = 0x322E3000;

    /// <summary>TPM_PT_REVISION: specification revision 1.59 (what libtpms 0.9 and swtpm 0.7 report).</summary>
    public const uint SpecRevision = 159;

    /// <summary>TPM_PT_YEAR of revision 1.59 (8 November 2019).</summary>
    public const uint SpecYear = 2019;

    /// <summary>TPM_PT_DAY_OF_YEAR of revision 1.59.</summary>
    public const uint SpecDayOfYear = 312;

    /// <summary>The minimum persistent object slots a PC Client TPM guarantees (TPM_PT_HR_PERSISTENT_MIN).</summary>
    public const uint PersistentMin = 7;

    // MAX_CAP_DATA = MAX_CAP_BUFFER - sizeof(TPM_CAP) - sizeof(UINT32); list limits per element size.
    private const int MaxCapData = MaxCapBuffer - 8;
    private const int MaxCapAlgs = MaxCapData / 6;
    private const int MaxCapHandles = MaxCapData / 4;
    private const int MaxCapCc = MaxCapData / 4;
    private const int MaxTpmProperties = MaxCapData / 8;
    private const int MaxPcrProperties = MaxCapData / (4 + 1 + PcrCommands.SelectSize);
    private const int MaxEccCurves = MaxCapData / 2;

    private const uint PtGroup = 0x100;
    private const uint PtFixed = 0x100;
    private const uint PtVar = 0x200;
    private const uint PtPcrLast = 0x14;

    /// <summary>Implemented algorithms with their TPMA_ALGORITHM, ascending by TPM_ALG_ID (the engine scope in docs/tpm.md, plus SHA-512 which every TPMI_ALG_HASH check accepts).</summary>
    public static IReadOnlyList<(TpmAlgId Alg, TpmaAlgorithm Attributes)> Algorithms { get; } =
    [
        (TpmAlgId.Rsa, TpmaAlgorithm.Asymmetric | TpmaAlgorithm.Object),
        (TpmAlgId.Sha1, TpmaAlgorithm.Hash),
        (TpmAlgId.Hmac, TpmaAlgorithm.Hash | TpmaAlgorithm.Signing),
        (TpmAlgId.Aes, TpmaAlgorithm.Symmetric),
        (TpmAlgId.Mgf1, TpmaAlgorithm.Hash | TpmaAlgorithm.Method),
        (TpmAlgId.Keyedhash, TpmaAlgorithm.Hash | TpmaAlgorithm.Object | TpmaAlgorithm.Signing | TpmaAlgorithm.Encrypting),
        (TpmAlgId.Xor, TpmaAlgorithm.Symmetric | TpmaAlgorithm.Hash),
        (TpmAlgId.Sha256, TpmaAlgorithm.Hash),
        (TpmAlgId.Sha384, TpmaAlgorithm.Hash),
        (TpmAlgId.Sha512, TpmaAlgorithm.Hash),
        (TpmAlgId.Rsassa, TpmaAlgorithm.Asymmetric | TpmaAlgorithm.Signing),
        (TpmAlgId.Rsapss, TpmaAlgorithm.Asymmetric | TpmaAlgorithm.Signing),
        (TpmAlgId.Oaep, TpmaAlgorithm.Asymmetric | TpmaAlgorithm.Encrypting),
        (TpmAlgId.Ecdsa, TpmaAlgorithm.Asymmetric | TpmaAlgorithm.Signing),
        (TpmAlgId.Ecdh, TpmaAlgorithm.Asymmetric | TpmaAlgorithm.Method),
        (TpmAlgId.Ecdaa, TpmaAlgorithm.Asymmetric | TpmaAlgorithm.Signing),
        (TpmAlgId.Kdf1Sp80056a, TpmaAlgorithm.Hash | TpmaAlgorithm.Method),
        (TpmAlgId.Kdf1Sp800108, TpmaAlgorithm.Hash | TpmaAlgorithm.Method),
        (TpmAlgId.Ecc, TpmaAlgorithm.Asymmetric | TpmaAlgorithm.Object),
        (TpmAlgId.Symcipher, TpmaAlgorithm.Object),
        (TpmAlgId.Cfb, TpmaAlgorithm.Symmetric | TpmaAlgorithm.Encrypting),
    ];

    /// <summary>Implemented ECC curves, ascending.</summary>
    public static IReadOnlyList<TpmEccCurve> EccCurves { get; } = [TpmEccCurve.NistP256, TpmEccCurve.NistP384, TpmEccCurve.BnP256];

    /// <summary>Permanent handles this TPM answers to, ascending.</summary>
    public static IReadOnlyList<uint> PermanentHandles { get; } =
        [TpmRh.Owner, TpmRh.Null, TpmRh.Password, TpmRh.Lockout, TpmRh.Endorsement, TpmRh.Platform, TpmRh.PlatformNv];

    public void Register(CommandTable table)
    {
        table.Add(TpmCc.GetCapability, [], 0, c => GetCapability(c, table));
        table.Add(TpmCc.TestParms, [], 0, TestParms);
    }

    /// <summary>
    /// TPMA_CC of a command (Part 2 §8.9): commandIndex, nv (the command may write NV: the
    /// TPMA_CC column of Part 3, or an engine command that saves state), extensive, flushed,
    /// cHandles and rHandle.
    /// </summary>
    public static uint CommandAttributes(CommandDescriptor d)
    {
        ArgumentNullException.ThrowIfNull(d);
        var cc = (uint)d.Code;
        var nv = (d.Flags & CommandFlags.WritesNv) != 0
            || cc is (>= 0x11F and <= 0x122) or (>= 0x124 and <= 0x12E) or (>= 0x132 and <= 0x146 and not 0x13E) or 0x14F or 0x182 or 0x185;
        var extensive = cc is 0x121 or 0x124 or 0x125 or 0x126;
        var flushed = cc is 0x13E or 0x185;
        var value = (TpmaCc)(cc & (uint)TpmaCc.CommandIndexMask) | (TpmaCc)((uint)d.Handles.Length << 25);
        value |= nv ? TpmaCc.Nv : TpmaCc.None;
        value |= extensive ? TpmaCc.Extensive : TpmaCc.None;
        value |= flushed ? TpmaCc.Flushed : TpmaCc.None;
        value |= d.ResponseHandles > 0 ? TpmaCc.RHandle : TpmaCc.None;
        return (uint)value;
    }

    /// <summary>
    /// TPM2_TestParms (Part 3 §30.3): TPMT_PUBLIC_PARMS that this TPM could use for an object
    /// (tpm2_testparms rsa2048, ecc256, aes128cfb ...); the checks are those of a creation template,
    /// and any failure is numbered for parameter 1.
    /// </summary>
    private static void TestParms(CommandContext c)
    {
        var r = c.ReadParameters();
        var type = r.ReadAlg();
        var parameters = PublicParms.Unmarshal(type, ref r);
        r.EnsureConsumed();
        try
        {
            KeyGenerator.ValidateAlgorithms(new TpmtPublic(type, TpmAlgId.Sha256, TpmaObject.None, [], parameters, new DigestPublicId([])));
        }
        catch (TpmException e)
        {
            throw CommandContext.Numbered(e, 1);
        }
    }

    private static void GetCapability(CommandContext c, CommandTable table)
    {
        var r = c.ReadParameters();
        var capability = (TpmCap)r.ReadU32();
        if ((uint)capability is not (<= 0x0A or 0x100))
        {
            // TPM_CAP_Unmarshal rejects values outside TPM_CAP before the next parameter is read (reference, libtpms).
            throw CommandContext.ParameterError(TpmRc.Value, 1, $"0x{(uint)capability:x8} is not a TPM_CAP");
        }

        r.Parameter = 2;
        var property = r.ReadU32();
        r.Parameter = 3;
        var count = r.ReadU32();
        r.EnsureConsumed();

        var data = new TpmWriter(MaxCapBuffer);
        bool more;
        switch (capability)
        {
            case TpmCap.Algs:
                more = WriteList(data, Algorithms, a => (uint)a.Alg >= property, count, MaxCapAlgs, (w, a) =>
                {
                    w.WriteAlg(a.Alg);
                    w.WriteU32((uint)a.Attributes);
                });
                break;
            case TpmCap.Handles:
                more = WriteList(data, Handles(c, property), _ => true, count, MaxCapHandles, (w, h) => w.WriteU32(h));
                break;
            case TpmCap.Commands:
                var descriptors = new List<CommandDescriptor>();
                foreach (var code in table.Codes)
                {
                    if ((uint)code >= property && table.TryGet(code, out var d))
                    {
                        descriptors.Add(d);
                    }
                }

                more = WriteList(data, descriptors, _ => true, count, MaxCapCc, (w, d) => w.WriteU32(CommandAttributes(d)));
                break;
            case TpmCap.PpCommands or TpmCap.AuditCommands:
                // No command needs physical presence; no command is audited.
                data.WriteU32(0);
                more = false;
                break;
            case TpmCap.Pcrs:
                if (property != 0)
                {
                    throw CommandContext.ParameterError(TpmRc.Value, 2, "TPM_CAP_PCRS takes property 0");
                }

                more = WritePcrAllocation(c.State, data, count);
                break;
            case TpmCap.TpmProperties:
                more = WriteList(data, TpmProperties(c, table, property), _ => true, count, MaxTpmProperties, (w, p) =>
                {
                    w.WriteU32(p.Property);
                    w.WriteU32(p.Value);
                });
                break;
            case TpmCap.PcrProperties:
                more = WriteList(data, PcrProperties(property), _ => true, count, MaxPcrProperties, (w, p) =>
                {
                    w.WriteU32(p.Tag);
                    w.WriteU8((byte)p.Select.Length);
                    w.WriteBytes(p.Select);
                });
                break;
            case TpmCap.EccCurves:
                more = WriteList(data, EccCurves, curve => (uint)curve >= property, count, MaxEccCurves, (w, curve) => w.WriteU16((ushort)curve));
                break;
            default:
                throw CommandContext.ParameterError(TpmRc.Value, 1, $"capability 0x{(uint)capability:x8} is not supported");
        }

        c.Output.WriteU8(more ? (byte)1 : (byte)0);
        c.Output.WriteU32((uint)capability);
        c.Output.WriteBytes(data.WrittenSpan);
    }

    /// <summary>Writes count ‖ the first min(requested, limit) matching items; true if matching items were left out.</summary>
    private static bool WriteList<T>(TpmWriter w, IEnumerable<T> items, Func<T, bool> include, uint requested, int limit, Action<TpmWriter, T> write)
    {
        var max = (int)Math.Min(requested, (uint)limit);
        var countAt = w.BeginSize32();
        var written = 0;
        foreach (var item in items)
        {
            if (!include(item))
            {
                continue;
            }

            if (written == max)
            {
                w.PatchU32(countAt, (uint)written);
                return true;
            }

            write(w, item);
            written++;
        }

        w.PatchU32(countAt, (uint)written);
        return false;
    }

    private static List<uint> Handles(CommandContext c, uint property)
    {
        var s = c.State;
        var handles = new List<uint>();
        switch (TpmRh.TypeOf(property))
        {
            case TpmHt.Transient:
                handles.AddRange(s.TransientObjects.Keys.Where(h => h >= property));
                break;
            case TpmHt.Persistent:
                handles.AddRange(s.PersistentObjects.Keys.Where(h => h >= property));
                break;
            case TpmHt.NvIndex:
                handles.AddRange(s.NvIndices.Keys.Where(h => h >= property));
                break;
            case TpmHt.HmacSession or TpmHt.PolicySession:
                // TPM_HT_LOADED_SESSION (0x02) lists loaded sessions, TPM_HT_SAVED_SESSION (0x03) saved ones;
                // HMAC and policy sessions share one slot space, ordered by the low 24 bits. A saved
                // session is listed as 0x02xxxxxx whatever its type, as the reference SessionCapGetSaved
                // (and libtpms) do: the TPM keeps only the slot of a saved context, not its type.
                var saved = TpmRh.TypeOf(property) == TpmHt.PolicySession;
                var from = property & 0x00FFFFFF;
                handles.AddRange(s.Sessions.Values
                    .Where(session => session.IsSaved == saved && (session.Handle & 0x00FFFFFF) >= from)
                    .Select(session => saved ? TpmRh.HmacSessionFirst | (session.Handle & 0x00FFFFFF) : session.Handle)
                    .OrderBy(h => h & 0x00FFFFFF));
                break;
            case TpmHt.Pcr:
                for (var pcr = property; pcr < EngineState.PcrCount; pcr++)
                {
                    handles.Add(pcr);
                }

                break;
            case TpmHt.Permanent:
                handles.AddRange(PermanentHandles.Where(h => h >= property));
                break;
            default:
                throw CommandContext.ParameterError(TpmRc.Handle, 2, $"0x{property:x8} is not a handle type TPM_CAP_HANDLES lists");
        }

        return handles;
    }

    /// <summary>TPML_PCR_SELECTION of every implemented hash bank: all 24 PCRs where allocated, none elsewhere (reference PCRCapGetAllocation).</summary>
    private static bool WritePcrAllocation(EngineState s, TpmWriter w, uint count)
    {
        if (count == 0)
        {
            w.WriteU32(0);
            return true;
        }

        w.WriteU32((uint)HashCommands.ImplementedHashes.Count);
        foreach (var hash in HashCommands.ImplementedHashes)
        {
            w.WriteAlg(hash);
            w.WriteU8(PcrCommands.SelectSize);
            var all = s.Pcrs.ContainsKey(hash) ? (byte)0xFF : (byte)0;
            for (var i = 0; i < PcrCommands.SelectSize; i++)
            {
                w.WriteU8(all);
            }
        }

        return false;
    }

    private static IEnumerable<(uint Tag, byte[] Select)> PcrProperties(uint property)
    {
        for (var tag = property; tag <= PtPcrLast; tag++)
        {
            if (PcrCommands.PropertyBitmap(tag) is { } select)
            {
                yield return (tag, select);
            }
        }
    }

    /// <summary>TPM properties from <paramref name="property"/> to the end of its group (fixed or variable), as the reference scans them.</summary>
    private static IEnumerable<(uint Property, uint Value)> TpmProperties(CommandContext c, CommandTable table, uint property)
    {
        var start = Math.Max(property, PtFixed);
        if (start >= PtVar + PtGroup)
        {
            yield break;
        }

        var end = ((start / PtGroup) * PtGroup) + PtGroup;
        for (var pt = start; pt < end; pt++)
        {
            if (TryGetProperty(c, table, (TpmPt)pt, out var value))
            {
                yield return (pt, value);
            }
        }
    }

    private static uint Ascii(string four) =>
        ((uint)(four.Length > 0 ? four[0] : 0) << 24) | ((uint)(four.Length > 1 ? four[1] : 0) << 16) | ((uint)(four.Length > 2 ? four[2] : 0) << 8) | (four.Length > 3 ? four[3] : 0u);

    private static bool TryGetProperty(CommandContext c, CommandTable table, TpmPt pt, out uint value)
    {
        var s = c.State;
        var o = c.Tpm.Options;
        var loaded = s.Sessions.Values.Count(x => !x.IsSaved);
        uint? v = pt switch
        {
            // Fixed (Part 2 §6.13).
            TpmPt.FamilyIndicator => SpecFamily,
            TpmPt.Level => 0,
            TpmPt.Revision => SpecRevision,
            TpmPt.DayOfYear => SpecDayOfYear,
            TpmPt.Year => SpecYear,
            TpmPt.Manufacturer => Ascii(o.Manufacturer),
            TpmPt.VendorString1 => Ascii("Trus"),
            TpmPt.VendorString2 => Ascii("tSta"),
            TpmPt.VendorString3 => Ascii("ck"),
            TpmPt.VendorString4 => 0,
            TpmPt.VendorTpmType => 1,
            TpmPt.FirmwareVersion1 => (uint)(o.FirmwareVersion >> 32),
            TpmPt.FirmwareVersion2 => (uint)(o.FirmwareVersion & 0xFFFFFFFF),
            TpmPt.InputBuffer => HashCommands.MaxBuffer,
            TpmPt.HrTransientMin => (uint)o.MaxTransientObjects,
            TpmPt.HrPersistentMin => PersistentMin,
            TpmPt.HrLoadedMin => (uint)o.MaxLoadedSessions,
            TpmPt.ActiveSessionsMax => (uint)o.MaxActiveSessions,
            TpmPt.PcrCount => EngineState.PcrCount,
            TpmPt.PcrSelectMin => PcrCommands.SelectSize,
            TpmPt.NvCountersMax => 0, // no limit beyond NV memory
            TpmPt.NvIndexMax => NvCommands.MaxIndexSize,
            TpmPt.Memory => 0x6, // TPMA_MEMORY sharedNV | objectCopiedToRam
            TpmPt.MaxCommandSize => SoftwareTpm.MaxCommandSize,
            TpmPt.MaxResponseSize => SoftwareTpm.MaxCommandSize,
            TpmPt.MaxDigest => 64, // sizeof(TPMU_HA) with SHA-512
            TpmPt.PsFamilyIndicator => 1, // TPM_PS_PC_CLIENT: PCR localities follow the PC Client profile
            TpmPt.PsLevel or TpmPt.PsRevision or TpmPt.PsDayOfYear or TpmPt.PsYear => 0,
            TpmPt.TotalCommands or TpmPt.LibraryCommands => (uint)table.Count,
            TpmPt.VendorCommands => 0,
            TpmPt.NvBufferMax => NvCommands.MaxBufferSize,
            TpmPt.Modes => 0,
            TpmPt.MaxCapBuffer => MaxCapBuffer,

            // Variable.
            TpmPt.Permanent => Permanent(s),
            TpmPt.StartupClear => StartupClear(s),
            TpmPt.HrNvIndex => (uint)s.NvIndices.Count,
            TpmPt.HrLoaded => (uint)loaded,
            TpmPt.HrLoadedAvail => (uint)Math.Max(0, o.MaxLoadedSessions - loaded),
            TpmPt.HrActive => (uint)s.Sessions.Count,
            TpmPt.HrActiveAvail => (uint)Math.Max(0, o.MaxActiveSessions - s.Sessions.Count),
            TpmPt.HrTransientAvail => (uint)Math.Max(0, o.MaxTransientObjects - s.TransientObjects.Count),
            TpmPt.HrPersistent => (uint)s.PersistentObjects.Count,
            TpmPt.HrPersistentAvail => (uint)Math.Max(0, ContextCommands.MaxPersistentObjects - s.PersistentObjects.Count),
            TpmPt.NvCounters => (uint)s.NvIndices.Values.Count(nv => nv.Public.IndexType == 1),
            TpmPt.NvCountersAvail => NvSpaceLeft(s) / (8 + NvCommands.IndexOverhead),
            TpmPt.AlgorithmSet => 0,
            TpmPt.LoadedCurves => (uint)EccCurves.Count,
            TpmPt.LockoutCounter => 0,
            TpmPt.MaxAuthFail => 3,
            TpmPt.LockoutInterval => 1000,
            TpmPt.LockoutRecovery => 1000,
            TpmPt.NvWriteRecovery => 0,
            TpmPt.AuditCounter0 or TpmPt.AuditCounter1 => 0,
            _ => null,
        };
        value = v ?? 0;
        return v is not null;
    }

    /// <summary>TPMA_PERMANENT (Part 2 §8.6): ownerAuthSet, endorsementAuthSet, lockoutAuthSet, tpmGeneratedEPS.</summary>
    private static uint Permanent(EngineState s)
    {
        var value = 1u << 10; // tpmGeneratedEPS: this TPM made its own endorsement seed
        value |= s.Owner.AuthValue.Length != 0 ? 1u : 0;
        value |= s.Endorsement.AuthValue.Length != 0 ? 2u : 0;
        value |= s.Lockout.AuthValue.Length != 0 ? 4u : 0;
        return value;
    }

    /// <summary>TPMA_STARTUP_CLEAR (Part 2 §8.7): phEnable, shEnable, ehEnable, phEnableNV, orderly.</summary>
    private static uint StartupClear(EngineState s)
    {
        var value = 1u << 3; // phEnableNV: there is no TPM2_HierarchyControl to clear it
        value |= s.Platform.Enabled ? 1u : 0;
        value |= s.Owner.Enabled ? 2u : 0;
        value |= s.Endorsement.Enabled ? 4u : 0;
        value |= s.PreviousShutdownOrderly ? 1u << 31 : 0;
        return value;
    }

    private static uint NvSpaceLeft(EngineState s)
    {
        var used = s.NvIndices.Values.Sum(nv => nv.Public.DataSize + NvCommands.IndexOverhead);
        return (uint)Math.Max(0, NvCommands.IndexMemory - used);
    }
}
