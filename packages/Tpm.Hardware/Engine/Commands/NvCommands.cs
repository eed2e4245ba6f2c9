using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// NV storage: TPM2_NV_DefineSpace, NV_UndefineSpace, NV_Write, NV_Read, NV_ReadPublic,
/// NV_Extend, NV_Increment, NV_SetBits, NV_WriteLock, NV_ReadLock (Part 3 §31), with the
/// access rules of the reference implementation's NV_spt.c.
/// </summary>
internal sealed class NvCommands : ICommandGroup
{
    /// <summary>First NV index handle (NV_INDEX_FIRST).</summary>
    public const uint IndexFirst = 0x01000000;

    /// <summary>Last NV index handle (NV_INDEX_LAST).</summary>
    public const uint IndexLast = 0x01FFFFFF;

    /// <summary>Largest index data area (MAX_NV_INDEX_SIZE, TPM_PT_NV_INDEX_MAX).</summary>
    public const int MaxIndexSize = 2048;

    /// <summary>Largest NV_Read/NV_Write transfer (MAX_NV_BUFFER_SIZE, TPM_PT_NV_BUFFER_MAX).</summary>
    public const int MaxBufferSize = 1024;

    /// <summary>Octets of index memory: public areas, auth values and data of all indices must fit (else TPM_RC_NV_SPACE).</summary>
    public const int IndexMemory = 64 * 1024;

    /// <summary>Octets an index costs beyond its data (a TPMS_NV_PUBLIC with a 64-octet policy and an authValue).</summary>
    public const int IndexOverhead = 160;

    // TPMA_NV bits that must be zero (Part 2 §13.4): 8, 9, 20..24.
    private const uint ReservedAttributes = 0x01F00300;

    private const int NtOrdinary = 0;
    private const int NtCounter = 1;
    private const int NtBits = 2;
    private const int NtExtend = 4;
    private const int NtPinFail = 8;
    private const int NtPinPass = 9;

    public void Register(CommandTable table)
    {
        HandleSpec provision = new(HandleKinds.Provision, AuthRole.User);
        HandleSpec nvAuth = new(HandleKinds.NvAuth, AuthRole.User);
        HandleSpec index = new(HandleKinds.NvIndex);
        table.Add(TpmCc.NvDefineSpace, [provision], 0, DefineSpace, CommandFlags.WritesNv | CommandFlags.DecryptFirst);
        table.Add(TpmCc.NvUndefineSpace, [provision, index], 0, UndefineSpace, CommandFlags.WritesNv);
        table.Add(TpmCc.NvWrite, [nvAuth, index], 0, Write, CommandFlags.WritesNv | CommandFlags.DecryptFirst);
        table.Add(TpmCc.NvRead, [nvAuth, index], 0, Read, CommandFlags.EncryptFirst);
        table.Add(TpmCc.NvReadPublic, [index], 0, ReadPublic, CommandFlags.EncryptFirst);
        table.Add(TpmCc.NvExtend, [nvAuth, index], 0, Extend, CommandFlags.WritesNv | CommandFlags.DecryptFirst);
        table.Add(TpmCc.NvIncrement, [nvAuth, index], 0, Increment, CommandFlags.WritesNv);
        table.Add(TpmCc.NvSetBits, [nvAuth, index], 0, SetBits, CommandFlags.WritesNv);
        table.Add(TpmCc.NvWriteLock, [nvAuth, index], 0, WriteLock, CommandFlags.WritesNv);
        table.Add(TpmCc.NvReadLock, [nvAuth, index], 0, ReadLock, CommandFlags.WritesNv);
    }

    /// <summary>Commands that write an index, for which its authValue/authPolicy counts only with AUTHWRITE/POLICYWRITE (reference IsWriteOperation).</summary>
    public static bool IsWriteOperation(TpmCc code) =>
        code is TpmCc.NvWrite or TpmCc.NvIncrement or TpmCc.NvSetBits or TpmCc.NvExtend or TpmCc.NvWriteLock;

    /// <summary>
    /// Called by the authorization check when an NV index is the authorized entity: its authValue
    /// is available only with TPMA_NV_AUTHWRITE (writes) or TPMA_NV_AUTHREAD (everything else), its
    /// authPolicy only when set and with POLICYWRITE / POLICYREAD, and the ADMIN role always needs a
    /// policy (reference SessionProcess.c IsAuthValueAvailable / IsAuthPolicyAvailable).
    /// </summary>
    /// <exception cref="TpmException">TPM_RC_AUTH_TYPE or TPM_RC_AUTH_UNAVAILABLE.</exception>
    public static void CheckAuthAvailable(TpmCc code, AuthRole role, NvIndex nv, bool policySession)
    {
        var a = nv.Public.Attributes;
        if (!policySession)
        {
            if (role != AuthRole.User)
            {
                throw new TpmException(TpmRc.AuthType, $"{code}: the {role} role of an NV index needs a policy session");
            }

            var available = IsWriteOperation(code) ? (a & TpmaNv.AuthWrite) != 0 : (a & TpmaNv.AuthRead) != 0;
            if (!available)
            {
                throw new TpmException(TpmRc.AuthUnavailable, $"{code}: TPMA_NV of 0x{nv.Public.NvIndex:x8} does not allow its authValue ({(IsWriteOperation(code) ? "AUTHWRITE" : "AUTHREAD")} clear)");
            }

            return;
        }

        var policyAvailable = nv.AuthPolicy.Length != 0
            && (role != AuthRole.User || (IsWriteOperation(code) ? (a & TpmaNv.PolicyWrite) != 0 : (a & TpmaNv.PolicyRead) != 0));
        if (!policyAvailable)
        {
            throw new TpmException(TpmRc.AuthUnavailable, $"{code}: TPMA_NV of 0x{nv.Public.NvIndex:x8} does not allow its authPolicy");
        }
    }

    /// <summary>
    /// TPM Reset / Restart processing of NV indices (reference NvSetStartupAttributes): read locks
    /// clear; non-counter indices with CLEAR_STCLEAR (or ORDERLY, at a Reset) become unwritten;
    /// write locks clear unless the index is written and WRITEDEFINE. Nothing changes at a Resume.
    /// </summary>
    public static void OnStartup(EngineState s, bool resume, bool reset)
    {
        if (resume)
        {
            return;
        }

        foreach (var nv in s.NvIndices.Values)
        {
            var a = nv.Public.Attributes & ~TpmaNv.ReadLocked;
            if (nv.Public.IndexType != NtCounter
                && ((a & TpmaNv.ClearStClear) != 0 || ((a & TpmaNv.Orderly) != 0 && reset)))
            {
                a &= ~TpmaNv.Written;
            }

            if ((a & TpmaNv.Written) == 0 || (a & TpmaNv.WriteDefine) == 0)
            {
                a &= ~TpmaNv.WriteLocked;
            }

            if (a != nv.Public.Attributes)
            {
                nv.Public = nv.Public with { Attributes = a };
            }
        }
    }

    /// <summary>
    /// Reads a TPM2B_NV_PUBLIC as the reference unmarshals it: non-empty, index in the NV range
    /// (TPM_RC_VALUE), implemented nameAlg (TPM_RC_HASH), no reserved attribute (TPM_RC_RESERVED_BITS),
    /// policy at most 64 octets and data at most <see cref="MaxIndexSize"/> (TPM_RC_SIZE).
    /// </summary>
    public static TpmsNvPublic ReadNvPublic(ref TpmReader r)
    {
        return SizedStructures.Read(ref r, ReadNvPublicArea, "TPM2B_NV_PUBLIC")!;
    }

    private static TpmsNvPublic ReadNvPublicArea(ref TpmReader inner)
    {
        var nvIndex = inner.ReadU32();
        if (nvIndex is < IndexFirst or > IndexLast)
        {
            throw inner.Fail(TpmRc.Value, $"0x{nvIndex:x8} is not an NV index handle");
        }

        var nameAlg = inner.ReadAlg();
        if (!HashCommands.IsImplementedHash(nameAlg))
        {
            throw inner.Fail(TpmRc.Hash, $"nameAlg {nameAlg} is not an implemented hash");
        }

        var attributes = inner.ReadU32();
        if ((attributes & ReservedAttributes) != 0)
        {
            throw inner.Fail(TpmRc.ReservedBits, $"TPMA_NV 0x{attributes:x8} sets reserved bits");
        }

        var authPolicy = inner.ReadTpm2b(64);
        var dataSize = inner.ReadU16();
        if (dataSize > MaxIndexSize)
        {
            throw inner.Fail(TpmRc.Size, $"dataSize {dataSize} exceeds {MaxIndexSize}");
        }

        return new TpmsNvPublic(nvIndex, nameAlg, (TpmaNv)attributes, authPolicy, dataSize);
    }

    private static void DefineSpace(CommandContext c)
    {
        var r = c.ReadParameters();
        var auth = r.ReadTpm2b(64);
        try
        {
            r.Parameter = 2;
            var info = ReadNvPublic(ref r);
            r.EnsureConsumed();
            CheckDefinition(c, info, auth);
            c.State.NvIndices[info.NvIndex] = new NvIndex(info, auth, new byte[info.DataSize]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(auth);
        }
    }

    // Part 3 §31.3 in the reference's order.
    private static void CheckDefinition(CommandContext c, TpmsNvPublic info, byte[] auth)
    {
        static TpmException Attr(string detail) => CommandContext.ParameterError(TpmRc.Attributes, 2, detail);
        static TpmException Size(string detail) => CommandContext.ParameterError(TpmRc.Size, 2, detail);
        var a = info.Attributes;
        var digestSize = TpmHash.DigestSize(info.NameAlg);
        var authHandle = c.Handles[0];

        // TPM2_NV_UndefineSpaceSpecial is not implemented, so an index that only it could delete is refused.
        if ((a & TpmaNv.PolicyDelete) != 0)
        {
            throw Attr("POLICY_DELETE needs TPM2_NV_UndefineSpaceSpecial, which this TPM does not implement");
        }

        if (info.AuthPolicy.Length != 0 && info.AuthPolicy.Length != digestSize)
        {
            throw Size($"authPolicy of {info.AuthPolicy.Length} octets for nameAlg {info.NameAlg}");
        }

        if (TpmObject.TrimmedLength(auth) > digestSize)
        {
            throw CommandContext.ParameterError(TpmRc.Size, 1, $"auth longer than a {info.NameAlg} digest");
        }

        var type = info.IndexType;
        if (type is not (NtOrdinary or NtCounter or NtBits or NtExtend or NtPinFail or NtPinPass))
        {
            throw Attr($"TPM_NT {type} is not a TPM_NT");
        }

        switch (type)
        {
            case NtOrdinary when info.DataSize > MaxIndexSize:
                throw Size($"dataSize {info.DataSize} exceeds {MaxIndexSize}");
            case NtExtend when info.DataSize != digestSize:
                throw Size($"an extend index of nameAlg {info.NameAlg} has dataSize {digestSize}");
            case NtCounter or NtBits or NtPinFail or NtPinPass when info.DataSize != 8:
                throw Size("counter, bit-field and PIN indices have dataSize 8");
        }

        if (type == NtCounter && (a & TpmaNv.ClearStClear) != 0)
        {
            throw Attr("a counter cannot be CLEAR_STCLEAR");
        }

        if (type == NtPinFail && (a & TpmaNv.NoDA) == 0)
        {
            throw Attr("a PIN-fail index must be NO_DA");
        }

        if (type is NtPinFail or NtPinPass && (a & (TpmaNv.AuthWrite | TpmaNv.GlobalLock | TpmaNv.WriteDefine)) != 0)
        {
            throw Attr("a PIN index cannot be AUTHWRITE, GLOBALLOCK or WRITEDEFINE");
        }

        if ((a & (TpmaNv.Written | TpmaNv.WriteLocked | TpmaNv.ReadLocked)) != 0)
        {
            throw Attr("WRITTEN, WRITELOCKED and READLOCKED must be clear");
        }

        if ((a & (TpmaNv.OwnerRead | TpmaNv.PpRead | TpmaNv.AuthRead | TpmaNv.PolicyRead)) == 0)
        {
            throw Attr("no way to read the index");
        }

        if ((a & (TpmaNv.OwnerWrite | TpmaNv.PpWrite | TpmaNv.AuthWrite | TpmaNv.PolicyWrite)) == 0)
        {
            throw Attr("no way to write the index");
        }

        if ((a & TpmaNv.ClearStClear) != 0 && (a & TpmaNv.WriteDefine) != 0)
        {
            throw Attr("CLEAR_STCLEAR with WRITEDEFINE");
        }

        // The creator must be able to delete the index: PLATFORMCREATE iff defined with platformAuth.
        if (((a & TpmaNv.PlatformCreate) != 0) != (authHandle == TpmRh.Platform))
        {
            throw CommandContext.HandleError(TpmRc.Attributes, 1, "PLATFORMCREATE must be set exactly when TPM_RH_PLATFORM defines the index");
        }

        if (info.DataSize > MaxBufferSize && (a & TpmaNv.WriteAll) != 0)
        {
            throw Size($"WRITEALL index larger than {MaxBufferSize} octets cannot be written");
        }

        if (type is NtPinFail or NtPinPass)
        {
            // The reference's checks above apply (so a malformed PIN index fails as on libtpms);
            // PIN indices themselves are not implemented (docs/interop-differences.md).
            throw Attr($"TPM_NT {type} (PIN index) is not implemented");
        }

        if (c.State.NvIndices.ContainsKey(info.NvIndex))
        {
            throw new TpmException(TpmRc.NvDefined, $"NV index 0x{info.NvIndex:x8} is already defined");
        }

        var used = 0;
        foreach (var nv in c.State.NvIndices.Values)
        {
            used += nv.Public.DataSize + IndexOverhead;
        }

        if (used + info.DataSize + IndexOverhead > IndexMemory)
        {
            throw new TpmException(TpmRc.NvSpace, $"no NV memory for {info.DataSize} more octets");
        }
    }

    private static void UndefineSpace(CommandContext c)
    {
        c.ReadParameters().EnsureConsumed();
        var nv = c.Nv(1);
        if ((nv.Public.Attributes & TpmaNv.PolicyDelete) != 0)
        {
            throw CommandContext.HandleError(TpmRc.Attributes, 2, "a POLICY_DELETE index is deleted only by TPM2_NV_UndefineSpaceSpecial");
        }

        // The owner deletes only what the owner defined; the platform may delete any index.
        if (c.Handles[0] == TpmRh.Owner && nv.IsPlatformCreated)
        {
            throw new TpmException(TpmRc.NvAuthorization, $"ownerAuth cannot delete the platform index 0x{nv.Public.NvIndex:x8}");
        }

        c.State.NvIndices.Remove(nv.Public.NvIndex);
        CryptographicOperations.ZeroMemory(nv.Data);
        CryptographicOperations.ZeroMemory(nv.AuthValue);
    }

    private static void Write(CommandContext c)
    {
        var r = c.ReadParameters();
        var data = r.ReadTpm2b(MaxBufferSize);
        r.Parameter = 2;
        var offset = r.ReadU16();
        r.EnsureConsumed();
        var nv = c.Nv(1);
        var a = nv.Public.Attributes;
        CheckWriteAccess(c, nv);
        if (nv.Public.IndexType != NtOrdinary)
        {
            throw new TpmException(TpmRc.Attributes, $"TPM2_NV_Write cannot write the TPM_NT {nv.Public.IndexType} index 0x{nv.Public.NvIndex:x8}");
        }

        if (offset > nv.Public.DataSize)
        {
            throw CommandContext.ParameterError(TpmRc.Value, 2, $"offset {offset} beyond dataSize {nv.Public.DataSize}");
        }

        if (data.Length > nv.Public.DataSize - offset)
        {
            throw new TpmException(TpmRc.NvRange, $"{data.Length} octets at offset {offset} exceed dataSize {nv.Public.DataSize}");
        }

        if ((a & TpmaNv.WriteAll) != 0 && data.Length < nv.Public.DataSize)
        {
            throw new TpmException(TpmRc.NvRange, $"WRITEALL: {data.Length} of {nv.Public.DataSize} octets");
        }

        data.CopyTo(nv.Data, offset);
        MarkWritten(nv);
    }

    private static void Read(CommandContext c)
    {
        var r = c.ReadParameters();
        var size = r.ReadU16();
        r.Parameter = 2;
        var offset = r.ReadU16();
        r.EnsureConsumed();
        var nv = c.Nv(1);
        CheckReadAccess(c, nv);
        if (size > MaxBufferSize)
        {
            throw CommandContext.ParameterError(TpmRc.Value, 1, $"size {size} exceeds {MaxBufferSize}");
        }

        if (offset > nv.Public.DataSize)
        {
            throw CommandContext.ParameterError(TpmRc.Value, 2, $"offset {offset} beyond dataSize {nv.Public.DataSize}");
        }

        if (size > nv.Public.DataSize - offset)
        {
            throw new TpmException(TpmRc.NvRange, $"{size} octets at offset {offset} exceed dataSize {nv.Public.DataSize}");
        }

        c.Output.WriteTpm2b(nv.Data.AsSpan(offset, size));
    }

    private static void ReadPublic(CommandContext c)
    {
        c.ReadParameters().EnsureConsumed();
        var nv = c.Nv(0);
        var mark = c.Output.BeginSize16();
        nv.Public.Marshal(c.Output);
        c.Output.EndSize16(mark);
        c.Output.WriteTpm2b(nv.Name);
    }

    private static void Extend(CommandContext c)
    {
        var r = c.ReadParameters();
        var data = r.ReadTpm2b(MaxBufferSize);
        r.EnsureConsumed();
        var nv = c.Nv(1);
        CheckWriteAccess(c, nv);
        if (nv.Public.IndexType != NtExtend)
        {
            throw CommandContext.HandleError(TpmRc.Attributes, 2, $"0x{nv.Public.NvIndex:x8} is not an extend index");
        }

        // The data of an unwritten extend index counts as zeros.
        var old = (nv.Public.Attributes & TpmaNv.Written) != 0 ? nv.Data : new byte[nv.Public.DataSize];
        nv.Data = TpmHash.Hash(nv.Public.NameAlg, old, data);
        MarkWritten(nv);
    }

    private static void Increment(CommandContext c)
    {
        c.ReadParameters().EnsureConsumed();
        var nv = c.Nv(1);
        CheckWriteAccess(c, nv);
        if (nv.Public.IndexType != NtCounter)
        {
            throw CommandContext.HandleError(TpmRc.Attributes, 2, $"0x{nv.Public.NvIndex:x8} is not a counter index");
        }

        // A counter's first value is the largest any counter on this TPM holds, so deleting and
        // re-creating a counter does not roll it back (Part 1 §37.2.4).
        var value = (nv.Public.Attributes & TpmaNv.Written) != 0 ? BinaryPrimitives.ReadUInt64BigEndian(nv.Data) : MaxCounter(c.State);
        if (value == ulong.MaxValue)
        {
            throw new TpmException(TpmRc.NvRange, "counter at its maximum");
        }

        BinaryPrimitives.WriteUInt64BigEndian(nv.Data, value + 1);
        MarkWritten(nv);
    }

    private static void SetBits(CommandContext c)
    {
        var r = c.ReadParameters();
        var bits = r.ReadU64();
        r.EnsureConsumed();
        var nv = c.Nv(1);
        CheckWriteAccess(c, nv);
        if (nv.Public.IndexType != NtBits)
        {
            throw CommandContext.HandleError(TpmRc.Attributes, 2, $"0x{nv.Public.NvIndex:x8} is not a bit-field index");
        }

        var old = (nv.Public.Attributes & TpmaNv.Written) != 0 ? BinaryPrimitives.ReadUInt64BigEndian(nv.Data) : 0UL;
        BinaryPrimitives.WriteUInt64BigEndian(nv.Data, old | bits);
        MarkWritten(nv);
    }

    private static void WriteLock(CommandContext c)
    {
        c.ReadParameters().EnsureConsumed();
        var nv = c.Nv(1);
        var a = nv.Public.Attributes;
        if ((a & TpmaNv.WriteLocked) != 0)
        {
            return; // Locking a locked index is no error.
        }

        CheckWriteAccess(c, nv);
        if ((a & (TpmaNv.WriteDefine | TpmaNv.WriteStClear)) == 0)
        {
            throw CommandContext.HandleError(TpmRc.Attributes, 2, "neither WRITEDEFINE nor WRITE_STCLEAR: the index cannot be write-locked");
        }

        nv.SetAttribute(TpmaNv.WriteLocked, true);
    }

    private static void ReadLock(CommandContext c)
    {
        c.ReadParameters().EnsureConsumed();
        var nv = c.Nv(1);
        var a = nv.Public.Attributes;
        if ((a & TpmaNv.ReadLocked) != 0)
        {
            return;
        }

        CheckAuthorizingEntity(c, nv, TpmaNv.OwnerRead, TpmaNv.PpRead);
        if ((a & TpmaNv.ReadStClear) == 0)
        {
            throw CommandContext.HandleError(TpmRc.Attributes, 2, "READ_STCLEAR is clear: the index cannot be read-locked");
        }

        nv.SetAttribute(TpmaNv.ReadLocked, true);
    }

    /// <summary>Reference NvWriteAccessChecks: TPM_RC_NV_LOCKED, then TPM_RC_NV_AUTHORIZATION.</summary>
    private static void CheckWriteAccess(CommandContext c, NvIndex nv)
    {
        if ((nv.Public.Attributes & TpmaNv.WriteLocked) != 0)
        {
            throw new TpmException(TpmRc.NvLocked, $"NV index 0x{nv.Public.NvIndex:x8} is write-locked");
        }

        CheckAuthorizingEntity(c, nv, TpmaNv.OwnerWrite, TpmaNv.PpWrite);
    }

    /// <summary>Reference NvReadAccessChecks: TPM_RC_NV_LOCKED, TPM_RC_NV_AUTHORIZATION, then TPM_RC_NV_UNINITIALIZED.</summary>
    internal static void CheckReadAccess(CommandContext c, NvIndex nv, int authIndex = 0)
    {
        if ((nv.Public.Attributes & TpmaNv.ReadLocked) != 0)
        {
            throw new TpmException(TpmRc.NvLocked, $"NV index 0x{nv.Public.NvIndex:x8} is read-locked");
        }

        CheckAuthorizingEntity(c, nv, TpmaNv.OwnerRead, TpmaNv.PpRead, authIndex);
        if ((nv.Public.Attributes & TpmaNv.Written) == 0)
        {
            throw new TpmException(TpmRc.NvUninitialized, $"NV index 0x{nv.Public.NvIndex:x8} has not been written");
        }
    }

    /// <summary>
    /// Owner authorization needs OWNERx, platform authorization PPx; otherwise the index must
    /// authorize itself, whose AUTHx/POLICYx attributes the authorization check already enforced
    /// (<see cref="CheckAuthAvailable"/>).
    /// </summary>
    private static void CheckAuthorizingEntity(CommandContext c, NvIndex nv, TpmaNv ownerBit, TpmaNv platformBit, int authIndex = 0)
    {
        var authHandle = c.Handles[authIndex];
        var a = nv.Public.Attributes;
        var allowed = authHandle switch
        {
            TpmRh.Owner => (a & ownerBit) != 0,
            TpmRh.Platform => (a & platformBit) != 0,
            _ => authHandle == nv.Public.NvIndex,
        };
        if (!allowed)
        {
            throw new TpmException(TpmRc.NvAuthorization, $"0x{authHandle:x8} may not authorize this access to NV index 0x{nv.Public.NvIndex:x8}");
        }
    }

    private static void MarkWritten(NvIndex nv)
    {
        if ((nv.Public.Attributes & TpmaNv.Written) == 0)
        {
            nv.SetAttribute(TpmaNv.Written, true);
        }
    }

    private static ulong MaxCounter(EngineState s)
    {
        var max = 0UL;
        foreach (var nv in s.NvIndices.Values)
        {
            if (nv.Public.IndexType == NtCounter && (nv.Public.Attributes & TpmaNv.Written) != 0)
            {
                max = Math.Max(max, BinaryPrimitives.ReadUInt64BigEndian(nv.Data));
            }
        }

        return max;
    }
}
