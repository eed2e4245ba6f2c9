using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TrustStack.Tpm.Hardware;

/// <summary>What a public-key file held: the TPM's public area, or only the public key.</summary>
public enum PublicKeyForm
{
    /// <summary>A TPM2B_PUBLIC or TPMT_PUBLIC: attributes, nameAlg, scheme and Name are the TPM's.</summary>
    PublicArea,

    /// <summary>
    /// A PEM or DER SubjectPublicKeyInfo (or PKCS#1 RSA key): only the public key is known; the
    /// TPMT_PUBLIC made from it has default attributes, nameAlg and scheme, and not the TPM's Name.
    /// </summary>
    SubjectPublicKeyInfo,
}

/// <summary>
/// Converts TPM public areas (TPMT_PUBLIC) to .NET public keys and to and from
/// SubjectPublicKeyInfo (DER or PEM), the form tpm2-tools writes with <c>-f pem</c>.
/// Supported: RSA of any size (exponent 0 on the wire means 65537) and ECC on NIST P-256 and
/// P-384. The ASN.1 is .NET's own (<see cref="AsymmetricAlgorithm.ExportSubjectPublicKeyInfo"/>,
/// <see cref="PublicKey.CreateFromSubjectPublicKeyInfo"/>).
/// </summary>
public static class TpmPublicKeys
{
    /// <summary>The object attributes <see cref="FromSubjectPublicKeyInfo"/> gives a key read from outside a TPM: sign and userWithAuth.</summary>
    public const TpmaObject DefaultImportedAttributes = TpmaObject.Sign | TpmaObject.UserWithAuth;

    /// <summary>The RSA public key of <paramref name="key"/>; the caller disposes it.</summary>
    /// <exception cref="ArgumentException">Not an RSA key, or no modulus.</exception>
    public static RSA ToRsa(TpmtPublic key)
    {
        var (parms, modulus) = RsaParts(key);
        var exponent = parms.EffectiveExponent;
        Span<byte> e = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(e, exponent);
        var skip = 0;
        while (skip < 3 && e[skip] == 0)
        {
            skip++;
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportParameters(new RSAParameters { Modulus = StripLeadingZeros(modulus), Exponent = e[skip..].ToArray() });
            return rsa;
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    /// <summary>The ECDSA public key of <paramref name="key"/>; the caller disposes it.</summary>
    /// <exception cref="ArgumentException">Not an ECC key on a supported curve, or the point is not on the curve.</exception>
    /// <exception cref="NotSupportedException">The curve is not NIST P-256 or P-384.</exception>
    public static ECDsa ToECDsa(TpmtPublic key)
    {
        var p = EcParameters(key);
        try
        {
            return ECDsa.Create(p);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"The ECC public point is invalid: {e.Message}", nameof(key), e);
        }
    }

    /// <summary>The ECDH public key of <paramref name="key"/>; the caller disposes it.</summary>
    /// <exception cref="ArgumentException">Not an ECC key on a supported curve, or the point is not on the curve.</exception>
    /// <exception cref="NotSupportedException">The curve is not NIST P-256 or P-384.</exception>
    public static ECDiffieHellman ToECDiffieHellman(TpmtPublic key)
    {
        var p = EcParameters(key);
        try
        {
            return ECDiffieHellman.Create(p);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"The ECC public point is invalid: {e.Message}", nameof(key), e);
        }
    }

    /// <summary>The .NET curve for a TPM curve.</summary>
    /// <exception cref="NotSupportedException">The curve is not NIST P-256 or P-384.</exception>
    public static ECCurve ToCurve(TpmEccCurve curve) => NistCurve(curve).DotNetCurve!.Value;

    /// <summary>Octets in a coordinate (and in ECDSA r and s) on <paramref name="curve"/>.</summary>
    /// <exception cref="NotSupportedException">The curve is not NIST P-256 or P-384.</exception>
    public static int CoordinateSize(TpmEccCurve curve) => NistCurve(curve).CoordinateSize;

    /// <summary>The engine's description of a curve .NET implements (the NIST curves).</summary>
    private static EccCurveInfo NistCurve(TpmEccCurve curve) =>
        EccCurves.IsSupported(curve) && EccCurves.Get(curve) is { DotNetCurve: not null } info
            ? info
            : throw new NotSupportedException($"ECC curve {curve} is not supported (NIST P-256 and P-384 are).");

    /// <summary>The DER SubjectPublicKeyInfo of <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException">Not an RSA or ECC key with its public part.</exception>
    /// <exception cref="NotSupportedException">An ECC curve other than NIST P-256 or P-384.</exception>
    public static byte[] ExportSubjectPublicKeyInfo(TpmtPublic key)
    {
        using var algorithm = ToAsymmetricAlgorithm(key);
        return algorithm.ExportSubjectPublicKeyInfo();
    }

    /// <summary>The PEM (<c>-----BEGIN PUBLIC KEY-----</c>) SubjectPublicKeyInfo of <paramref name="key"/>, as tpm2-tools writes with <c>-f pem</c>.</summary>
    /// <exception cref="ArgumentException">Not an RSA or ECC key with its public part.</exception>
    /// <exception cref="NotSupportedException">An ECC curve other than NIST P-256 or P-384.</exception>
    public static string ExportSubjectPublicKeyInfoPem(TpmtPublic key)
    {
        using var algorithm = ToAsymmetricAlgorithm(key);
        return algorithm.ExportSubjectPublicKeyInfoPem();
    }

    /// <summary>
    /// A TPMT_PUBLIC for a DER SubjectPublicKeyInfo (RSA, or ECC on P-256/P-384). The public key
    /// is exact; everything a SubjectPublicKeyInfo does not carry is a default: nameAlg
    /// <paramref name="nameAlg"/>, attributes <see cref="DefaultImportedAttributes"/>, no policy,
    /// no symmetric algorithm and <paramref name="scheme"/> (TPM_ALG_NULL by default, which lets a
    /// signature name its own scheme). Its Name is therefore NOT the Name the key has inside the TPM
    /// that made it; use it to verify signatures, never to compare Names.
    /// </summary>
    /// <exception cref="CryptographicException">The octets are not a SubjectPublicKeyInfo.</exception>
    /// <exception cref="NotSupportedException">Another algorithm or curve.</exception>
    public static TpmtPublic FromSubjectPublicKeyInfo(ReadOnlySpan<byte> der, TpmAlgId nameAlg = TpmAlgId.Sha256, TpmtScheme? scheme = null)
    {
        var publicKey = PublicKey.CreateFromSubjectPublicKeyInfo(der, out var read);
        if (read != der.Length)
        {
            throw new CryptographicException($"{der.Length - read} octets follow the SubjectPublicKeyInfo.");
        }

        using var rsa = publicKey.GetRSAPublicKey();
        if (rsa is not null)
        {
            return FromRsa(rsa, nameAlg, scheme);
        }

        using var ecdsa = publicKey.GetECDsaPublicKey();
        if (ecdsa is not null)
        {
            return FromECDsa(ecdsa, nameAlg, scheme);
        }

        throw new NotSupportedException($"Public key algorithm {publicKey.Oid.Value} is neither RSA nor EC.");
    }

    /// <summary>
    /// A TPMT_PUBLIC for a PEM public key: <c>PUBLIC KEY</c> (SubjectPublicKeyInfo) or
    /// <c>RSA PUBLIC KEY</c> (PKCS#1). Defaults and caveats as for <see cref="FromSubjectPublicKeyInfo"/>:
    /// the resulting Name is not the TPM's.
    /// </summary>
    /// <exception cref="CryptographicException">No supported PEM public key in the text.</exception>
    /// <exception cref="NotSupportedException">Another algorithm or curve.</exception>
    public static TpmtPublic FromPem(ReadOnlySpan<char> pem, TpmAlgId nameAlg = TpmAlgId.Sha256, TpmtScheme? scheme = null)
    {
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new CryptographicException("No PEM block found.");
        }

        var label = pem[fields.Label];
        var der = Convert.FromBase64String(pem[fields.Base64Data].ToString());
        if (label.SequenceEqual("PUBLIC KEY"))
        {
            return FromSubjectPublicKeyInfo(der, nameAlg, scheme);
        }

        if (label.SequenceEqual("RSA PUBLIC KEY"))
        {
            using var rsa = RSA.Create();
            rsa.ImportRSAPublicKey(der, out var read);
            if (read != der.Length)
            {
                throw new CryptographicException("Trailing octets after the RSA public key.");
            }

            return FromRsa(rsa, nameAlg, scheme);
        }

        throw new CryptographicException($"PEM label '{label}' is not PUBLIC KEY or RSA PUBLIC KEY.");
    }

    /// <summary>
    /// Reads a public key in any form tpm2-tools writes: PEM, DER SubjectPublicKeyInfo,
    /// TPM2B_PUBLIC (<c>.pub</c>) or TPMT_PUBLIC. TPM forms keep the TPM's Name; PEM and DER get
    /// the defaults of <see cref="FromSubjectPublicKeyInfo"/>.
    /// </summary>
    /// <exception cref="FormatException">No form parses; the message says what each attempt found.</exception>
    public static TpmtPublic Parse(ReadOnlySpan<byte> bytes) => Parse(bytes, out _);

    /// <summary>
    /// Like <see cref="Parse(ReadOnlySpan{byte})"/>, and says which form the octets were:
    /// <see cref="PublicKeyForm.PublicArea"/> (TPM2B_PUBLIC, TPMT_PUBLIC) or
    /// <see cref="PublicKeyForm.SubjectPublicKeyInfo"/> (PEM, DER), whose attributes are defaults
    /// (pass it on as <see cref="QuoteVerificationRequest.SigningKeyForm"/>).
    /// </summary>
    /// <exception cref="FormatException">No form parses; the message says what each attempt found.</exception>
    public static TpmtPublic Parse(ReadOnlySpan<byte> bytes, out PublicKeyForm form)
    {
        form = PublicKeyForm.SubjectPublicKeyInfo;
        var text = bytes.Length < 16384 && bytes.IndexOf("-----BEGIN"u8) >= 0 ? Encoding.ASCII.GetString(bytes) : null;
        if (text is not null)
        {
            try
            {
                return FromPem(text);
            }
            catch (Exception e) when (e is CryptographicException or NotSupportedException or FormatException or ArgumentException)
            {
                throw new FormatException($"Not a usable PEM public key: {e.Message}", e);
            }
        }

        string tpmError;
        try
        {
            var area = TpmtPublic.Parse(bytes);
            form = PublicKeyForm.PublicArea;
            return area;
        }
        catch (TpmException e)
        {
            tpmError = e.Message;
        }

        try
        {
            return FromSubjectPublicKeyInfo(bytes);
        }
        catch (Exception e) when (e is CryptographicException or NotSupportedException or ArgumentException)
        {
            // ArgumentException: a key .NET reads but a TPMT_PUBLIC cannot hold (an RSA exponent over 32 bits).
            throw new FormatException($"Not a public key: as TPM2B_PUBLIC/TPMT_PUBLIC: {tpmError}; as DER SubjectPublicKeyInfo: {e.Message}", e);
        }
    }

    /// <summary>A TPMT_PUBLIC for an RSA public key (defaults as for <see cref="FromSubjectPublicKeyInfo"/>).</summary>
    /// <exception cref="ArgumentException">The exponent does not fit in 32 bits.</exception>
    public static TpmtPublic FromRsa(RSA rsa, TpmAlgId nameAlg = TpmAlgId.Sha256, TpmtScheme? scheme = null)
    {
        ArgumentNullException.ThrowIfNull(rsa);
        var p = rsa.ExportParameters(false);
        var modulus = p.Modulus ?? throw new ArgumentException("RSA key without modulus.", nameof(rsa));
        var exponentBytes = StripLeadingZeros(p.Exponent ?? []);
        if (exponentBytes.Length > 4)
        {
            throw new ArgumentException("A TPM RSA exponent has at most 32 bits.", nameof(rsa));
        }

        uint exponent = 0;
        foreach (var b in exponentBytes)
        {
            exponent = (exponent << 8) | b;
        }

        var parms = new RsaParms(TpmtSymDef.Null, scheme ?? TpmtScheme.Null, checked((ushort)rsa.KeySize), exponent == 65537 ? 0 : exponent);
        return new TpmtPublic(TpmAlgId.Rsa, nameAlg, DefaultImportedAttributes, [], parms, new RsaPublicId(modulus));
    }

    /// <summary>A TPMT_PUBLIC for an EC public key on P-256 or P-384 (defaults as for <see cref="FromSubjectPublicKeyInfo"/>).</summary>
    /// <exception cref="NotSupportedException">Another curve.</exception>
    public static TpmtPublic FromECDsa(ECDsa ecdsa, TpmAlgId nameAlg = TpmAlgId.Sha256, TpmtScheme? scheme = null)
    {
        ArgumentNullException.ThrowIfNull(ecdsa);
        return FromEcParameters(ecdsa.ExportParameters(false), nameAlg, scheme);
    }

    /// <summary>The key as the matching .NET algorithm (<see cref="RSA"/> or <see cref="ECDsa"/>); the caller disposes it.</summary>
    /// <exception cref="ArgumentException">Not an RSA or ECC key with its public part.</exception>
    /// <exception cref="NotSupportedException">An ECC curve other than NIST P-256 or P-384.</exception>
    public static AsymmetricAlgorithm ToAsymmetricAlgorithm(TpmtPublic key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Type switch
        {
            TpmAlgId.Rsa => ToRsa(key),
            TpmAlgId.Ecc => ToECDsa(key),
            _ => throw new ArgumentException($"Object type {key.Type} has no public key.", nameof(key)),
        };
    }

    internal static TpmtPublic FromEcParameters(ECParameters p, TpmAlgId nameAlg, TpmtScheme? scheme)
    {
        var curve = p.Curve.Oid?.Value switch
        {
            "1.2.840.10045.3.1.7" => TpmEccCurve.NistP256,
            "1.3.132.0.34" => TpmEccCurve.NistP384,
            var other => throw new NotSupportedException($"EC curve {other ?? p.Curve.Oid?.FriendlyName ?? "(explicit)"} is not supported (NIST P-256 and P-384 are)."),
        };
        var parms = new EccParms(TpmtSymDef.Null, scheme ?? TpmtScheme.Null, curve, TpmtScheme.Null);
        var x = p.Q.X ?? throw new ArgumentException("EC key without a public point.", nameof(p));
        var y = p.Q.Y ?? throw new ArgumentException("EC key without a public point.", nameof(p));
        return new TpmtPublic(TpmAlgId.Ecc, nameAlg, DefaultImportedAttributes, [], parms, new EccPoint(x, y));
    }

    internal static (RsaParms Parms, byte[] Modulus) RsaParts(TpmtPublic key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Type != TpmAlgId.Rsa || key.Parameters is not RsaParms parms || key.Unique is not RsaPublicId id)
        {
            throw new ArgumentException($"Not an RSA key (type {key.Type}).", nameof(key));
        }

        if (StripLeadingZeros(id.Modulus).Length == 0)
        {
            throw new ArgumentException("The RSA key has no modulus (a template?).", nameof(key));
        }

        return (parms, id.Modulus);
    }

    internal static ECParameters EcParameters(TpmtPublic key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Type != TpmAlgId.Ecc || key.Parameters is not EccParms parms || key.Unique is not EccPoint point)
        {
            throw new ArgumentException($"Not an ECC key (type {key.Type}).", nameof(key));
        }

        var size = CoordinateSize(parms.Curve);
        var p = new ECParameters
        {
            Curve = ToCurve(parms.Curve),
            Q = new ECPoint { X = LeftPad(point.X, size, nameof(key)), Y = LeftPad(point.Y, size, nameof(key)) },
        };
        try
        {
            p.Validate();
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"The ECC public point is invalid: {e.Message}", nameof(key), e);
        }

        return p;
    }

    /// <summary>Big-endian integer octets without leading zeros.</summary>
    internal static byte[] StripLeadingZeros(ReadOnlySpan<byte> value)
    {
        var i = 0;
        while (i < value.Length && value[i] == 0)
        {
            i++;
        }

        return value[i..].ToArray();
    }

    /// <summary>A big-endian integer left-padded with zeros to <paramref name="size"/> octets.</summary>
    /// <exception cref="ArgumentException">The value needs more than <paramref name="size"/> octets.</exception>
    internal static byte[] LeftPad(ReadOnlySpan<byte> value, int size, string paramName)
    {
        var stripped = StripLeadingZeros(value);
        if (stripped.Length > size)
        {
            throw new ArgumentException($"A {stripped.Length}-octet value does not fit in {size} octets.", paramName);
        }

        var result = new byte[size];
        stripped.CopyTo(result, size - stripped.Length);
        return result;
    }
}
