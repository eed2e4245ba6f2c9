using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Encodings;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// The public-key operations the engine performs for itself (encrypting secrets to a key). Import
/// of public keys for verification lives with the verifiers; this class only serves protection.
/// </summary>
internal static class TpmPublicCrypto
{
    /// <summary>
    /// RSA-OAEP encryption of <paramref name="data"/> to an RSA public area, with MGF1 and label
    /// hash <paramref name="hash"/> and the NUL-terminated <paramref name="label"/> (empty for none);
    /// the OAEP seed comes from <paramref name="random"/>.
    /// </summary>
    /// <exception cref="TpmException">TPM_RC_KEY (not an RSA key), TPM_RC_HASH, TPM_RC_VALUE (data too long).</exception>
    public static byte[] RsaEncryptOaep(TpmtPublic key, ReadOnlySpan<byte> data, TpmAlgId hash, string label, IRandomSource random) =>
        RsaEncryptOaep(key, data, hash, TpmPrivateKey.OaepLabel(label), random);

    /// <summary>RSA-OAEP encryption with the label given as octets (used as is).</summary>
    /// <exception cref="TpmException">TPM_RC_KEY (not an RSA key), TPM_RC_HASH, TPM_RC_VALUE (data too long).</exception>
    public static byte[] RsaEncryptOaep(TpmtPublic key, ReadOnlySpan<byte> data, TpmAlgId hash, ReadOnlySpan<byte> label, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(random);
        var rsa = RsaPublic(key);
        var oaep = new OaepEncoding(new RsaEngine(), TpmPrivateKey.BouncyDigest(hash), TpmPrivateKey.BouncyDigest(hash), label.ToArray());
        oaep.Init(true, new ParametersWithRandom(rsa, BouncyRandom.From(random)));
        if (data.Length > oaep.GetInputBlockSize())
        {
            throw new TpmException(TpmRc.Value, $"{data.Length} octets exceed the OAEP capacity of {oaep.GetInputBlockSize()}");
        }

        try
        {
            var encrypted = oaep.ProcessBlock(data.ToArray(), 0, data.Length);
            var size = rsa.Modulus.BitLength / 8;
            return encrypted.Length == size ? encrypted : encrypted.PadLeft(size);
        }
        catch (CryptoException e)
        {
            throw new TpmException(TpmRc.Value, "OAEP encryption failed", e);
        }
    }

    /// <summary>The BouncyCastle form of an RSA public area.</summary>
    /// <exception cref="TpmException">TPM_RC_KEY: not an RSA key with a modulus.</exception>
    public static RsaKeyParameters RsaPublic(TpmtPublic key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Type != TpmAlgId.Rsa || key.Parameters is not RsaParms parms || key.Unique is not RsaPublicId { Modulus.Length: > 0 } id)
        {
            throw new TpmException(TpmRc.Key, "not an RSA public key");
        }

        return new RsaKeyParameters(false, new BcBigInteger(1, id.Modulus), BcBigInteger.ValueOf(parms.EffectiveExponent));
    }

    /// <summary>The curve and validated public point of an ECC public area.</summary>
    /// <exception cref="TpmException">TPM_RC_KEY: not an ECC key, or its point is not on its curve; TPM_RC_CURVE.</exception>
    public static (EccCurveInfo Curve, BcECPoint Point) EccPublic(TpmtPublic key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Type != TpmAlgId.Ecc || key.Parameters is not EccParms parms || key.Unique is not EccPoint point)
        {
            throw new TpmException(TpmRc.Key, "not an ECC public key");
        }

        var curve = EccCurves.Get(parms.Curve);
        try
        {
            return (curve, curve.DecodePoint(point));
        }
        catch (TpmException e) when (e.ResponseCode == TpmRc.EccPoint)
        {
            throw new TpmException(TpmRc.Key, "the key's public point is not on its curve", e);
        }
    }
}
