namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_PCR_Extend, PCR_Event, PCR_Read, PCR_Reset (Part 3 §22).</summary>
internal sealed class PcrCommands : ICommandGroup
{
    /// <summary>Digests one TPM2_PCR_Read returns at most (the reference implementation's limit, which tpm2-tools expects).</summary>
    public const int MaxReadDigests = 8;

    /// <summary>Octets in a TPMS_PCR_SELECTION bitmap: PCR_SELECT_MIN = PCR_SELECT_MAX = 3 for 24 PCRs.</summary>
    public const int SelectSize = 3;

    /// <summary>Largest TPM2B_EVENT.</summary>
    public const int MaxEventSize = 1024;

    // PC Client PCR attributes (TCG PC Client Platform TPM Profile, as the reference implementation's
    // s_initAttributes): bit n set = locality n may extend / reset. PCRs 0–15 are the static RTM
    // (extend anywhere, never reset, state-saved), 16 debug, 17–22 DRTM, 23 application.
    private static readonly byte[] ExtendLocalities =
    [
        0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F, 0x1F,
        0x1F, 0x1C, 0x1C, 0x0C, 0x0E, 0x04, 0x04, 0x1F,
    ];

    private static readonly byte[] ResetLocalities =
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x0F, 0x10, 0x10, 0x10, 0x14, 0x14, 0x14, 0x0F,
    ];

    public void Register(CommandTable table)
    {
        // TPMI_DH_PCR+: TPM_RH_NULL is accepted and makes the command a no-op (PCR_Event still hashes).
        HandleSpec[] pcrOrNull = [new(HandleKinds.Pcr | HandleKinds.Null, AuthRole.User)];
        table.Add(TpmCc.PcrExtend, pcrOrNull, 0, PcrExtend);
        table.Add(TpmCc.PcrEvent, pcrOrNull, 0, PcrEvent, CommandFlags.DecryptFirst);
        table.Add(TpmCc.PcrRead, [], 0, PcrRead);
        table.Add(TpmCc.PcrReset, [new(HandleKinds.Pcr, AuthRole.User)], 0, PcrReset);
    }

    /// <summary>True if <paramref name="locality"/> may extend <paramref name="pcr"/>.</summary>
    public static bool IsExtendAllowed(int pcr, byte locality) => locality < 5 && (ExtendLocalities[pcr] & (1 << locality)) != 0;

    /// <summary>True if <paramref name="locality"/> may reset <paramref name="pcr"/> with TPM2_PCR_Reset.</summary>
    public static bool IsResetAllowed(int pcr, byte locality) => locality < 4 && (ResetLocalities[pcr] & (1 << locality)) != 0;

    /// <summary>
    /// PCRs whose change does not bump pcrUpdateCounter (TPM_PT_PCR_NO_INCREMENT): the PC Client
    /// set 16 and 21–23, as libtpms (PCRBelongsTCBGroup) — a policy session's PolicyPCR survives
    /// extends of the debug and application PCRs.
    /// </summary>
    public static bool IsNoIncrement(int pcr) => pcr is 16 or (>= 21 and <= 23);

    /// <summary>PCRs saved by TPM2_Shutdown(STATE) and restored by TPM2_Startup(STATE).</summary>
    public static bool IsStateSaved(int pcr) => pcr < 16;

    /// <summary>The PC Client bitmap of TPM_PT_PCR property <paramref name="tag"/>, or null when the property is not implemented.</summary>
    public static byte[]? PropertyBitmap(uint tag)
    {
        Func<int, bool>? test = tag switch
        {
            0x00 => IsStateSaved, // TPM_PT_PCR_SAVE
            0x01 or 0x03 or 0x05 or 0x07 or 0x09 => pcr => (ExtendLocalities[pcr] & (1 << (int)((tag - 1) / 2))) != 0, // TPM_PT_PCR_EXTEND_Ln
            0x02 or 0x04 or 0x06 or 0x08 or 0x0A => pcr => (ResetLocalities[pcr] & (1 << (int)((tag - 2) / 2))) != 0, // TPM_PT_PCR_RESET_Ln
            0x11 => IsNoIncrement, // TPM_PT_PCR_NO_INCREMENT
            0x12 => pcr => (ResetLocalities[pcr] & 0x10) != 0, // TPM_PT_PCR_DRTM_RESET
            _ => null,
        };
        if (test is null)
        {
            return null;
        }

        var bitmap = new byte[SelectSize];
        for (var pcr = 0; pcr < EngineState.PcrCount; pcr++)
        {
            if (test(pcr))
            {
                bitmap[pcr / 8] |= (byte)(1 << (pcr % 8));
            }
        }

        return bitmap;
    }

    /// <summary>
    /// Records a PCR change: pcrUpdateCounter counts every change outside the TCB group (Part 1 §17.5;
    /// reference PCRChanged). Changing a state-saved PCR after TPM2_Shutdown cancels the orderly
    /// shutdown, as the reference implementation's g_clearOrderly: the saved values would be stale.
    /// </summary>
    public static void Changed(EngineState s, int pcr)
    {
        if (pcr == 0 || !IsNoIncrement(pcr))
        {
            s.PcrUpdateCounter++;
        }

        if (IsStateSaved(pcr))
        {
            s.OrderlyShutdown = null;
        }
    }

    /// <summary>PCR[pcr] := H(PCR[pcr] ‖ digest) in the bank <paramref name="bank"/>, in place and without allocating.</summary>
    public static void ExtendInPlace(TpmAlgId bank, byte[] value, ReadOnlySpan<byte> digest)
    {
        Span<byte> buffer = stackalloc byte[128];
        var input = buffer[..(value.Length + digest.Length)];
        value.CopyTo(input);
        digest.CopyTo(input[value.Length..]);
        TpmHash.HashData(bank, input, value);
    }

    /// <summary>
    /// Reads a TPML_PCR_SELECTION as a TPM unmarshals it: at most one entry per implemented hash
    /// (TPM_RC_SIZE), each an implemented hash (TPM_RC_HASH) with a 3-octet bitmap (TPM_RC_VALUE),
    /// errors numbered with the reader's parameter.
    /// </summary>
    public static PcrSelectionList ReadSelection(ref TpmReader r)
    {
        var count = r.ReadU32();
        if (count > HashCommands.ImplementedHashes.Count)
        {
            throw r.Fail(TpmRc.Size, $"{count} PCR selections exceed the {HashCommands.ImplementedHashes.Count} implemented hashes");
        }

        var list = new PcrSelection[count];
        for (var i = 0; i < list.Length; i++)
        {
            var hash = r.ReadAlg();
            if (!HashCommands.IsImplementedHash(hash))
            {
                throw r.Fail(TpmRc.Hash, $"PCR bank {hash} is not an implemented hash");
            }

            var size = r.ReadU8();
            // PCR_SELECT_MIN = PCR_SELECT_MAX = 3 for 24 PCRs, as in libtpms.
            if (size != SelectSize)
            {
                throw r.Fail(TpmRc.Value, $"sizeofSelect {size}; this TPM takes {SelectSize}");
            }

            list[i] = new PcrSelection(hash, r.ReadBytes(size).ToArray());
        }

        return new PcrSelectionList(list);
    }

    /// <summary>
    /// The selection with the bits of PCRs this TPM does not have cleared: every PCR of an
    /// unallocated bank, and indices 24 and up (reference FilterPcr); entries keep their place.
    /// </summary>
    public static PcrSelectionList Filter(EngineState s, PcrSelectionList selection)
    {
        var list = new PcrSelection[selection.Selections.Count];
        for (var i = 0; i < list.Length; i++)
        {
            var entry = selection.Selections[i];
            var select = new byte[entry.Select.Length];
            if (s.Pcrs.ContainsKey(entry.Hash))
            {
                for (var b = 0; b < select.Length && b * 8 < EngineState.PcrCount; b++)
                {
                    select[b] = entry.Select[b];
                }
            }

            list[i] = new PcrSelection(entry.Hash, select);
        }

        return new PcrSelectionList(list);
    }

    /// <summary>H_hashAlg of the concatenated values of the selected allocated PCRs, banks in list order, PCRs ascending (Part 3 §18.4, PCRComputeCurrentDigest).</summary>
    public static byte[] ComputeDigest(EngineState s, PcrSelectionList selection, TpmAlgId hashAlg)
    {
        // The concatenated values (at most one entry per implemented hash: 4 × 24 × 64 octets) are
        // hashed from one stack copy, with no hash object.
        var total = CopySelected(s, selection, []);
        Span<byte> values = stackalloc byte[total];
        CopySelected(s, selection, values);
        var digest = TpmHash.Hash(hashAlg, values);
        values.Clear();
        return digest;
    }

    /// <summary>Copies the selected allocated PCR values (banks in list order, PCRs ascending) into <paramref name="destination"/>, or only counts them when it is empty; returns their length.</summary>
    private static int CopySelected(EngineState s, PcrSelectionList selection, Span<byte> destination)
    {
        var length = 0;
        foreach (var entry in selection.Selections)
        {
            if (!s.Pcrs.TryGetValue(entry.Hash, out var bank))
            {
                continue;
            }

            for (var pcr = 0; pcr < EngineState.PcrCount && pcr / 8 < entry.Select.Length; pcr++)
            {
                if ((entry.Select[pcr / 8] & (1 << (pcr % 8))) != 0)
                {
                    if (!destination.IsEmpty)
                    {
                        bank[pcr].CopyTo(destination[length..]);
                    }

                    length += bank[pcr].Length;
                }
            }
        }

        return length;
    }

    private static void PcrExtend(CommandContext c)
    {
        // Pass 1 validates the whole TPML_DIGEST_VALUES (reference unmarshalling) before any PCR changes.
        var r = c.ReadParameters();
        var count = r.ReadU32();
        if (count > HashCommands.ImplementedHashes.Count)
        {
            throw CommandContext.ParameterError(TpmRc.Size, 1, $"{count} digests exceed the {HashCommands.ImplementedHashes.Count} implemented hashes");
        }

        for (var i = 0; i < count; i++)
        {
            var alg = r.ReadAlg();
            if (!HashCommands.IsImplementedHash(alg))
            {
                throw r.Fail(TpmRc.Hash, $"digest algorithm {alg} is not implemented");
            }

            _ = r.ReadBytes(TpmHash.DigestSize(alg));
        }

        r.EnsureConsumed();
        var handle = c.Handles[0];
        if (handle == TpmRh.Null)
        {
            return;
        }

        var pcr = (int)handle;
        if (!IsExtendAllowed(pcr, c.Locality))
        {
            throw new TpmException(TpmRc.Locality, $"locality {c.Locality} may not extend PCR {pcr}");
        }

        // Pass 2 extends every listed bank that is allocated; digests for other banks are ignored (Part 3 §22.2).
        var s = c.State;
        var p = new TpmReader(c.Parameters.AsSpan(4));
        for (var i = 0; i < count; i++)
        {
            var alg = p.ReadAlg();
            var digest = p.ReadBytes(TpmHash.DigestSize(alg));
            if (s.Pcrs.TryGetValue(alg, out var bank))
            {
                ExtendInPlace(alg, bank[pcr], digest);
                Changed(s, pcr);
            }
        }
    }

    private static void PcrEvent(CommandContext c)
    {
        var r = c.ReadParameters();
        var eventData = r.ReadTpm2b(MaxEventSize);
        r.EnsureConsumed();
        var handle = c.Handles[0];
        var pcr = (int)handle;
        if (handle != TpmRh.Null && !IsExtendAllowed(pcr, c.Locality))
        {
            throw new TpmException(TpmRc.Locality, $"locality {c.Locality} may not extend PCR {pcr}");
        }

        var s = c.State;
        c.Output.WriteU32((uint)s.Banks.Count);
        foreach (var bank in s.Banks)
        {
            var digest = TpmHash.Hash(bank, eventData);
            c.Output.WriteAlg(bank);
            c.Output.WriteBytes(digest);
            if (handle != TpmRh.Null)
            {
                ExtendInPlace(bank, s.Pcrs[bank][pcr], digest);
                Changed(s, pcr);
            }
        }
    }

    private static void PcrRead(CommandContext c)
    {
        var r = c.ReadParameters();
        var selection = ReadSelection(ref r);
        r.EnsureConsumed();

        // Read banks in order, PCRs ascending, at most eight digests; every bit not read (unallocated
        // banks, PCRs beyond the eighth) is cleared in the returned selection so that the caller asks
        // again for the rest (reference PCRRead).
        var s = c.State;
        var o = c.Output;
        o.WriteU32(s.PcrUpdateCounter);
        o.WriteU32((uint)selection.Selections.Count);
        Span<int> readBank = stackalloc int[MaxReadDigests];
        Span<int> readPcr = stackalloc int[MaxReadDigests];
        Span<byte> selectBuffer = stackalloc byte[PcrSelection.MaxSelectSize];
        var read = 0;
        for (var i = 0; i < selection.Selections.Count; i++)
        {
            var entry = selection.Selections[i];
            s.Pcrs.TryGetValue(entry.Hash, out var bank);
            var select = selectBuffer[..entry.Select.Length];
            select.Clear();
            for (var pcr = 0; pcr < EngineState.PcrCount; pcr++)
            {
                if (bank is null || read == MaxReadDigests || pcr / 8 >= entry.Select.Length || (entry.Select[pcr / 8] & (1 << (pcr % 8))) == 0)
                {
                    continue;
                }

                select[pcr / 8] |= (byte)(1 << (pcr % 8));
                readBank[read] = i;
                readPcr[read] = pcr;
                read++;
            }

            o.WriteAlg(entry.Hash);
            o.WriteU8((byte)select.Length);
            o.WriteBytes(select);
        }

        o.WriteU32((uint)read);
        for (var k = 0; k < read; k++)
        {
            o.WriteTpm2b(s.Pcrs[selection.Selections[readBank[k]].Hash][readPcr[k]]);
        }
    }

    private static void PcrReset(CommandContext c)
    {
        c.ReadParameters().EnsureConsumed();
        var pcr = (int)c.Handles[0];
        if (!IsResetAllowed(pcr, c.Locality))
        {
            throw new TpmException(TpmRc.Locality, $"locality {c.Locality} may not reset PCR {pcr}");
        }

        var s = c.State;
        foreach (var bank in s.Banks)
        {
            Array.Clear(s.Pcrs[bank][pcr]);
        }

        Changed(s, pcr);
    }
}
