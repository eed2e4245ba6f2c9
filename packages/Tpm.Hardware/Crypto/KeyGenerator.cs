using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Object creation: template validation as a TPM does it and generation of the public and
/// sensitive areas of RSA, ECC, KEYEDHASH and SYMCIPHER objects (TPM 2.0 Part 1 §27, Part 3
/// TPM2_Create / TPM2_CreatePrimary; structure of ms-tpm-20-ref CryptCreateObject).
/// Errors are TpmExceptions with the base response code; the engine adds the parameter number.
/// </summary>
internal static class KeyGenerator
{
    /// <summary>The label of the primary-object derivation (ms-tpm-20-ref PRIMARY_OBJECT_CREATION).</summary>
    public const string PrimaryObjectCreationLabel = "Primary Object Creation";

    /// <summary>
    /// Creates an ordinary object (TPM2_Create) with randomness from <paramref name="random"/>.
    /// <paramref name="parent"/> is the parent's public area for the parent-dependent checks;
    /// when null the parent is assumed to be fixedTPM (a primary storage key).
    /// </summary>
    public static (TpmtPublic Public, TpmtSensitive Sensitive) CreateOrdinary(TpmtPublic template, TpmsSensitiveCreate sensitiveCreate, IRandomSource random, TpmtPublic? parent = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(sensitiveCreate);
        ArgumentNullException.ThrowIfNull(random);
        Validate(template, sensitiveCreate, isPrimary: false, parent);
        return Generate(template, sensitiveCreate, random);
    }

    /// <summary>
    /// Creates a primary object (TPM2_CreatePrimary): a deterministic function of the hierarchy
    /// seed, the template and the sensitive data. The randomness is the KDFa stream
    /// KDFa(kdfHash, seed, "Primary Object Creation", Name(template), sensitiveCreate.data, ...)
    /// (see <see cref="KdfRandomSource"/>), consumed exactly as an ordinary creation would.
    /// </summary>
    /// <param name="kdfHash">The KDF hash; null for the template's nameAlg.</param>
    /// <param name="hierarchySeed">The hierarchy's primary seed.</param>
    /// <param name="template">The public template (its unique field makes different keys from one seed).</param>
    /// <param name="sensitiveCreate">The caller's authValue and data.</param>
    public static (TpmtPublic Public, TpmtSensitive Sensitive) CreatePrimary(TpmAlgId? kdfHash, ReadOnlySpan<byte> hierarchySeed, TpmtPublic template, TpmsSensitiveCreate sensitiveCreate)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(sensitiveCreate);
        Validate(template, sensitiveCreate, isPrimary: true, parent: null);
        var hash = kdfHash ?? template.NameAlg;
        using var random = new KdfRandomSource(hash, hierarchySeed, PrimaryObjectCreationLabel, template.GetName(), sensitiveCreate.Data);
        return Generate(template, sensitiveCreate, random);
    }

    /// <summary>
    /// Checks a creation template the way a TPM does: first the values an unmarshaller would
    /// reject (hash, key size, curve, scheme, symmetric definition), then CreateChecks and
    /// PublicAttributesValidation (Part 3 TPM2_Create, ms-tpm-20-ref Object_spt.c).
    /// </summary>
    /// <exception cref="TpmException">The template is unusable; the code says why.</exception>
    public static void Validate(TpmtPublic template, TpmsSensitiveCreate sensitiveCreate, bool isPrimary, TpmtPublic? parent)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(sensitiveCreate);
        ValidateAlgorithms(template);
        CreateChecks(template, sensitiveCreate, isPrimary, parent);
        if (TpmObject.TrimmedLength(sensitiveCreate.UserAuth) > TpmHash.DigestSize(template.NameAlg))
        {
            throw new TpmException(TpmRc.Size, "the authValue is longer than the nameAlg digest");
        }
    }

    /// <summary>The values an unmarshaller rejects: unimplemented hash, key size, curve, scheme or symmetric definition.</summary>
    internal static void ValidateAlgorithms(TpmtPublic t)
    {
        if (t.NameAlg != TpmAlgId.Null && !TpmHash.IsSupported(t.NameAlg))
        {
            throw new TpmException(TpmRc.Hash, $"nameAlg {t.NameAlg} is not implemented");
        }

        switch (t.Parameters)
        {
            case RsaParms rsa:
                CheckObjectSymmetric(rsa.Symmetric);
                CheckScheme(rsa.Scheme, TpmAlgId.Rsassa, TpmAlgId.Rsapss, TpmAlgId.Rsaes, TpmAlgId.Oaep);
                if (rsa.KeyBits is not (1024 or 2048 or 3072))
                {
                    throw new TpmException(TpmRc.Value, $"RSA key size {rsa.KeyBits} is not implemented");
                }

                var e = rsa.EffectiveExponent;
                if (e < 3 || e % 2 == 0)
                {
                    throw new TpmException(TpmRc.Range, $"RSA exponent {e} is not usable");
                }

                break;
            case EccParms ecc:
                CheckObjectSymmetric(ecc.Symmetric);
                CheckScheme(ecc.Scheme, TpmAlgId.Ecdsa, TpmAlgId.Ecdh, TpmAlgId.Ecdaa);
                if (!EccCurves.IsSupported(ecc.Curve))
                {
                    throw new TpmException(TpmRc.Curve, $"ECC curve {ecc.Curve} is not implemented");
                }

                if (ecc.Kdf.Scheme != TpmAlgId.Null)
                {
                    throw new TpmException(TpmRc.Kdf, "the ECC key's KDF must be TPM_ALG_NULL");
                }

                break;
            case KeyedHashParms keyed:
                CheckScheme(keyed.Scheme, TpmAlgId.Hmac, TpmAlgId.Xor);
                if (keyed.Scheme.Scheme == TpmAlgId.Xor && keyed.Scheme.Kdf != TpmAlgId.Kdf1Sp800108)
                {
                    throw new TpmException(TpmRc.Kdf, "XOR keyed-hash objects use KDF1_SP800_108");
                }

                break;
            case SymCipherParms sym:
                if (sym.Sym.Algorithm != TpmAlgId.Aes)
                {
                    throw new TpmException(TpmRc.Symmetric, $"symmetric algorithm {sym.Sym.Algorithm} is not implemented");
                }

                CheckAes(sym.Sym);
                break;
            default:
                throw new TpmException(TpmRc.Type, $"object type {t.Type} is not implemented");
        }

        var typeMatches = t.Type switch
        {
            TpmAlgId.Rsa => t.Parameters is RsaParms,
            TpmAlgId.Ecc => t.Parameters is EccParms,
            TpmAlgId.Keyedhash => t.Parameters is KeyedHashParms,
            TpmAlgId.Symcipher => t.Parameters is SymCipherParms,
            _ => false,
        };
        if (!typeMatches)
        {
            throw new TpmException(TpmRc.Type, $"parameters {t.Parameters.GetType().Name} do not match type {t.Type}");
        }
    }

    private static void CheckObjectSymmetric(TpmtSymDef sym)
    {
        if (sym.Algorithm == TpmAlgId.Null)
        {
            return;
        }

        if (sym.Algorithm != TpmAlgId.Aes)
        {
            throw new TpmException(TpmRc.Symmetric, $"symmetric algorithm {sym.Algorithm} is not implemented");
        }

        CheckAes(sym);
    }

    private static void CheckAes(TpmtSymDef sym)
    {
        if (sym.KeyBits is not (128 or 256))
        {
            throw new TpmException(TpmRc.Value, $"AES key size {sym.KeyBits} is not implemented");
        }

        if (sym.Mode is not (TpmAlgId.Cfb or TpmAlgId.Ctr or TpmAlgId.Ofb or TpmAlgId.Cbc or TpmAlgId.Ecb or TpmAlgId.Null))
        {
            throw new TpmException(TpmRc.Mode, $"block mode {sym.Mode} is not implemented");
        }
    }

    private static void CheckScheme(TpmtScheme scheme, params ReadOnlySpan<TpmAlgId> allowed)
    {
        if (scheme.Scheme == TpmAlgId.Null)
        {
            return;
        }

        if (!allowed.Contains(scheme.Scheme))
        {
            throw new TpmException(TpmRc.Scheme, $"scheme {scheme.Scheme} is not implemented for this object type");
        }

        if (scheme.Scheme != TpmAlgId.Rsaes && !TpmHash.IsSupported(scheme.HashAlg))
        {
            throw new TpmException(TpmRc.Hash, $"scheme hash {scheme.HashAlg} is not implemented");
        }
    }

    // ms-tpm-20-ref CreateChecks, PublicAttributesValidation and SchemeChecks.
    private static void CreateChecks(TpmtPublic t, TpmsSensitiveCreate sensitiveCreate, bool isPrimary, TpmtPublic? parent)
    {
        var a = t.ObjectAttributes;
        var origin = a.HasFlag(TpmaObject.SensitiveDataOrigin);
        var sign = a.HasFlag(TpmaObject.Sign);
        var decrypt = a.HasFlag(TpmaObject.Decrypt);
        var restricted = a.HasFlag(TpmaObject.Restricted);
        var dataSize = sensitiveCreate.Data.Length;
        if (!origin && dataSize == 0)
        {
            throw new TpmException(TpmRc.Attributes, "sensitiveDataOrigin is CLEAR but no sensitive data was given");
        }

        if (!isPrimary && origin && dataSize != 0)
        {
            throw new TpmException(TpmRc.Attributes, "sensitiveDataOrigin is SET but sensitive data was given");
        }

        switch (t.Type)
        {
            case TpmAlgId.Keyedhash:
                if (!sign && !decrypt && origin)
                {
                    throw new TpmException(TpmRc.Attributes, "a data object cannot have TPM-generated data");
                }

                goto case TpmAlgId.Symcipher;
            case TpmAlgId.Symcipher:
                if (restricted && !origin && (a.HasFlag(TpmaObject.FixedParent) || a.HasFlag(TpmaObject.FixedTpm)))
                {
                    throw new TpmException(TpmRc.Attributes, "a restricted symmetric key with caller-supplied data cannot be fixedParent or fixedTPM");
                }

                break;
            default:
                if (!origin)
                {
                    throw new TpmException(TpmRc.Attributes, "asymmetric keys must have sensitiveDataOrigin SET");
                }

                break;
        }

        PublicAttributesValidation(t, parent);
    }

    /// <summary>ms-tpm-20-ref PublicAttributesValidation: the checks TPM2_Load and TPM2_LoadExternal share with creation.</summary>
    internal static void PublicAttributesValidation(TpmtPublic t, TpmtPublic? parent)
    {
        var a = t.ObjectAttributes;
        var sign = a.HasFlag(TpmaObject.Sign);
        var decrypt = a.HasFlag(TpmaObject.Decrypt);
        var restricted = a.HasFlag(TpmaObject.Restricted);
        if (t.NameAlg == TpmAlgId.Null)
        {
            throw new TpmException(TpmRc.Hash, "nameAlg is TPM_ALG_NULL");
        }

        if (t.AuthPolicy.Length != 0 && t.AuthPolicy.Length != TpmHash.DigestSize(t.NameAlg))
        {
            throw new TpmException(TpmRc.Size, "authPolicy is not a nameAlg digest");
        }

        var parentFixedTpm = parent is null || parent.ObjectAttributes.HasFlag(TpmaObject.FixedTpm);
        if (parentFixedTpm)
        {
            if (a.HasFlag(TpmaObject.FixedParent) != a.HasFlag(TpmaObject.FixedTpm))
            {
                throw new TpmException(TpmRc.Attributes, "fixedTPM and fixedParent must agree under a fixedTPM parent");
            }
        }
        else if (a.HasFlag(TpmaObject.FixedTpm))
        {
            throw new TpmException(TpmRc.Attributes, "fixedTPM under a parent that is not fixedTPM");
        }

        if (sign == decrypt)
        {
            if (restricted)
            {
                throw new TpmException(TpmRc.Attributes, "a restricted key is either a signing or a decryption key");
            }

            if (t.Type != TpmAlgId.Keyedhash && !sign)
            {
                throw new TpmException(TpmRc.Attributes, "only a data object has neither sign nor decrypt");
            }
        }

        if (a.HasFlag(TpmaObject.FixedTpm) && a.HasFlag(TpmaObject.EncryptedDuplication))
        {
            throw new TpmException(TpmRc.Attributes, "encryptedDuplication on a fixedTPM object");
        }

        if (parent is not null && !parentFixedTpm
            && a.HasFlag(TpmaObject.EncryptedDuplication) != parent.ObjectAttributes.HasFlag(TpmaObject.EncryptedDuplication))
        {
            throw new TpmException(TpmRc.Attributes, "encryptedDuplication must match the parent's");
        }

        SchemeChecks(t, parent);
    }

    /// <summary>ms-tpm-20-ref SchemeChecks (also the only check of a public-only TPM2_LoadExternal).</summary>
    internal static void SchemeChecks(TpmtPublic t, TpmtPublic? parent)
    {
        var a = t.ObjectAttributes;
        var sign = a.HasFlag(TpmaObject.Sign);
        var decrypt = a.HasFlag(TpmaObject.Decrypt);
        var restricted = a.HasFlag(TpmaObject.Restricted);
        TpmtSymDef? symmetric = null;
        switch (t.Parameters)
        {
            case SymCipherParms sym:
                symmetric = sym.Sym;
                if (decrypt && sym.Sym.Mode == TpmAlgId.Null && restricted)
                {
                    throw new TpmException(TpmRc.Scheme, "a symmetric parent needs a block mode");
                }

                break;
            case KeyedHashParms keyed:
                var scheme = keyed.Scheme.Scheme;
                if (sign == decrypt)
                {
                    if (scheme != TpmAlgId.Null)
                    {
                        throw new TpmException(TpmRc.Scheme, "a keyed-hash object with sign == decrypt needs scheme TPM_ALG_NULL");
                    }
                }
                else if (sign && scheme != TpmAlgId.Hmac)
                {
                    throw new TpmException(TpmRc.Scheme, "a keyed-hash signing key needs the HMAC scheme");
                }
                else if (decrypt && scheme != TpmAlgId.Xor)
                {
                    throw new TpmException(TpmRc.Scheme, "a keyed-hash decryption key needs the XOR scheme");
                }

                break;
            default:
                var asymScheme = t.Parameters is RsaParms r ? r.Scheme : ((EccParms)t.Parameters).Scheme;
                symmetric = t.Parameters.Symmetric;
                var isSignScheme = asymScheme.Scheme is TpmAlgId.Rsassa or TpmAlgId.Rsapss or TpmAlgId.Ecdsa or TpmAlgId.Ecdaa;
                if (sign == decrypt)
                {
                    if (asymScheme.Scheme != TpmAlgId.Null)
                    {
                        throw new TpmException(TpmRc.Scheme, "a key that both signs and decrypts needs scheme TPM_ALG_NULL");
                    }
                }
                else if (sign)
                {
                    if (!isSignScheme && (restricted || asymScheme.Scheme != TpmAlgId.Null))
                    {
                        throw new TpmException(TpmRc.Scheme, $"{asymScheme.Scheme} is not a signing scheme");
                    }
                }
                else if (restricted)
                {
                    if (asymScheme.Scheme != TpmAlgId.Null)
                    {
                        throw new TpmException(TpmRc.Scheme, "a restricted decryption key needs scheme TPM_ALG_NULL");
                    }
                }
                else if (asymScheme.Scheme != TpmAlgId.Null && isSignScheme)
                {
                    throw new TpmException(TpmRc.Scheme, $"{asymScheme.Scheme} is not a decryption scheme");
                }

                if ((!restricted || !decrypt) && symmetric.Algorithm != TpmAlgId.Null)
                {
                    throw new TpmException(TpmRc.Symmetric, "only a storage key has a symmetric algorithm");
                }

                break;
        }

        if (symmetric is not null && restricted && decrypt)
        {
            if (symmetric.Algorithm == TpmAlgId.Null)
            {
                throw new TpmException(TpmRc.Symmetric, "a storage key needs a symmetric algorithm");
            }

            if (t.Type != TpmAlgId.Symcipher && symmetric.Mode != TpmAlgId.Cfb)
            {
                // TPM 2.0 Part 2 §12.2.3.2: a parent's symmetric mode is CFB.
                throw new TpmException(TpmRc.Mode, "a storage key's symmetric mode must be CFB");
            }

            if (parent is not null && a.HasFlag(TpmaObject.FixedParent))
            {
                if (t.NameAlg != parent.NameAlg)
                {
                    throw new TpmException(TpmRc.Hash, "a non-duplicable storage key must use its parent's nameAlg");
                }

                if (symmetric != parent.Parameters.Symmetric)
                {
                    throw new TpmException(TpmRc.Symmetric, "a non-duplicable storage key must use its parent's symmetric algorithm");
                }
            }
        }
    }

    private static (TpmtPublic Public, TpmtSensitive Sensitive) Generate(TpmtPublic template, TpmsSensitiveCreate sensitiveCreate, IRandomSource random)
    {
        var a = template.ObjectAttributes;
        var origin = a.HasFlag(TpmaObject.SensitiveDataOrigin);
        var data = origin ? [] : sensitiveCreate.Data;
        byte[] sensitive;
        PublicId? unique = null;
        switch (template.Parameters)
        {
            case RsaParms rsa:
                (sensitive, unique) = GenerateRsa(rsa, random);
                break;
            case EccParms ecc:
                (sensitive, unique) = GenerateEcc(ecc, random);
                break;
            case KeyedHashParms keyed:
                sensitive = KeyedHashSensitive(template, keyed, data, random);
                break;
            case SymCipherParms sym:
                var keyOctets = sym.Sym.KeyBits / 8;
                if (data.Length != 0 && data.Length != keyOctets)
                {
                    throw new TpmException(TpmRc.KeySize, $"a {sym.Sym.KeyBits}-bit key cannot be {data.Length} octets");
                }

                sensitive = data.Length != 0 ? (byte[])data.Clone() : random.GetBytes(keyOctets);
                break;
            default:
                throw new TpmException(TpmRc.Type, $"object type {template.Type} is not implemented");
        }

        var seedValue = random.GetBytes(TpmHash.DigestSize(template.NameAlg));
        if (template.Type is TpmAlgId.Keyedhash or TpmAlgId.Symcipher)
        {
            unique = new DigestPublicId(SymmetricUnique(template, seedValue, sensitive));
        }
        else if (a.HasFlag(TpmaObject.Sign) || !a.HasFlag(TpmaObject.Restricted))
        {
            // Only asymmetric parents keep a seed for their children (CryptCreateObject).
            CryptographicOperations.ZeroMemory(seedValue);
            seedValue = [];
        }

        var authValue = sensitiveCreate.UserAuth.AsSpan(0, TpmObject.TrimmedLength(sensitiveCreate.UserAuth)).ToArray();
        return (template.WithUnique(unique!), new TpmtSensitive(template.Type, authValue, seedValue, sensitive));
    }

    private static (byte[] Prime, PublicId Unique) GenerateRsa(RsaParms rsa, IRandomSource random)
    {
        var (p, q) = RsaPrimes.GeneratePair(rsa.KeyBits, rsa.EffectiveExponent, random);
        var n = p * q;
        var modulus = new byte[rsa.KeyBits / 8];
        n.TryWriteBytes(modulus, out _, isUnsigned: true, isBigEndian: true);
        var prime = new byte[rsa.KeyBits / 16];
        p.TryWriteBytes(prime, out _, isUnsigned: true, isBigEndian: true);
        return (prime, new RsaPublicId(modulus));
    }

    private static (byte[] Scalar, PublicId Unique) GenerateEcc(EccParms ecc, IRandomSource random)
    {
        var curve = EccCurves.Get(ecc.Curve);
        var d = curve.RandomScalar(random);
        var scalar = curve.EncodeScalar(d);
        if (curve.DotNetCurve is { } dotNetCurve)
        {
            using var key = ECDsa.Create(new ECParameters { Curve = dotNetCurve, D = scalar });
            var q = key.ExportParameters(false).Q;
            return (scalar, new EccPoint(q.X!, q.Y!));
        }

        return (scalar, curve.EncodePoint(curve.Domain.G.Multiply(d)));
    }

    private static byte[] KeyedHashSensitive(TpmtPublic template, KeyedHashParms keyed, byte[] data, IRandomSource random)
    {
        var hash = keyed.Scheme.Scheme == TpmAlgId.Null ? template.NameAlg : keyed.Scheme.HashAlg;
        if (data.Length == 0)
        {
            return random.GetBytes(TpmHash.DigestSize(hash));
        }

        var a = template.ObjectAttributes;
        if ((a.HasFlag(TpmaObject.Sign) || a.HasFlag(TpmaObject.Decrypt)) && data.Length > BlockSize(hash))
        {
            throw new TpmException(TpmRc.Size, $"a {hash} key is at most {BlockSize(hash)} octets");
        }

        return (byte[])data.Clone();
    }

    /// <summary>
    /// unique of a KEYEDHASH or SYMCIPHER object: HMAC_nameAlg(seedValue, sensitive) for a
    /// symmetric parent, H_nameAlg(seedValue ‖ sensitive) otherwise (CryptComputeSymmetricUnique).
    /// </summary>
    internal static byte[] SymmetricUnique(TpmtPublic template, byte[] seedValue, byte[] sensitive)
    {
        ArgumentNullException.ThrowIfNull(template);
        var a = template.ObjectAttributes;
        return a.HasFlag(TpmaObject.Restricted) && a.HasFlag(TpmaObject.Decrypt)
            ? TpmHash.Hmac(template.NameAlg, seedValue, sensitive)
            : TpmHash.Hash(template.NameAlg, seedValue, sensitive);
    }

    private static int BlockSize(TpmAlgId hash) => hash is TpmAlgId.Sha384 or TpmAlgId.Sha512 ? 128 : 64;
}
