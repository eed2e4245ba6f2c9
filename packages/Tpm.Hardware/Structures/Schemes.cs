namespace TrustStack.Tpm.Hardware;

/// <summary>
/// A scheme with its details: TPMT_SIG_SCHEME, TPMT_RSA_SCHEME, TPMT_ECC_SCHEME,
/// TPMT_KEYEDHASH_SCHEME, TPMT_ASYM_SCHEME (TPM 2.0 Part 2 §11.2). All share one wire shape:
/// the scheme selector, then (unless TPM_ALG_NULL or RSAES) a hash algorithm; ECDAA adds a
/// UINT16 count and XOR a KDF.
/// </summary>
/// <param name="Scheme">The scheme selector.</param>
/// <param name="HashAlg">The scheme's hash (TPM_ALG_NULL when none).</param>
/// <param name="Count">ECDAA commit count.</param>
/// <param name="Kdf">XOR KDF.</param>
public sealed record TpmtScheme(TpmAlgId Scheme, TpmAlgId HashAlg = TpmAlgId.Null, ushort Count = 0, TpmAlgId Kdf = TpmAlgId.Null)
{
    /// <summary>TPM_ALG_NULL: no scheme.</summary>
    public static TpmtScheme Null { get; } = new(TpmAlgId.Null);

    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteAlg(Scheme);
        if (Scheme is TpmAlgId.Null or TpmAlgId.Rsaes)
        {
            return;
        }

        writer.WriteAlg(HashAlg);
        if (Scheme == TpmAlgId.Ecdaa)
        {
            writer.WriteU16(Count);
        }
        else if (Scheme == TpmAlgId.Xor)
        {
            writer.WriteAlg(Kdf);
        }
    }

    /// <summary>Unmarshals the structure.</summary>
    public static TpmtScheme Unmarshal(ref TpmReader reader)
    {
        var scheme = reader.ReadAlg();
        if (scheme is TpmAlgId.Null or TpmAlgId.Rsaes)
        {
            return scheme == TpmAlgId.Null ? Null : new TpmtScheme(scheme);
        }

        var hash = reader.ReadAlg();
        return scheme switch
        {
            TpmAlgId.Ecdaa => new TpmtScheme(scheme, hash, reader.ReadU16()),
            TpmAlgId.Xor => new TpmtScheme(scheme, hash, 0, reader.ReadAlg()),
            _ => new TpmtScheme(scheme, hash),
        };
    }
}

/// <summary>TPMT_SYM_DEF / TPMT_SYM_DEF_OBJECT: a symmetric algorithm, key size and mode (TPM 2.0 Part 2 §11.1.6).</summary>
/// <param name="Algorithm">TPM_ALG_AES, TPM_ALG_XOR or TPM_ALG_NULL.</param>
/// <param name="KeyBits">Key size (for XOR: the hash algorithm).</param>
/// <param name="Mode">Block mode (TPM_ALG_CFB); absent for XOR.</param>
public sealed record TpmtSymDef(TpmAlgId Algorithm, ushort KeyBits = 0, TpmAlgId Mode = TpmAlgId.Null)
{
    /// <summary>TPM_ALG_NULL.</summary>
    public static TpmtSymDef Null { get; } = new(TpmAlgId.Null);

    /// <summary>AES-128-CFB, the storage-key and session default.</summary>
    public static TpmtSymDef Aes128Cfb { get; } = new(TpmAlgId.Aes, 128, TpmAlgId.Cfb);

    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteAlg(Algorithm);
        if (Algorithm == TpmAlgId.Null)
        {
            return;
        }

        writer.WriteU16(KeyBits);
        if (Algorithm != TpmAlgId.Xor)
        {
            writer.WriteAlg(Mode);
        }
    }

    /// <summary>Unmarshals the structure.</summary>
    public static TpmtSymDef Unmarshal(ref TpmReader reader)
    {
        var alg = reader.ReadAlg();
        if (alg == TpmAlgId.Null)
        {
            return Null;
        }

        var bits = reader.ReadU16();
        return alg == TpmAlgId.Xor ? new TpmtSymDef(alg, bits) : new TpmtSymDef(alg, bits, reader.ReadAlg());
    }
}
