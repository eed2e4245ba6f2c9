using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek;

/// <summary>
/// An <see cref="X509SignatureGenerator"/> whose private key lives in a TPM: <c>SignData</c>
/// hashes the to-be-signed octets with SHA-256 and hands the digest to a TPM2_Sign callback, then
/// encodes the TPMT_SIGNATURE as X.509 wants it (ECDSA: DER Ecdsa-Sig-Value; RSASSA: the octets).
/// </summary>
public sealed class TpmSignatureGenerator : X509SignatureGenerator
{
    private readonly TpmtPublic _key;
    private readonly Func<byte[], TpmtSignature> _signData;

    /// <summary>Creates the generator.</summary>
    /// <param name="key">The signing key's public area (ECC P-256/P-384 or RSA).</param>
    /// <param name="signDigest">Signs a SHA-256 digest with the key in the TPM (TPM2_Sign with an ECDSA-SHA256 or RSASSA-SHA256 scheme).</param>
    public TpmSignatureGenerator(TpmtPublic key, Func<byte[], TpmtSignature> signDigest)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(signDigest);
        _key = key;
        _signData = data => signDigest(SHA256.HashData(data));
    }

    private TpmSignatureGenerator(TpmtPublic key, Func<byte[], TpmtSignature> signData, bool _)
    {
        _key = key;
        _signData = signData;
    }

    /// <summary>
    /// A generator for a <b>restricted</b> signing key (an attestation key): TPM2_Hash over the
    /// to-be-signed octets gives the digest and a TPMT_TK_HASHCHECK ticket (the TPM issues one
    /// because a certificate does not start with TPM_GENERATED_VALUE), then TPM2_Sign with that
    /// ticket. This is how a hardware AIK can be made to sign a certificate, which the TCG
    /// attestation key rules forbid (it should sign only TPM-generated attestation structures).
    /// </summary>
    /// <param name="tpm">The TPM.</param>
    /// <param name="handle">The loaded restricted signing key (empty-password authorization).</param>
    /// <param name="key">Its public area.</param>
    /// <param name="hierarchy">The hierarchy of the ticket (the key's hierarchy).</param>
    /// <returns>The generator.</returns>
    public static TpmSignatureGenerator ForRestrictedKey(Tpm2 tpm, uint handle, TpmtPublic key, uint hierarchy = TpmRh.Endorsement)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(key);
        var scheme = key.Type == TpmAlgId.Ecc ? new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256) : new TpmtScheme(TpmAlgId.Rsassa, TpmAlgId.Sha256);
        return new TpmSignatureGenerator(key, data =>
        {
            var r = tpm.Execute(TpmCc.Hash, [], [], w =>
            {
                w.WriteTpm2b(data);
                w.WriteU16((ushort)TpmAlgId.Sha256);
                w.WriteU32(hierarchy);
            }).Reader();
            var digest = r.ReadTpm2b();
            var ticket = TpmtTicket.Unmarshal(ref r);
            r.EnsureConsumed();
            return tpm.Sign(handle, digest, scheme, ticket);
        }, false);
    }

    /// <summary>Number of signatures made so far.</summary>
    public int Signatures { get; private set; }

    /// <inheritdoc/>
    public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm) =>
        X509Signatures.AlgorithmIdentifier(_key.Type == TpmAlgId.Ecc, Require256(hashAlgorithm));

    /// <inheritdoc/>
    public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm)
    {
        Require256(hashAlgorithm);
        var signature = _signData(data);
        Signatures++;
        return signature.IsEcc ? X509Signatures.EcdsaDer(signature.SignatureR, signature.SignatureS) : signature.RsaSignature;
    }

    /// <inheritdoc/>
    protected override PublicKey BuildPublicKey() => X509Signatures.PublicKeyOf(_key);

    private static HashAlgorithmName Require256(HashAlgorithmName h) =>
        h == HashAlgorithmName.SHA256 ? h : throw new NotSupportedException("TPM certificate signatures use SHA-256.");
}

/// <summary>Encodings shared by the signature generators and the validator.</summary>
internal static class X509Signatures
{
    public const string EcdsaSha256 = "1.2.840.10045.4.3.2";
    public const string RsaSha256 = "1.2.840.113549.1.1.11";

    public static byte[] AlgorithmIdentifier(bool ecdsa, HashAlgorithmName _)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            w.WriteObjectIdentifier(ecdsa ? EcdsaSha256 : RsaSha256);
            if (!ecdsa)
            {
                w.WriteNull();
            }
        }

        return w.Encode();
    }

    public static byte[] EcdsaDer(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            // TPM2B_ECC_PARAMETER is fixed-size: r or s may start with zero octets (1 in 256 signatures).
            w.WriteIntegerUnsigned(Minimal(r));
            w.WriteIntegerUnsigned(Minimal(s));
        }

        return w.Encode();
    }

    private static ReadOnlySpan<byte> Minimal(ReadOnlySpan<byte> value)
    {
        var i = 0;
        while (i < value.Length - 1 && value[i] == 0)
        {
            i++;
        }

        return value[i..];
    }

    public static PublicKey PublicKeyOf(TpmtPublic key) =>
        PublicKey.CreateFromSubjectPublicKeyInfo(TpmPublicKeys.ExportSubjectPublicKeyInfo(key), out _);
}

/// <summary>
/// A software ECDSA P-256 signing key with deterministic signatures (RFC 6979, BouncyCastle): the
/// key of the software CAs (manufacturer, Privacy CA, the manager's local CA). Deterministic
/// signatures make certificates byte-reproducible from a seed.
/// </summary>
internal sealed class SoftwareSigningKey : X509SignatureGenerator
{
    private static readonly X9ECParametersHolder s_curve = new();
    private readonly ECPrivateKeyParameters _private;
    private readonly PublicKey _public;

    public SoftwareSigningKey(IRandomSource random)
    {
        var domain = s_curve.Domain;
        Span<byte> bytes = stackalloc byte[40];
        random.Fill(bytes);
        var d = new BigInteger(1, bytes.ToArray()).Mod(domain.N.Subtract(BigInteger.One)).Add(BigInteger.One);
        bytes.Clear();
        _private = new ECPrivateKeyParameters(d, domain);
        var q = domain.G.Multiply(d).Normalize();
        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = q.AffineXCoord.GetEncoded(), Y = q.AffineYCoord.GetEncoded() },
        });
        _public = PublicKey.CreateFromSubjectPublicKeyInfo(ecdsa.ExportSubjectPublicKeyInfo(), out _);
    }

    public PublicKey Public => _public;

    public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm) => X509Signatures.AlgorithmIdentifier(true, hashAlgorithm);

    public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm)
    {
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, _private);
        var rs = signer.GenerateSignature(SHA256.HashData(data));
        return X509Signatures.EcdsaDer(rs[0].ToByteArrayUnsigned(), rs[1].ToByteArrayUnsigned());
    }

    protected override PublicKey BuildPublicKey() => _public;

    private sealed class X9ECParametersHolder
    {
        public ECDomainParameters Domain { get; } = new(Org.BouncyCastle.Asn1.X9.ECNamedCurveTable.GetByName("P-256"));
    }
}
