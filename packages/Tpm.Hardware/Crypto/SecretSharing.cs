using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Asymmetric secret sharing to a TPM key (TPM 2.0 Part 1 §24, ms-tpm-20-ref CryptSecretEncrypt /
/// CryptSecretDecrypt): the seed of MakeCredential ("IDENTITY"), salted sessions ("SECRET") and
/// duplication ("DUPLICATE").
/// RSA: seed = random nameAlg-digest-size octets, encrypted with OAEP(nameAlg, label).
/// ECC: an ephemeral key on the key's curve; Z = x(d_e·Q);
/// seed = KDFe(nameAlg, Z, label, x(Q_e), x(Q), digestBits); the encrypted secret is TPMS_ECC_POINT(Q_e).
/// </summary>
internal static class SecretSharing
{
    /// <summary>Creates a seed and its encryption to <paramref name="key"/>.</summary>
    /// <exception cref="TpmException">TPM_RC_ATTRIBUTES (not a decryption key), TPM_RC_KEY (bad public key), TPM_RC_TYPE (not RSA or ECC).</exception>
    public static (byte[] Seed, byte[] EncryptedSecret) Encrypt(TpmtPublic key, string label, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(random);
        if (!key.ObjectAttributes.HasFlag(TpmaObject.Decrypt))
        {
            throw new TpmException(TpmRc.Attributes, "secrets are shared only with decryption keys");
        }

        var digestSize = TpmHash.DigestSize(key.NameAlg);
        switch (key.Type)
        {
            case TpmAlgId.Rsa:
                var seed = random.GetBytes(digestSize);
                return (seed, TpmPublicCrypto.RsaEncryptOaep(key, seed, key.NameAlg, label, random));
            case TpmAlgId.Ecc:
                var (curve, q) = TpmPublicCrypto.EccPublic(key);
                var de = curve.RandomScalar(random);
                var qe = curve.EncodePoint(curve.Domain.G.Multiply(de));
                var product = q.Multiply(de).Normalize();
                if (product.IsInfinity)
                {
                    throw new TpmException(TpmRc.NoResult, "ECDH product is the point at infinity");
                }

                var z = product.AffineXCoord.ToBigInteger().ToByteArrayUnsigned().PadLeft(curve.CoordinateSize);
                var keyX = ((EccPoint)key.Unique).X;
                var eccSeed = TpmKdf.KdfE(key.NameAlg, z, label, qe.X, keyX, digestSize * 8);
                CryptographicOperations.ZeroMemory(z);
                var writer = new TpmWriter();
                qe.Marshal(writer);
                return (eccSeed, writer.ToArray());
            default:
                throw new TpmException(TpmRc.Type, $"secrets cannot be shared with {key.Type} objects");
        }
    }

    /// <summary>Recovers the seed from <paramref name="encryptedSecret"/> with the private key.</summary>
    /// <exception cref="TpmException">TPM_RC_ATTRIBUTES, TPM_RC_SCHEME (RSA key with a non-OAEP scheme), TPM_RC_VALUE (decryption failed or seed too long), TPM_RC_ECC_POINT, TPM_RC_INSUFFICIENT / TPM_RC_SIZE (malformed point).</exception>
    public static byte[] Decrypt(TpmPrivateKey key, TpmtPublic keyPublic, string label, ReadOnlySpan<byte> encryptedSecret)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(keyPublic);
        ArgumentNullException.ThrowIfNull(label);
        if (!keyPublic.ObjectAttributes.HasFlag(TpmaObject.Decrypt))
        {
            throw new TpmException(TpmRc.Attributes, "secrets are shared only with decryption keys");
        }

        var digestSize = TpmHash.DigestSize(keyPublic.NameAlg);
        switch (keyPublic.Type)
        {
            case TpmAlgId.Rsa:
                var scheme = ((RsaParms)keyPublic.Parameters).Scheme;
                var hash = scheme.Scheme switch
                {
                    TpmAlgId.Null => keyPublic.NameAlg,
                    TpmAlgId.Oaep => scheme.HashAlg,
                    _ => throw new TpmException(TpmRc.Scheme, $"secrets to RSA keys use OAEP, not {scheme.Scheme}"),
                };
                var seed = key.RsaDecryptOaep(encryptedSecret, hash, label);
                if (seed.Length > TpmHash.DigestSize(hash))
                {
                    CryptographicOperations.ZeroMemory(seed);
                    throw new TpmException(TpmRc.Value, "the decrypted seed is longer than a digest");
                }

                return seed;
            case TpmAlgId.Ecc:
                var reader = new TpmReader(encryptedSecret);
                var point = EccPoint.UnmarshalPoint(ref reader);
                reader.EnsureConsumed();
                var z = key.EcdhZ(point);
                var eccSeed = TpmKdf.KdfE(keyPublic.NameAlg, z, label, point.X, ((EccPoint)keyPublic.Unique).X, digestSize * 8);
                CryptographicOperations.ZeroMemory(z);
                return eccSeed;
            default:
                throw new TpmException(TpmRc.Type, $"secrets cannot be shared with {keyPublic.Type} objects");
        }
    }
}
