namespace TrustStack.Tpm.Hardware;

/// <summary>The answer of TPM2_NV_ReadPublic.</summary>
/// <param name="NvPublic">The index's public area.</param>
/// <param name="Name">The index's Name (nameAlg ‖ H(TPMS_NV_PUBLIC)).</param>
public sealed record NvReadPublicResult(TpmsNvPublic NvPublic, byte[] Name);

/// <summary>NV storage commands (TPM 2.0 Part 3 §31).</summary>
public sealed partial class Tpm2
{
    private const int DefaultNvBufferMax = 1024;

    private readonly Dictionary<uint, TpmsNvPublic> _nvPublics = [];
    private int _nvBufferMax;

    /// <summary>TPM2_NV_DefineSpace.</summary>
    /// <param name="authHandle">TPM_RH_OWNER or TPM_RH_PLATFORM (the latter with TPMA_NV_PLATFORMCREATE).</param>
    /// <param name="publicInfo">The index's public area (TPMA_NV_WRITTEN clear).</param>
    /// <param name="auth">The index's authValue.</param>
    /// <param name="hierarchyAuth">Authorization of <paramref name="authHandle"/>; the empty password by default.</param>
    /// <exception cref="TpmException">For example TPM_RC_NV_DEFINED, TPM_RC_ATTRIBUTES, TPM_RC_SIZE.</exception>
    public void NvDefineSpace(uint authHandle, TpmsNvPublic publicInfo, ReadOnlySpan<byte> auth, TpmAuthorization? hierarchyAuth = null)
    {
        ArgumentNullException.ThrowIfNull(publicInfo);
        var authCopy = auth.ToArray();
        Execute(TpmCc.NvDefineSpace, [authHandle], [hierarchyAuth ?? TpmAuthorization.EmptyPassword], w =>
        {
            w.WriteTpm2b(authCopy);
            var mark = w.BeginSize16();
            publicInfo.Marshal(w);
            w.EndSize16(mark);
        });
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(authCopy);
        RememberNvPublic(publicInfo);
    }

    /// <summary>TPM2_NV_UndefineSpace.</summary>
    /// <param name="authHandle">TPM_RH_OWNER or TPM_RH_PLATFORM.</param>
    /// <param name="nvIndex">The index.</param>
    /// <param name="hierarchyAuth">Authorization of <paramref name="authHandle"/>; the empty password by default.</param>
    /// <exception cref="TpmException">For example TPM_RC_NV_AUTHORIZATION when the owner deletes a platform index.</exception>
    public void NvUndefineSpace(uint authHandle, uint nvIndex, TpmAuthorization? hierarchyAuth = null)
    {
        Execute(TpmCc.NvUndefineSpace, [authHandle, nvIndex], [hierarchyAuth ?? TpmAuthorization.EmptyPassword], null);
        _nvPublics.Remove(nvIndex);
        ForgetName(nvIndex);
    }

    /// <summary>TPM2_NV_Write, split into as many commands as TPM_PT_NV_BUFFER_MAX requires.</summary>
    /// <param name="authHandle">The index itself, TPM_RH_OWNER or TPM_RH_PLATFORM.</param>
    /// <param name="nvIndex">The index.</param>
    /// <param name="data">The data.</param>
    /// <param name="offset">Where to write in the index.</param>
    /// <param name="auth">Authorization of <paramref name="authHandle"/>; the empty password by default.</param>
    /// <exception cref="TpmException">For example TPM_RC_NV_RANGE, TPM_RC_NV_LOCKED, TPM_RC_NV_AUTHORIZATION.</exception>
    public void NvWrite(uint authHandle, uint nvIndex, ReadOnlySpan<byte> data, ushort offset = 0, TpmAuthorization? auth = null)
    {
        var all = data.ToArray();
        var chunk = NvBufferMax();
        var done = 0;
        do
        {
            var piece = all.AsSpan(done, Math.Min(chunk, all.Length - done)).ToArray();
            var at = checked((ushort)(offset + done));
            Execute(TpmCc.NvWrite, [authHandle, nvIndex], [auth ?? TpmAuthorization.EmptyPassword], w =>
            {
                w.WriteTpm2b(piece);
                w.WriteU16(at);
            });
            NvChanged(nvIndex, TpmaNv.Written);
            done += piece.Length;
        }
        while (done < all.Length);
    }

    /// <summary>TPM2_NV_Read, split into as many commands as TPM_PT_NV_BUFFER_MAX requires.</summary>
    /// <param name="authHandle">The index itself, TPM_RH_OWNER or TPM_RH_PLATFORM.</param>
    /// <param name="nvIndex">The index.</param>
    /// <param name="size">Octets to read.</param>
    /// <param name="offset">Where to read in the index.</param>
    /// <param name="auth">Authorization of <paramref name="authHandle"/>; the empty password by default.</param>
    /// <exception cref="TpmException">For example TPM_RC_NV_UNINITIALIZED, TPM_RC_NV_RANGE.</exception>
    public byte[] NvRead(uint authHandle, uint nvIndex, ushort size, ushort offset = 0, TpmAuthorization? auth = null)
    {
        var result = new byte[size];
        var chunk = NvBufferMax();
        var done = 0;
        do
        {
            var n = checked((ushort)Math.Min(chunk, size - done));
            var at = checked((ushort)(offset + done));
            var r = Execute(TpmCc.NvRead, [authHandle, nvIndex], [auth ?? TpmAuthorization.EmptyPassword], w =>
            {
                w.WriteU16(n);
                w.WriteU16(at);
            }).Reader();
            var piece = r.ReadTpm2b();
            if (piece.Length != n)
            {
                throw new TpmException(TpmRc.Size, $"TPM2_NV_Read returned {piece.Length} octets, not {n}");
            }

            piece.CopyTo(result, done);
            done += n;
        }
        while (done < size);
        return result;
    }

    /// <summary>TPM2_NV_ReadPublic; records the index's Name for HMAC sessions.</summary>
    /// <param name="nvIndex">The index.</param>
    /// <exception cref="TpmException">TPM_RC_HANDLE when the index is not defined.</exception>
    public NvReadPublicResult NvReadPublic(uint nvIndex)
    {
        var r = Execute(TpmCc.NvReadPublic, [nvIndex], [], null).Reader();
        var nvPublic = TpmsNvPublic.UnmarshalSized(ref r);
        var name = r.ReadTpm2b();
        _nvPublics[nvIndex] = nvPublic;
        SetName(nvIndex, name);
        return new NvReadPublicResult(nvPublic, name);
    }

    /// <summary>TPM2_NV_Extend: index data := H_nameAlg(data ‖ <paramref name="data"/>) for a TPM_NT_EXTEND index.</summary>
    /// <param name="authHandle">The index itself, TPM_RH_OWNER or TPM_RH_PLATFORM.</param>
    /// <param name="nvIndex">The index.</param>
    /// <param name="data">Data to extend, at most 1024 octets.</param>
    /// <param name="auth">Authorization of <paramref name="authHandle"/>; the empty password by default.</param>
    /// <exception cref="TpmException">For example TPM_RC_ATTRIBUTES for an index that is not an extend index.</exception>
    public void NvExtend(uint authHandle, uint nvIndex, ReadOnlySpan<byte> data, TpmAuthorization? auth = null)
    {
        var copy = data.ToArray();
        Execute(TpmCc.NvExtend, [authHandle, nvIndex], [auth ?? TpmAuthorization.EmptyPassword], w => w.WriteTpm2b(copy));
        NvChanged(nvIndex, TpmaNv.Written);
    }

    /// <summary>TPM2_NV_Increment of a TPM_NT_COUNTER index.</summary>
    /// <param name="authHandle">The index itself, TPM_RH_OWNER or TPM_RH_PLATFORM.</param>
    /// <param name="nvIndex">The index.</param>
    /// <param name="auth">Authorization of <paramref name="authHandle"/>; the empty password by default.</param>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public void NvIncrement(uint authHandle, uint nvIndex, TpmAuthorization? auth = null)
    {
        Execute(TpmCc.NvIncrement, [authHandle, nvIndex], [auth ?? TpmAuthorization.EmptyPassword], null);
        NvChanged(nvIndex, TpmaNv.Written);
    }

    /// <summary>TPM2_NV_SetBits: ORs <paramref name="bits"/> into a TPM_NT_BITS index.</summary>
    /// <param name="authHandle">The index itself, TPM_RH_OWNER or TPM_RH_PLATFORM.</param>
    /// <param name="nvIndex">The index.</param>
    /// <param name="bits">Bits to set.</param>
    /// <param name="auth">Authorization of <paramref name="authHandle"/>; the empty password by default.</param>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public void NvSetBits(uint authHandle, uint nvIndex, ulong bits, TpmAuthorization? auth = null)
    {
        Execute(TpmCc.NvSetBits, [authHandle, nvIndex], [auth ?? TpmAuthorization.EmptyPassword], w => w.WriteU64(bits));
        NvChanged(nvIndex, TpmaNv.Written);
    }

    /// <summary>TPM2_NV_WriteLock (index with TPMA_NV_WRITEDEFINE or TPMA_NV_WRITE_STCLEAR).</summary>
    /// <param name="authHandle">The index itself, TPM_RH_OWNER or TPM_RH_PLATFORM.</param>
    /// <param name="nvIndex">The index.</param>
    /// <param name="auth">Authorization of <paramref name="authHandle"/>; the empty password by default.</param>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public void NvWriteLock(uint authHandle, uint nvIndex, TpmAuthorization? auth = null)
    {
        Execute(TpmCc.NvWriteLock, [authHandle, nvIndex], [auth ?? TpmAuthorization.EmptyPassword], null);
        NvChanged(nvIndex, TpmaNv.WriteLocked);
    }

    /// <summary>TPM2_NV_ReadLock (index with TPMA_NV_READ_STCLEAR).</summary>
    /// <param name="authHandle">The index itself, TPM_RH_OWNER or TPM_RH_PLATFORM.</param>
    /// <param name="nvIndex">The index.</param>
    /// <param name="auth">Authorization of <paramref name="authHandle"/>; the empty password by default.</param>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public void NvReadLock(uint authHandle, uint nvIndex, TpmAuthorization? auth = null)
    {
        Execute(TpmCc.NvReadLock, [authHandle, nvIndex], [auth ?? TpmAuthorization.EmptyPassword], null);
        NvChanged(nvIndex, TpmaNv.ReadLocked);
    }

    private void RememberNvPublic(TpmsNvPublic nvPublic)
    {
        _nvPublics[nvPublic.NvIndex] = nvPublic;
        SetName(nvPublic.NvIndex, nvPublic.GetName());
    }

    /// <summary>A command set <paramref name="attribute"/>, which changes the index's Name: update it, or forget it when the public area is unknown.</summary>
    private void NvChanged(uint nvIndex, TpmaNv attribute)
    {
        if (_nvPublics.TryGetValue(nvIndex, out var nvPublic))
        {
            if ((nvPublic.Attributes & attribute) == 0)
            {
                RememberNvPublic(nvPublic with { Attributes = nvPublic.Attributes | attribute });
            }
        }
        else
        {
            ForgetName(nvIndex);
        }
    }

    /// <summary>TPM_PT_NV_BUFFER_MAX, asked once.</summary>
    private int NvBufferMax()
    {
        if (_nvBufferMax == 0)
        {
            try
            {
                var data = GetCapability(TpmCap.TpmProperties, (uint)TpmPt.NvBufferMax, 1);
                _nvBufferMax = data.TpmProperties.FirstOrDefault(p => p.Property == TpmPt.NvBufferMax) is { Value: > 0 and <= ushort.MaxValue } p
                    ? (int)p.Value
                    : DefaultNvBufferMax;
            }
            catch (TpmException)
            {
                _nvBufferMax = DefaultNvBufferMax;
            }
        }

        return _nvBufferMax;
    }
}
