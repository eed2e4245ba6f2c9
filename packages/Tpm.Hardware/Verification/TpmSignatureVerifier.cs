using System.Formats.Asn1;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace TrustStack.Tpm.Hardware;

/// <summary>The outcome of a signature check: valid, or invalid with the reason.</summary>
/// <param name="IsValid">True when the signature verifies.</param>
/// <param name="FailureReason">Why it does not verify; null when valid.</param>
public sealed record SignatureVerificationResult(bool IsValid, string? FailureReason)
{
    /// <summary>The valid result.</summary>
    public static SignatureVerificationResult Valid { get; } = new(true, null);

    /// <summary>An invalid result with <paramref name="reason"/>.</summary>
    public static SignatureVerificationResult Invalid(string reason) => new(false, reason);
}

/// <summary>
/// Verifies TPM signatures (TPMT_SIGNATURE) with the public key of a TPMT_PUBLIC, without a TPM:
/// RSASSA (PKCS#1 v1.5), RSAPSS and ECDSA (NIST P-256, P-384). HMAC signatures need the secret
/// key and never verify here; ECDAA, SM2 and EC-Schnorr are not supported. An invalid signature is
/// a result (<see langword="false"/> or <see cref="SignatureVerificationResult.FailureReason"/>),
/// never an exception.
/// </summary>
/// <remarks>
/// RSAPSS: the TPM library spec lets a TPM pick the salt length (Part 1 §B.7: the largest that
/// fits, or the digest size in FIPS mode; libtpms uses the digest size). .NET's
/// <see cref="RSASignaturePadding.Pss"/> only accepts salt = digest size, so a signature that
/// fails that is tried again with the maximum salt (emLen − hLen − 2) through BouncyCastle.
/// </remarks>
public static class TpmSignatureVerifier
{
    /// <summary>True when <paramref name="signature"/> is a valid signature of <paramref name="key"/> over <paramref name="digest"/>.</summary>
    /// <param name="key">The signing key's public area.</param>
    /// <param name="digest">The digest that was signed, computed with <see cref="TpmtSignature.Hash"/>.</param>
    /// <param name="signature">The signature.</param>
    public static bool Verify(TpmtPublic key, ReadOnlySpan<byte> digest, TpmtSignature signature) => Check(key, digest, signature).IsValid;

    /// <summary>True when <paramref name="signature"/> is valid over H_signature.Hash(<paramref name="message"/>).</summary>
    public static bool VerifyMessage(TpmtPublic key, ReadOnlySpan<byte> message, TpmtSignature signature) => CheckMessage(key, message, signature).IsValid;

    /// <summary>Like <see cref="VerifyMessage"/>, with the reason when the signature does not verify.</summary>
    public static SignatureVerificationResult CheckMessage(TpmtPublic key, ReadOnlySpan<byte> message, TpmtSignature signature)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(signature);
        if (!TpmHash.IsSupported(signature.Hash))
        {
            return SignatureVerificationResult.Invalid($"signature hash {signature.Hash} is not supported");
        }

        return Check(key, TpmHash.Hash(signature.Hash, message), signature);
    }

    /// <summary>Like <see cref="Verify"/>, with the reason when the signature does not verify.</summary>
    public static SignatureVerificationResult Check(TpmtPublic key, ReadOnlySpan<byte> digest, TpmtSignature signature)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(signature);
        switch (signature.SigAlg)
        {
            case TpmAlgId.Null:
                return SignatureVerificationResult.Invalid("the signature is TPM_ALG_NULL (no signature)");
            case TpmAlgId.Hmac:
                return SignatureVerificationResult.Invalid("an HMAC signature cannot be verified without the secret key");
            case TpmAlgId.Rsassa or TpmAlgId.Rsapss or TpmAlgId.Ecdsa:
                break;
            default:
                return SignatureVerificationResult.Invalid($"signature scheme {signature.SigAlg} is not supported (RSASSA, RSAPSS and ECDSA are)");
        }

        if (!TpmHash.IsSupported(signature.Hash))
        {
            return SignatureVerificationResult.Invalid($"signature hash {signature.Hash} is not supported");
        }

        var hashSize = TpmHash.DigestSize(signature.Hash);
        if (digest.Length != hashSize)
        {
            return SignatureVerificationResult.Invalid($"the digest has {digest.Length} octets, {signature.Hash} makes {hashSize}");
        }

        try
        {
            return signature.SigAlg == TpmAlgId.Ecdsa ? CheckEcdsa(key, digest, signature) : CheckRsa(key, digest, signature);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or CryptographicException)
        {
            return SignatureVerificationResult.Invalid($"unusable key or signature: {e.Message}");
        }
    }

    /// <summary>
    /// Reads a signature file as tpm2-tools writes it: TPMT_SIGNATURE (<c>-f tss</c>), or
    /// <c>-f plain</c> — a DER ECDSA-Sig-Value for an ECC key, the raw signature octets for an RSA
    /// key. The form is detected: octets that unmarshal exactly as a TPMT_SIGNATURE are one (a DER
    /// signature starts with 0x30, never the TPM_ALG_ID of a signature scheme, and raw RSA octets
    /// that happen to unmarshal exactly are vanishingly unlikely); anything else is read as plain.
    /// A plain signature names neither scheme nor hash: the scheme is ECDSA for an ECC key and, for
    /// an RSA key, the key's RSAPSS or RSASSA scheme (RSASSA when the key has none); the hash is
    /// <paramref name="hashIfPlain"/>.
    /// </summary>
    /// <exception cref="FormatException">The octets are neither form for this key.</exception>
    /// <exception cref="ArgumentException">The key is not an RSA or ECC key.</exception>
    public static TpmtSignature ParseSignature(ReadOnlySpan<byte> bytes, TpmtPublic key, TpmAlgId hashIfPlain)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Type is not (TpmAlgId.Rsa or TpmAlgId.Ecc))
        {
            throw new ArgumentException($"Object type {key.Type} does not sign with a public-key scheme.", nameof(key));
        }

        if (TryParseTss(bytes, out var tss))
        {
            return tss;
        }

        if (key.Type == TpmAlgId.Ecc)
        {
            return ParsePlainEcdsa(bytes, hashIfPlain);
        }

        var scheme = key.Parameters is RsaParms { Scheme.Scheme: TpmAlgId.Rsapss } ? TpmAlgId.Rsapss : TpmAlgId.Rsassa;
        var modulusSize = key.Unique is RsaPublicId id ? TpmPublicKeys.StripLeadingZeros(id.Modulus).Length : 0;
        if (bytes.Length == 0 || (modulusSize > 0 && bytes.Length != modulusSize))
        {
            throw new FormatException($"Not a TPMT_SIGNATURE, and {bytes.Length} octets are not a plain RSA signature for a {modulusSize}-octet modulus.");
        }

        return TpmtSignature.Rsa(scheme, hashIfPlain, bytes.ToArray());
    }

    private static bool TryParseTss(ReadOnlySpan<byte> bytes, out TpmtSignature signature)
    {
        signature = TpmtSignature.Null;
        if (bytes.Length < 4)
        {
            return false;
        }

        try
        {
            var reader = new TpmReader(bytes);
            var parsed = TpmtSignature.Unmarshal(ref reader);
            if (reader.Remaining != 0)
            {
                return false;
            }

            signature = parsed;
            return true;
        }
        catch (TpmException)
        {
            return false;
        }
    }

    private static TpmtSignature ParsePlainEcdsa(ReadOnlySpan<byte> bytes, TpmAlgId hash)
    {
        // ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3), DER as OpenSSL writes it.
        try
        {
            var reader = new AsnReader(bytes.ToArray(), AsnEncodingRules.DER);
            var sequence = reader.ReadSequence();
            var r = sequence.ReadIntegerBytes();
            var s = sequence.ReadIntegerBytes();
            sequence.ThrowIfNotEmpty();
            reader.ThrowIfNotEmpty();
            if (IsNegative(r.Span) || IsNegative(s.Span))
            {
                throw new FormatException("ECDSA r and s must be positive.");
            }

            return TpmtSignature.Ecc(TpmAlgId.Ecdsa, hash, TpmPublicKeys.StripLeadingZeros(r.Span), TpmPublicKeys.StripLeadingZeros(s.Span));
        }
        catch (AsnContentException e)
        {
            throw new FormatException($"Neither a TPMT_SIGNATURE nor a DER ECDSA signature: {e.Message}", e);
        }

        static bool IsNegative(ReadOnlySpan<byte> integer) => integer.Length > 0 && (integer[0] & 0x80) != 0;
    }

    private static SignatureVerificationResult CheckEcdsa(TpmtPublic key, ReadOnlySpan<byte> digest, TpmtSignature signature)
    {
        if (key.Type != TpmAlgId.Ecc || key.Parameters is not EccParms parms)
        {
            return SignatureVerificationResult.Invalid($"an ECDSA signature needs an ECC key, not {key.Type}");
        }

        var size = TpmPublicKeys.CoordinateSize(parms.Curve);
        var r = TpmPublicKeys.StripLeadingZeros(signature.SignatureR);
        var s = TpmPublicKeys.StripLeadingZeros(signature.SignatureS);
        if (r.Length == 0 || s.Length == 0 || r.Length > size || s.Length > size)
        {
            return SignatureVerificationResult.Invalid($"ECDSA r or s is zero or longer than the {size}-octet curve order");
        }

        var ieee = new byte[2 * size];
        r.CopyTo(ieee, size - r.Length);
        s.CopyTo(ieee, (2 * size) - s.Length);
        var ecdsa = EcdsaKeyCache.Get(key, parms);
        return ecdsa.VerifyHash(digest, ieee, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            ? SignatureVerificationResult.Valid
            : SignatureVerificationResult.Invalid("the ECDSA signature does not verify with this key");
    }

    private static SignatureVerificationResult CheckRsa(TpmtPublic key, ReadOnlySpan<byte> digest, TpmtSignature signature)
    {
        if (key.Type != TpmAlgId.Rsa)
        {
            return SignatureVerificationResult.Invalid($"an {signature.SigAlg} signature needs an RSA key, not {key.Type}");
        }

        var (_, modulus) = TpmPublicKeys.RsaParts(key);
        using var rsa = TpmPublicKeys.ToRsa(key);
        var modulusSize = (rsa.KeySize + 7) / 8;
        if (signature.RsaSignature.Length != modulusSize)
        {
            return SignatureVerificationResult.Invalid($"the RSA signature has {signature.RsaSignature.Length} octets, the modulus {modulusSize}");
        }

        var name = TpmHash.Name(signature.Hash);
        if (signature.SigAlg == TpmAlgId.Rsassa)
        {
            return rsa.VerifyHash(digest, signature.RsaSignature, name, RSASignaturePadding.Pkcs1)
                ? SignatureVerificationResult.Valid
                : SignatureVerificationResult.Invalid("the RSASSA (PKCS#1 v1.5) signature does not verify with this key");
        }

        if (rsa.VerifyHash(digest, signature.RsaSignature, name, RSASignaturePadding.Pss) ||
            VerifyPssMaxSalt(modulus, ((RsaParms)key.Parameters).EffectiveExponent, signature.Hash, digest, signature.RsaSignature))
        {
            return SignatureVerificationResult.Valid;
        }

        return SignatureVerificationResult.Invalid("the RSAPSS signature does not verify with this key (salt = digest size and salt = maximum tried)");
    }

    private static bool VerifyPssMaxSalt(byte[] modulus, uint exponent, TpmAlgId hash, ReadOnlySpan<byte> digest, byte[] signature)
    {
        var n = new Org.BouncyCastle.Math.BigInteger(1, modulus);
        var emLen = (n.BitLength - 1 + 7) / 8;
        var maxSalt = emLen - TpmHash.DigestSize(hash) - 2;
        if (maxSalt < 0)
        {
            return false;
        }

        var signer = PssSigner.CreateRawSigner(new RsaBlindedEngine(), NewDigest(hash), NewDigest(hash), maxSalt, PssSigner.TrailerImplicit);
        signer.Init(false, new RsaKeyParameters(false, n, Org.BouncyCastle.Math.BigInteger.ValueOf(exponent)));
        signer.BlockUpdate(digest);
        try
        {
            return signer.VerifySignature(signature);
        }
        catch (CryptoException)
        {
            return false;
        }
    }

    private static IDigest NewDigest(TpmAlgId hash) => hash switch
    {
        TpmAlgId.Sha1 => new Sha1Digest(),
        TpmAlgId.Sha256 => new Sha256Digest(),
        TpmAlgId.Sha384 => new Sha384Digest(),
        TpmAlgId.Sha512 => new Sha512Digest(),
        _ => throw new NotSupportedException($"Hash {hash} is not supported."),
    };
}

/// <summary>
/// The imported ECDSA public keys of recent signers, per thread: importing a point (with its
/// on-curve check) costs more than one verification, and an appraiser sees the same attestation
/// keys again and again. Keyed by the exact curve and coordinates, so a hit is the key a fresh
/// import would give. Per thread because an <see cref="ECDsa"/> instance is not documented as
/// safe for concurrent use. Bounded: emptied (and its keys disposed) when full.
/// </summary>
internal static class EcdsaKeyCache
{
    internal const int Capacity = 64;

    [ThreadStatic]
    private static Dictionary<string, ECDsa>? t_keys;

    public static ECDsa Get(TpmtPublic key, EccParms parms)
    {
        if (key.Unique is not EccPoint point)
        {
            throw new ArgumentException($"Not an ECC key (type {key.Type}).", nameof(key));
        }

        var id = $"{(ushort)parms.Curve}:{Convert.ToHexString(point.X)}:{Convert.ToHexString(point.Y)}";
        var keys = t_keys ??= new Dictionary<string, ECDsa>(StringComparer.Ordinal);
        if (keys.TryGetValue(id, out var cached))
        {
            return cached;
        }

        var created = TpmPublicKeys.ToECDsa(key);
        if (keys.Count >= Capacity)
        {
            foreach (var k in keys.Values)
            {
                k.Dispose();
            }

            keys.Clear();
        }

        keys[id] = created;
        return created;
    }
}
