using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Encodings;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using NumBigInteger = System.Numerics.BigInteger;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// The private half of a loaded RSA or ECC object: signing, RSA-OAEP decryption and ECDH, built
/// from the public area and the TPMT_SENSITIVE (for RSA only the prime p is stored; q, d and the CRT
/// values are recomputed). Dispose to zero the private material.
/// </summary>
internal sealed class TpmPrivateKey : IDisposable
{
    private readonly Lock _lock = new();
    private readonly RSA? _rsa;
    private readonly RSAParameters _rsaParameters;
    private readonly EccCurveInfo? _curve;
    private readonly byte[]? _d;
    private readonly ECDsa? _ecdsa;
    private RsaPrivateCrtKeyParameters? _bcRsa;
    private ECPrivateKeyParameters? _bcEc;
    private ECDiffieHellman? _ecdh;
    private bool _disposed;

    /// <summary>Builds the key, checking that the private part belongs to the public part.</summary>
    /// <exception cref="TpmException">TPM_RC_TYPE (not RSA/ECC), TPM_RC_KEY (malformed private value), TPM_RC_BINDING (public and private do not match), TPM_RC_CURVE.</exception>
    public TpmPrivateKey(TpmtPublic publicArea, TpmtSensitive sensitive)
    {
        ArgumentNullException.ThrowIfNull(publicArea);
        ArgumentNullException.ThrowIfNull(sensitive);
        Public = publicArea;
        if (sensitive.SensitiveType != publicArea.Type)
        {
            throw new TpmException(TpmRc.Type, $"sensitive area of type {sensitive.SensitiveType} does not match public type {publicArea.Type}");
        }

        switch (publicArea.Type)
        {
            case TpmAlgId.Rsa:
                _rsaParameters = RebuildRsa(publicArea, sensitive.Sensitive);
                _rsa = RSA.Create();
                _rsa.ImportParameters(_rsaParameters);
                break;
            case TpmAlgId.Ecc:
                var parms = (EccParms)publicArea.Parameters;
                _curve = EccCurves.Get(parms.Curve);
                _d = LoadScalar(_curve, sensitive.Sensitive);
                _ecdsa = CheckEccBinding(_curve, _d, publicArea.Unique as EccPoint);
                break;
            default:
                throw new TpmException(TpmRc.Type, $"{publicArea.Type} objects have no asymmetric private key");
        }
    }

    /// <summary>The public area.</summary>
    public TpmtPublic Public { get; }

    /// <summary>The curve of an ECC key (null for RSA).</summary>
    public EccCurveInfo? Curve => _curve;

    /// <summary>RSA modulus size in octets (0 for ECC).</summary>
    public int RsaModulusSize => _rsaParameters.Modulus?.Length ?? 0;

    /// <summary>
    /// Signs <paramref name="digest"/>. RSASSA (PKCS#1 v1.5), RSAPSS (salt length = digest length,
    /// shortened when the modulus is too small, as the reference implementation does) or ECDSA with
    /// fixed-size r and s. <paramref name="deterministic"/> selects RFC 6979 nonces for ECDSA and
    /// PSS salts drawn from <paramref name="random"/>; otherwise the platform's fast paths are used.
    /// </summary>
    /// <exception cref="TpmException">TPM_RC_SCHEME (scheme not usable with the key), TPM_RC_HASH, TPM_RC_SIZE (digest length).</exception>
    public TpmtSignature Sign(TpmtScheme scheme, ReadOnlySpan<byte> digest, bool deterministic, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(random);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var hash = scheme.HashAlg;
        if (!TpmHash.IsSupported(hash))
        {
            throw new TpmException(TpmRc.Hash, $"signing hash {hash} is not supported");
        }

        if (digest.Length != TpmHash.DigestSize(hash))
        {
            throw new TpmException(TpmRc.Size, $"digest of {digest.Length} octets for {hash}");
        }

        return (Public.Type, scheme.Scheme) switch
        {
            (TpmAlgId.Rsa, TpmAlgId.Rsassa) => TpmtSignature.Rsa(TpmAlgId.Rsassa, hash, _rsa!.SignHash(digest, TpmHash.Name(hash), RSASignaturePadding.Pkcs1)),
            (TpmAlgId.Rsa, TpmAlgId.Rsapss) => TpmtSignature.Rsa(TpmAlgId.Rsapss, hash, SignPss(hash, digest, deterministic, random)),
            (TpmAlgId.Ecc, TpmAlgId.Ecdsa) => SignEcdsa(hash, digest, deterministic, random),
            _ => throw new TpmException(TpmRc.Scheme, $"scheme {scheme.Scheme} cannot sign with a {Public.Type} key"),
        };
    }

    /// <summary>RSA-OAEP decryption with a label given as a string (NUL-terminated on the wire; empty for none).</summary>
    /// <exception cref="TpmException">TPM_RC_KEY (not RSA), TPM_RC_HASH, TPM_RC_SIZE (longer than the modulus), TPM_RC_VALUE (decryption failed).</exception>
    public byte[] RsaDecryptOaep(ReadOnlySpan<byte> data, TpmAlgId hash, string label) => RsaDecryptOaep(data, hash, OaepLabel(label));

    /// <summary>RSA-OAEP decryption with a label given as octets (used as is).</summary>
    /// <exception cref="TpmException">TPM_RC_KEY (not RSA), TPM_RC_HASH, TPM_RC_SIZE (longer than the modulus), TPM_RC_VALUE (decryption failed).</exception>
    public byte[] RsaDecryptOaep(ReadOnlySpan<byte> data, TpmAlgId hash, ReadOnlySpan<byte> label)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_rsa is null)
        {
            throw new TpmException(TpmRc.Key, "OAEP decryption needs an RSA key");
        }

        if (!TpmHash.IsSupported(hash))
        {
            throw new TpmException(TpmRc.Hash, $"OAEP hash {hash} is not supported");
        }

        if (data.Length > RsaModulusSize)
        {
            throw new TpmException(TpmRc.Size, $"{data.Length} octets to decrypt with a {RsaModulusSize}-octet modulus");
        }

        var oaep = new OaepEncoding(new RsaEngine(), BouncyDigest(hash), BouncyDigest(hash), label.ToArray());
        oaep.Init(false, BouncyRsa());
        try
        {
            return oaep.ProcessBlock(data.ToArray(), 0, data.Length);
        }
        catch (CryptoException e)
        {
            throw new TpmException(TpmRc.Value, "OAEP decryption failed", e);
        }
        catch (ArgumentException e)
        {
            throw new TpmException(TpmRc.Value, "OAEP decryption failed", e);
        }
    }

    /// <summary>ECDH: the x coordinate of d·Q, <see cref="EccCurveInfo.CoordinateSize"/> octets.</summary>
    /// <exception cref="TpmException">TPM_RC_KEY (not ECC), TPM_RC_ECC_POINT (Q not on the curve), TPM_RC_NO_RESULT (product at infinity).</exception>
    public byte[] EcdhZ(EccPoint peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_curve is null)
        {
            throw new TpmException(TpmRc.Key, "ECDH needs an ECC key");
        }

        var q = _curve.DecodePoint(peer);
        if (_curve.DotNetCurve is { } dotNetCurve)
        {
            var ecdh = DotNetEcdh(dotNetCurve);
            using var peerKey = ECDiffieHellman.Create(new ECParameters
            {
                Curve = dotNetCurve,
                Q = new ECPoint { X = peer.X.PadLeft(_curve.CoordinateSize), Y = peer.Y.PadLeft(_curve.CoordinateSize) },
            });
            return ecdh.DeriveRawSecretAgreement(peerKey.PublicKey);
        }

        var product = q.Multiply(new BcBigInteger(1, _d)).Normalize();
        if (product.IsInfinity)
        {
            throw new TpmException(TpmRc.NoResult, "ECDH product is the point at infinity");
        }

        return product.AffineXCoord.ToBigInteger().ToByteArrayUnsigned().PadLeft(_curve.CoordinateSize);
    }

    /// <summary>The private scalar as a BouncyCastle key (ECC only), for protocols built on top (ECDAA).</summary>
    internal ECPrivateKeyParameters BouncyEcc()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_curve is null)
        {
            throw new TpmException(TpmRc.Key, "not an ECC key");
        }

        lock (_lock)
        {
            return _bcEc ??= new ECPrivateKeyParameters(new BcBigInteger(1, _d), _curve.Domain);
        }
    }

    /// <summary>Zeroes the private material and releases the platform keys.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _rsa?.Dispose();
            _ecdsa?.Dispose();
            _ecdh?.Dispose();
            ZeroRsa(_rsaParameters);
            if (_d is not null)
            {
                CryptographicOperations.ZeroMemory(_d);
            }

            _bcRsa = null;
            _bcEc = null;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"TpmPrivateKey {{ {Public.Type}, private material hidden }}";

    /// <summary>The OAEP label octets for a TPM label string: NUL-terminated, or empty for none.</summary>
    internal static byte[] OaepLabel(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        return label.Length == 0 ? [] : TpmKdf.LabelBytes(label);
    }

    /// <summary>The BouncyCastle digest for a TPM hash.</summary>
    internal static IDigest BouncyDigest(TpmAlgId hash) => hash switch
    {
        TpmAlgId.Sha1 => new Sha1Digest(),
        TpmAlgId.Sha256 => new Sha256Digest(),
        TpmAlgId.Sha384 => new Sha384Digest(),
        TpmAlgId.Sha512 => new Sha512Digest(),
        _ => throw new TpmException(TpmRc.Hash, $"hash {hash} is not supported"),
    };

    private static RSAParameters RebuildRsa(TpmtPublic publicArea, byte[] prime)
    {
        var parms = (RsaParms)publicArea.Parameters;
        var modulus = (publicArea.Unique as RsaPublicId)?.Modulus ?? [];
        if (modulus.Length == 0 || modulus.Length * 8 != parms.KeyBits)
        {
            throw new TpmException(TpmRc.Key, $"RSA modulus of {modulus.Length} octets for a {parms.KeyBits}-bit key");
        }

        var n = new NumBigInteger(modulus, isUnsigned: true, isBigEndian: true);
        var p = new NumBigInteger(prime, isUnsigned: true, isBigEndian: true);
        if (p <= NumBigInteger.One || p >= n || !(n % p).IsZero)
        {
            throw new TpmException(TpmRc.Binding, "the RSA prime does not divide the modulus");
        }

        var q = n / p;
        if (p < q)
        {
            (p, q) = (q, p);
        }

        NumBigInteger e = parms.EffectiveExponent;
        var pMinus1 = p - 1;
        var qMinus1 = q - 1;
        var lambda = pMinus1 / NumBigInteger.GreatestCommonDivisor(pMinus1, qMinus1) * qMinus1;
        var d = ModInverse(e, lambda) ?? throw new TpmException(TpmRc.Binding, "the RSA exponent is not invertible");
        var k = modulus.Length;
        var half = (k + 1) / 2;
        return new RSAParameters
        {
            Modulus = modulus.ToArray(),
            Exponent = e.ToByteArray(isUnsigned: true, isBigEndian: true),
            D = Fixed(d, k),
            P = Fixed(p, half),
            Q = Fixed(q, half),
            DP = Fixed(d % pMinus1, half),
            DQ = Fixed(d % qMinus1, half),
            InverseQ = Fixed(ModInverse(q, p) ?? throw new TpmException(TpmRc.Binding, "q is not invertible modulo p"), half),
        };
    }

    private static byte[] Fixed(NumBigInteger value, int size)
    {
        var result = new byte[size];
        if (!value.TryWriteBytes(result.AsSpan(size - value.GetByteCount(isUnsigned: true)), out _, isUnsigned: true, isBigEndian: true))
        {
            throw new TpmException(TpmRc.Key, "RSA component does not fit");
        }

        return result;
    }

    private static NumBigInteger? ModInverse(NumBigInteger a, NumBigInteger m)
    {
        NumBigInteger oldR = a % m, r = m, oldS = NumBigInteger.One, s = NumBigInteger.Zero;
        while (!r.IsZero)
        {
            var quotient = NumBigInteger.Divide(oldR, r);
            (oldR, r) = (r, oldR - (quotient * r));
            (oldS, s) = (s, oldS - (quotient * s));
        }

        if (!oldR.IsOne)
        {
            return null;
        }

        return oldS.Sign < 0 ? oldS + m : oldS;
    }

    private static byte[] LoadScalar(EccCurveInfo curve, byte[] sensitive)
    {
        if (sensitive.Length == 0 || sensitive.Length > curve.OrderSize)
        {
            throw new TpmException(TpmRc.Key, $"ECC private key of {sensitive.Length} octets on {curve.Id}");
        }

        var d = sensitive.PadLeft(curve.OrderSize);
        if (ReferenceEquals(d, sensitive))
        {
            d = (byte[])sensitive.Clone();
        }

        var value = new BcBigInteger(1, d);
        if (value.SignValue <= 0 || value.CompareTo(curve.Order) >= 0)
        {
            CryptographicOperations.ZeroMemory(d);
            throw new TpmException(TpmRc.Key, "ECC private key is not in [1, n - 1]");
        }

        return d;
    }

    private static ECDsa? CheckEccBinding(EccCurveInfo curve, byte[] d, EccPoint? publicPoint)
    {
        if (publicPoint is null || publicPoint.X.Length == 0)
        {
            throw new TpmException(TpmRc.Binding, "ECC public point missing");
        }

        var expectedX = publicPoint.X.PadLeft(curve.CoordinateSize);
        var expectedY = publicPoint.Y.PadLeft(curve.CoordinateSize);
        if (curve.DotNetCurve is { } dotNetCurve)
        {
            // Importing D alone makes the platform derive Q = d·G, which we compare.
            var ecdsa = ECDsa.Create(new ECParameters { Curve = dotNetCurve, D = d });
            var q = ecdsa.ExportParameters(false).Q;
            if (!q.X.AsSpan().SequenceEqual(expectedX) || !q.Y.AsSpan().SequenceEqual(expectedY))
            {
                ecdsa.Dispose();
                throw new TpmException(TpmRc.Binding, "the ECC private key does not match the public point");
            }

            return ecdsa;
        }

        var computed = curve.EncodePoint(curve.Domain.G.Multiply(new BcBigInteger(1, d)));
        if (!computed.X.AsSpan().SequenceEqual(expectedX) || !computed.Y.AsSpan().SequenceEqual(expectedY))
        {
            throw new TpmException(TpmRc.Binding, "the ECC private key does not match the public point");
        }

        return null;
    }

    private static void ZeroRsa(RSAParameters parameters)
    {
        foreach (var component in new[] { parameters.D, parameters.P, parameters.Q, parameters.DP, parameters.DQ, parameters.InverseQ })
        {
            if (component is not null)
            {
                CryptographicOperations.ZeroMemory(component);
            }
        }
    }

    private byte[] SignPss(TpmAlgId hash, ReadOnlySpan<byte> digest, bool deterministic, IRandomSource random)
    {
        var hLen = TpmHash.DigestSize(hash);
        var emLen = ((RsaModulusSize * 8) - 1 + 7) / 8;
        var saltLength = Math.Min(hLen, emLen - hLen - 2);
        if (saltLength < 0)
        {
            throw new TpmException(TpmRc.Scheme, $"a {RsaModulusSize * 8}-bit key is too small for RSAPSS with {hash}");
        }

        if (!deterministic && saltLength == hLen)
        {
            return _rsa!.SignHash(digest, TpmHash.Name(hash), RSASignaturePadding.Pss);
        }

        var signer = PssSigner.CreateRawSigner(new RsaEngine(), BouncyDigest(hash), BouncyDigest(hash), saltLength, PssSigner.TrailerImplicit);
        signer.Init(true, new ParametersWithRandom(BouncyRsa(), BouncyRandom.From(random)));
        signer.BlockUpdate(digest);
        var signature = signer.GenerateSignature();
        return signature.Length == RsaModulusSize ? signature : signature.PadLeft(RsaModulusSize);
    }

    private TpmtSignature SignEcdsa(TpmAlgId hash, ReadOnlySpan<byte> digest, bool deterministic, IRandomSource random)
    {
        var curve = _curve!;
        var size = curve.OrderSize;
        if (!deterministic && _ecdsa is not null)
        {
            Span<byte> rs = stackalloc byte[2 * 66];
            var written = _ecdsa.SignHash(digest, rs, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            var half = written / 2;
            return TpmtSignature.Ecc(TpmAlgId.Ecdsa, hash, rs[..half].ToArray(), rs[half..written].ToArray());
        }

        var signer = deterministic
            ? new ECDsaSigner(new HMacDsaKCalculator(BouncyDigest(hash)))
            : new ECDsaSigner();
        signer.Init(true, deterministic ? BouncyEcc() : new ParametersWithRandom(BouncyEcc(), BouncyRandom.From(random)));
        var pair = signer.GenerateSignature(digest.ToArray());
        return TpmtSignature.Ecc(TpmAlgId.Ecdsa, hash, pair[0].ToByteArrayUnsigned().PadLeft(size), pair[1].ToByteArrayUnsigned().PadLeft(size));
    }

    private RsaPrivateCrtKeyParameters BouncyRsa()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var r = _rsaParameters;
            return _bcRsa ??= new RsaPrivateCrtKeyParameters(
                new BcBigInteger(1, r.Modulus),
                new BcBigInteger(1, r.Exponent),
                new BcBigInteger(1, r.D),
                new BcBigInteger(1, r.P),
                new BcBigInteger(1, r.Q),
                new BcBigInteger(1, r.DP),
                new BcBigInteger(1, r.DQ),
                new BcBigInteger(1, r.InverseQ));
        }
    }

    private ECDiffieHellman DotNetEcdh(ECCurve curve)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _ecdh ??= ECDiffieHellman.Create(new ECParameters { Curve = curve, D = _d });
        }
    }
}
