namespace TrustStack.Tpm.Hardware;

/// <summary>TPMT_SIGNATURE (TPM 2.0 Part 2 §11.3.4): RSASSA/RSAPSS carry one value, ECDSA/ECDAA/SM2/ECSCHNORR carry (r, s); HMAC carries a TPMT_HA.</summary>
/// <param name="SigAlg">The signature scheme (TPM_ALG_NULL for none).</param>
/// <param name="Hash">The hash the scheme used.</param>
/// <param name="RsaSignature">RSA signature octets (RSA schemes) or HMAC digest (TPM_ALG_HMAC).</param>
/// <param name="SignatureR">ECC r.</param>
/// <param name="SignatureS">ECC s.</param>
public sealed record TpmtSignature(TpmAlgId SigAlg, TpmAlgId Hash, byte[] RsaSignature, byte[] SignatureR, byte[] SignatureS)
{
    /// <summary>An RSA signature.</summary>
    public static TpmtSignature Rsa(TpmAlgId scheme, TpmAlgId hash, byte[] signature) => new(scheme, hash, signature, [], []);

    /// <summary>An ECC signature.</summary>
    public static TpmtSignature Ecc(TpmAlgId scheme, TpmAlgId hash, byte[] r, byte[] s) => new(scheme, hash, [], r, s);

    /// <summary>The null signature.</summary>
    public static TpmtSignature Null { get; } = new(TpmAlgId.Null, TpmAlgId.Null, [], [], []);

    /// <summary>True for the ECC signature schemes.</summary>
    public bool IsEcc => SigAlg is TpmAlgId.Ecdsa or TpmAlgId.Ecdaa or TpmAlgId.Sm2 or TpmAlgId.Ecschnorr;

    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteAlg(SigAlg);
        if (SigAlg == TpmAlgId.Null)
        {
            return;
        }

        writer.WriteAlg(Hash);
        if (IsEcc)
        {
            writer.WriteTpm2b(SignatureR);
            writer.WriteTpm2b(SignatureS);
        }
        else if (SigAlg == TpmAlgId.Hmac)
        {
            writer.WriteBytes(RsaSignature);
        }
        else
        {
            writer.WriteTpm2b(RsaSignature);
        }
    }

    /// <summary>The marshalled structure.</summary>
    public byte[] ToBytes()
    {
        var w = new TpmWriter();
        Marshal(w);
        return w.ToArray();
    }

    /// <summary>Unmarshals the structure.</summary>
    public static TpmtSignature Unmarshal(ref TpmReader reader)
    {
        var alg = reader.ReadAlg();
        switch (alg)
        {
            case TpmAlgId.Null:
                return Null;
            case TpmAlgId.Rsassa or TpmAlgId.Rsapss:
                return Rsa(alg, reader.ReadAlg(), reader.ReadTpm2b(512));
            case TpmAlgId.Ecdsa or TpmAlgId.Ecdaa or TpmAlgId.Sm2 or TpmAlgId.Ecschnorr:
                var hash = reader.ReadAlg();
                return Ecc(alg, hash, reader.ReadTpm2b(66), reader.ReadTpm2b(66));
            case TpmAlgId.Hmac:
                var h = reader.ReadAlg();
                if (!TpmHash.IsSupported(h))
                {
                    throw reader.Fail(TpmRc.Hash, $"HMAC signature with hash {h}");
                }

                return new TpmtSignature(alg, h, reader.ReadBytes(TpmHash.DigestSize(h)).ToArray(), [], []);
            default:
                throw reader.Fail(TpmRc.Scheme, $"signature scheme {alg} is not supported");
        }
    }
}

/// <summary>TPMT_HA: a digest with its algorithm (TPM 2.0 Part 2 §10.3.2).</summary>
/// <param name="HashAlg">The algorithm.</param>
/// <param name="Digest">The digest.</param>
public sealed record TpmtHa(TpmAlgId HashAlg, byte[] Digest)
{
    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteAlg(HashAlg);
        writer.WriteBytes(Digest);
    }

    /// <summary>Unmarshals the structure.</summary>
    public static TpmtHa Unmarshal(ref TpmReader reader)
    {
        var alg = reader.ReadAlg();
        if (!TpmHash.IsSupported(alg))
        {
            throw reader.Fail(TpmRc.Hash, $"digest algorithm {alg} is not supported");
        }

        return new TpmtHa(alg, reader.ReadBytes(TpmHash.DigestSize(alg)).ToArray());
    }
}

/// <summary>A ticket: TPMT_TK_HASHCHECK, TPMT_TK_CREATION, TPMT_TK_VERIFIED, TPMT_TK_AUTH (TPM 2.0 Part 2 §10.7).</summary>
/// <param name="Tag">TPM_ST_HASHCHECK, TPM_ST_CREATION, TPM_ST_VERIFIED, TPM_ST_AUTH_*.</param>
/// <param name="Hierarchy">The hierarchy the ticket was made in.</param>
/// <param name="Digest">The ticket HMAC (empty for a null ticket).</param>
public sealed record TpmtTicket(TpmSt Tag, uint Hierarchy, byte[] Digest)
{
    /// <summary>A null hash-check ticket (TPM_RH_NULL, empty digest).</summary>
    public static TpmtTicket NullHashCheck { get; } = new(TpmSt.Hashcheck, TpmRh.Null, []);

    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteU16((ushort)Tag);
        writer.WriteU32(Hierarchy);
        writer.WriteTpm2b(Digest);
    }

    /// <summary>Unmarshals the structure.</summary>
    public static TpmtTicket Unmarshal(ref TpmReader reader) => new((TpmSt)reader.ReadU16(), reader.ReadU32(), reader.ReadTpm2b(64));
}
