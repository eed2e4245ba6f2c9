namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Reads a TPMT_PUBLIC command parameter checking each field while it is unmarshalled, in the
/// order and with the codes of the reference (and libtpms) TPMT_PUBLIC_Unmarshal: type
/// (TPM_RC_TYPE), nameAlg (TPM_RC_HASH), TPMA_OBJECT (TPM_RC_RESERVED_BITS), authPolicy
/// (TPM_RC_SIZE), then the parameters — symmetric (TPM_RC_SYMMETRIC, key bits TPM_RC_VALUE, mode
/// TPM_RC_MODE), scheme (TPM_RC_VALUE for RSA and keyed-hash, TPM_RC_SCHEME for ECC, its hash
/// TPM_RC_HASH), RSA key bits (TPM_RC_VALUE), curve (TPM_RC_CURVE), KDF (TPM_RC_KDF) — and the
/// unique field (TPM_RC_SIZE). A damaged structure therefore stops at the same field, with the
/// same code, as on libtpms; whether the values are usable here is checked afterwards by the
/// command. The accepted sets are libtpms's (a superset of what the engine implements) so that
/// both read the same octets.
/// </summary>
internal static class PublicAreaReader
{
    /// <summary>TPMA_OBJECT bits reserved in TPM 2.0 Part 2 §8.3 (bits 0, 3, 8, 9, 12–15, 20–31).</summary>
    public const uint ReservedObjectAttributes = 0xFFF0_F309;

    private const int MaxDigest = 64;
    private const int MaxRsaKeyBytes = 384;
    private const int MaxEccKeyBytes = 66;

    /// <summary>Reads a TPMT_PUBLIC whose nameAlg may be TPM_ALG_NULL.</summary>
    public static TpmtPublic ReadAllowingNullNameAlg(ref TpmReader r) => Read(ref r, allowNullNameAlg: true);

    /// <summary>Reads a TPMT_PUBLIC whose nameAlg must be a hash.</summary>
    public static TpmtPublic ReadRequiringNameAlg(ref TpmReader r) => Read(ref r, allowNullNameAlg: false);

    private static TpmtPublic Read(ref TpmReader r, bool allowNullNameAlg)
    {
        var type = r.ReadAlg();
        if (type is not (TpmAlgId.Rsa or TpmAlgId.Ecc or TpmAlgId.Keyedhash or TpmAlgId.Symcipher))
        {
            throw r.Fail(TpmRc.Type, $"object type {type}");
        }

        var nameAlg = Hash(ref r, allowNullNameAlg);
        var attributes = r.ReadU32();
        if ((attributes & ReservedObjectAttributes) != 0)
        {
            throw r.Fail(TpmRc.ReservedBits, $"TPMA_OBJECT 0x{attributes:x8} sets reserved bits");
        }

        var authPolicy = r.ReadTpm2b(MaxDigest);
        PublicParms parameters;
        PublicId unique;
        switch (type)
        {
            case TpmAlgId.Keyedhash:
                parameters = new KeyedHashParms(KeyedHashScheme(ref r));
                unique = new DigestPublicId(r.ReadTpm2b(MaxDigest));
                break;
            case TpmAlgId.Symcipher:
                parameters = new SymCipherParms(SymDefObject(ref r, allowNull: false));
                unique = new DigestPublicId(r.ReadTpm2b(MaxDigest));
                break;
            case TpmAlgId.Rsa:
                var rsaSymmetric = SymDefObject(ref r, allowNull: true);
                var rsaScheme = AsymScheme(ref r, isEcc: false);
                var keyBits = r.ReadU16();
                if (keyBits is not (1024 or 2048 or 3072))
                {
                    throw r.Fail(TpmRc.Value, $"RSA key size {keyBits}");
                }

                parameters = new RsaParms(rsaSymmetric, rsaScheme, keyBits, r.ReadU32());
                unique = new RsaPublicId(r.ReadTpm2b(MaxRsaKeyBytes));
                break;
            default:
                var eccSymmetric = SymDefObject(ref r, allowNull: true);
                var eccScheme = AsymScheme(ref r, isEcc: true);
                var curve = (TpmEccCurve)r.ReadU16();
                if ((ushort)curve is not (>= 0x0001 and <= 0x0005 or 0x0010 or 0x0011 or 0x0020))
                {
                    throw r.Fail(TpmRc.Curve, $"curve 0x{(ushort)curve:x4}");
                }

                var kdf = Kdf(ref r);
                parameters = new EccParms(eccSymmetric, eccScheme, curve, kdf);
                unique = new EccPoint(r.ReadTpm2b(MaxEccKeyBytes), r.ReadTpm2b(MaxEccKeyBytes));
                break;
        }

        return new TpmtPublic(type, nameAlg, (TpmaObject)attributes, authPolicy, parameters, unique);
    }

    private static TpmAlgId Hash(ref TpmReader r, bool allowNull)
    {
        var alg = r.ReadAlg();
        return alg is TpmAlgId.Sha1 or TpmAlgId.Sha256 or TpmAlgId.Sha384 or TpmAlgId.Sha512 || (allowNull && alg == TpmAlgId.Null)
            ? alg
            : throw r.Fail(TpmRc.Hash, $"hash algorithm {alg}");
    }

    /// <summary>TPMT_SYM_DEF_OBJECT: AES (128/256), Camellia (128/256), TDES (128/192), with a block mode.</summary>
    private static TpmtSymDef SymDefObject(ref TpmReader r, bool allowNull)
    {
        var alg = r.ReadAlg();
        if (alg == TpmAlgId.Null && allowNull)
        {
            return TpmtSymDef.Null;
        }

        if (alg is not (TpmAlgId.Aes or TpmAlgId.Camellia or TpmAlgId.Tdes))
        {
            throw r.Fail(TpmRc.Symmetric, $"symmetric algorithm {alg}");
        }

        var bits = r.ReadU16();
        var bitsValid = alg == TpmAlgId.Tdes ? bits is 128 or 192 : bits is 128 or 256;
        if (!bitsValid)
        {
            throw r.Fail(TpmRc.Value, $"{alg} key size {bits}");
        }

        var mode = r.ReadAlg();
        if (mode is not (TpmAlgId.Ctr or TpmAlgId.Ofb or TpmAlgId.Cbc or TpmAlgId.Cfb or TpmAlgId.Ecb or TpmAlgId.Cmac or TpmAlgId.Null))
        {
            throw r.Fail(TpmRc.Mode, $"block mode {mode}");
        }

        return new TpmtSymDef(alg, bits, mode);
    }

    /// <summary>TPMT_RSA_SCHEME (bad selector TPM_RC_VALUE) or TPMT_ECC_SCHEME (TPM_RC_SCHEME).</summary>
    private static TpmtScheme AsymScheme(ref TpmReader r, bool isEcc)
    {
        var scheme = r.ReadAlg();
        var valid = isEcc
            ? scheme is TpmAlgId.Ecdsa or TpmAlgId.Sm2 or TpmAlgId.Ecdaa or TpmAlgId.Ecschnorr or TpmAlgId.Ecdh or TpmAlgId.Ecmqv or TpmAlgId.Null
            : scheme is TpmAlgId.Rsassa or TpmAlgId.Rsapss or TpmAlgId.Rsaes or TpmAlgId.Oaep or TpmAlgId.Null;
        if (!valid)
        {
            throw r.Fail(isEcc ? TpmRc.Scheme : TpmRc.Value, $"scheme {scheme}");
        }

        return scheme switch
        {
            TpmAlgId.Null => TpmtScheme.Null,
            TpmAlgId.Rsaes => new TpmtScheme(scheme),
            TpmAlgId.Ecdaa => new TpmtScheme(scheme, Hash(ref r, allowNull: false), r.ReadU16()),
            _ => new TpmtScheme(scheme, Hash(ref r, allowNull: false)),
        };
    }

    /// <summary>TPMT_KEYEDHASH_SCHEME: HMAC, XOR (with a KDF) or TPM_ALG_NULL, else TPM_RC_VALUE.</summary>
    private static TpmtScheme KeyedHashScheme(ref TpmReader r)
    {
        var scheme = r.ReadAlg();
        switch (scheme)
        {
            case TpmAlgId.Null:
                return TpmtScheme.Null;
            case TpmAlgId.Hmac:
                return new TpmtScheme(scheme, Hash(ref r, allowNull: false));
            case TpmAlgId.Xor:
                var hash = Hash(ref r, allowNull: false);
                var kdf = r.ReadAlg();
                return IsKdf(kdf) || kdf == TpmAlgId.Null
                    ? new TpmtScheme(scheme, hash, 0, kdf)
                    : throw r.Fail(TpmRc.Kdf, $"KDF {kdf}");
            default:
                throw r.Fail(TpmRc.Value, $"keyed-hash scheme {scheme}");
        }
    }

    /// <summary>TPMT_KDF_SCHEME: MGF1, KDF1 (SP 800-56A / 800-108), KDF2 with a hash, or TPM_ALG_NULL, else TPM_RC_KDF.</summary>
    private static TpmtScheme Kdf(ref TpmReader r)
    {
        var kdf = r.ReadAlg();
        if (kdf == TpmAlgId.Null)
        {
            return TpmtScheme.Null;
        }

        return IsKdf(kdf)
            ? new TpmtScheme(kdf, Hash(ref r, allowNull: false))
            : throw r.Fail(TpmRc.Kdf, $"KDF {kdf}");
    }

    private static bool IsKdf(TpmAlgId alg) => alg is TpmAlgId.Mgf1 or TpmAlgId.Kdf1Sp80056a or TpmAlgId.Kdf2 or TpmAlgId.Kdf1Sp800108;
}
