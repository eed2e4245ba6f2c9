using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace TrustStack.Attestation.TvpPca;

/// <summary>
/// Where a challenger learns through which (v)EK the Privacy CA certified an attestation key
/// (AIK or vAIK) — the fact the sameness proof (a) rests on. In process: <see cref="TvpPcaPrivacyCa"/>;
/// over HTTP: <see cref="HttpEndorsementDirectory"/>, whose answers the PCA signs.
/// </summary>
public interface IEndorsementDirectory
{
    /// <summary>The Name of the (v)EK an attestation key certificate was issued through, or null when the Privacy CA did not issue it.</summary>
    /// <param name="attestationKeyCertificate">An AIK or vAIK certificate.</param>
    /// <returns>The EK Name or null.</returns>
    /// <exception cref="EndorsementQueryException">The answer could not be authenticated.</exception>
    byte[]? EndorsementOf(X509Certificate2 attestationKeyCertificate);
}

/// <summary>The Privacy CA's answer to an endorsement query could not be authenticated (bad signature, foreign responder, wrong nonce or certificate).</summary>
public sealed class EndorsementQueryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EndorsementQueryException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was wrong.</param>
    public EndorsementQueryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was wrong.</param>
    /// <param name="innerException">The cause.</param>
    public EndorsementQueryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Challenger → Privacy CA: through which (v)EK was this attestation key certificate issued?</summary>
/// <param name="Nonce">A fresh nonce the answer must echo (no replayed answers).</param>
/// <param name="CertificateDigest">SHA-256 of the AIK or vAIK certificate (DER).</param>
public sealed record EndorsementQuery(byte[] Nonce, byte[] CertificateDigest);

/// <summary>
/// Privacy CA → Challenger: the signed answer. The signature (ECDSA P-256 with SHA-256, r ‖ s as in IEEE P1363) is made by
/// the PCA's endorsement responder key over <see cref="SignedData"/>; the responder certificate is
/// issued by the Privacy CA (key usage digitalSignature, extended key usage
/// <see cref="ResponderKeyPurpose"/>), so a challenger that trusts the PCA certificate can check it,
/// as an OCSP client checks a delegated responder (RFC 6960 §4.2.2.2).
/// </summary>
/// <param name="Nonce">The query's nonce.</param>
/// <param name="CertificateDigest">The query's certificate digest.</param>
/// <param name="EndorsementKeyName">The (v)EK Name, or null when the PCA did not issue that certificate.</param>
/// <param name="ResponderCertificate">The responder certificate (issued by the Privacy CA).</param>
/// <param name="Signature">The responder's signature over <see cref="SignedData"/>.</param>
public sealed record EndorsementAnswer(byte[] Nonce, byte[] CertificateDigest, byte[]? EndorsementKeyName, X509Certificate2 ResponderCertificate, byte[] Signature)
{
    /// <summary>The extended key usage of the Privacy CA's endorsement responder certificate.</summary>
    public const string ResponderKeyPurpose = VmekOids.TrustStackArc + ".10";

    /// <summary>The octets the responder signs: <c>"TVPPCA-ENDORSEMENT/2\0" ‖ u32 len ‖ nonce ‖ u32 len ‖ digest ‖ u8 found ‖ u32 len ‖ EK Name</c>.</summary>
    /// <param name="nonce">The nonce.</param>
    /// <param name="certificateDigest">The certificate digest.</param>
    /// <param name="endorsementKeyName">The EK Name or null.</param>
    /// <returns>The octets.</returns>
    public static byte[] SignedData(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> certificateDigest, ReadOnlySpan<byte> endorsementKeyName)
    {
        var w = new TpmWriter(128);
        w.WriteBytes("TVPPCA-ENDORSEMENT/2\0"u8);
        w.WriteU32(checked((uint)nonce.Length));
        w.WriteBytes(nonce);
        w.WriteU32(checked((uint)certificateDigest.Length));
        w.WriteBytes(certificateDigest);
        w.WriteU8(endorsementKeyName.IsEmpty ? (byte)0 : (byte)1);
        w.WriteU32(checked((uint)endorsementKeyName.Length));
        w.WriteBytes(endorsementKeyName);
        return w.ToArray();
    }

    /// <summary>
    /// Authenticates the answer for <paramref name="query"/>: echoed nonce and digest, a responder
    /// certificate issued by <paramref name="trustedPca"/> for the responder purpose and valid now,
    /// and the responder's signature.
    /// </summary>
    /// <param name="query">The query sent.</param>
    /// <param name="trustedPca">The Privacy CA certificate the challenger trusts.</param>
    /// <param name="time">The challenger's clock.</param>
    /// <exception cref="EndorsementQueryException">Any of it fails.</exception>
    public void Authenticate(EndorsementQuery query, X509Certificate2 trustedPca, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(trustedPca);
        ArgumentNullException.ThrowIfNull(time);
        if (!Nonce.AsSpan().SequenceEqual(query.Nonce))
        {
            throw new EndorsementQueryException("The Privacy CA's answer does not echo the query's nonce (a replayed answer).");
        }

        if (!CertificateDigest.AsSpan().SequenceEqual(query.CertificateDigest))
        {
            throw new EndorsementQueryException("The Privacy CA's answer is about another certificate.");
        }

        try
        {
            AuthenticateResponder(trustedPca, time);
        }
        catch (CryptographicException e)
        {
            // A responder certificate from the network whose key or encoding .NET cannot use.
            throw new EndorsementQueryException($"The responder certificate cannot be used: {e.Message}", e);
        }
    }

    private void AuthenticateResponder(X509Certificate2 trustedPca, TimeProvider time)
    {
        using (var chain = new X509Chain())
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(trustedPca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.DisableCertificateDownloads = true;
            chain.ChainPolicy.VerificationTime = time.GetUtcNow().UtcDateTime;
            chain.ChainPolicy.VerificationTimeIgnored = false;
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ResponderKeyPurpose));
            if (!chain.Build(ResponderCertificate) || chain.ChainElements.Count != 2 || !chain.ChainElements[1].Certificate.RawData.AsSpan().SequenceEqual(trustedPca.RawData))
            {
                var status = string.Join(", ", chain.ChainStatus.Select(s => s.Status));
                throw new EndorsementQueryException($"The responder certificate {ResponderCertificate.Subject} is not an endorsement responder of the trusted Privacy CA ({(status.Length == 0 ? "wrong issuer" : status)}).");
            }
        }

        using var key = ResponderCertificate.GetECDsaPublicKey()
            ?? throw new EndorsementQueryException("The responder certificate has no ECDSA key.");
        var signed = SignedData(Nonce, CertificateDigest, EndorsementKeyName);
        if (!key.VerifyData(signed, Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            throw new EndorsementQueryException("The signature of the Privacy CA's answer does not verify: the answer was altered.");
        }
    }
}

/// <summary>The Privacy CA's endorsement responder: an ECDSA P-256 key (RFC 6979 signatures) certified by the PCA on first use.</summary>
internal sealed class EndorsementResponder
{
    private static readonly ECDomainParameters Domain = new(Org.BouncyCastle.Asn1.X9.ECNamedCurveTable.GetByName("P-256"));
    private readonly ECPrivateKeyParameters _key;

    public EndorsementResponder(PrivacyCa ca, IRandomSource random)
    {
        Span<byte> bytes = stackalloc byte[40];
        random.Fill(bytes);
        var d = new BcBigInteger(1, bytes.ToArray()).Mod(Domain.N.Subtract(BcBigInteger.One)).Add(BcBigInteger.One);
        CryptographicOperations.ZeroMemory(bytes);
        _key = new ECPrivateKeyParameters(d, Domain);
        var q = Domain.G.Multiply(d).Normalize();
        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = q.AffineXCoord.GetEncoded(), Y = q.AffineYCoord.GetEncoded() },
        });
        var publicKey = PublicKey.CreateFromSubjectPublicKeyInfo(ecdsa.ExportSubjectPublicKeyInfo(), out _);
        Certificate = ca.Issue(
            new X500DistinguishedName("CN=TrustStack Privacy CA endorsement responder,O=TrustStack"),
            publicKey,
            [
                new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true),
                new X509EnhancedKeyUsageExtension(new OidCollection { new Oid(EndorsementAnswer.ResponderKeyPurpose) }, true),
                new X509BasicConstraintsExtension(false, false, 0, true),
            ],
            ca.AttestationKeyValidity);
    }

    public X509Certificate2 Certificate { get; }

    public EndorsementAnswer Answer(EndorsementQuery query, byte[]? endorsementKeyName)
    {
        var signed = EndorsementAnswer.SignedData(query.Nonce, query.CertificateDigest, endorsementKeyName);
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, _key);
        var rs = signer.GenerateSignature(SHA256.HashData(signed));
        var signature = new byte[64];
        Org.BouncyCastle.Utilities.BigIntegers.AsUnsignedByteArray(rs[0], signature, 0, 32);
        Org.BouncyCastle.Utilities.BigIntegers.AsUnsignedByteArray(rs[1], signature, 32, 32);
        return new EndorsementAnswer(query.Nonce, query.CertificateDigest, endorsementKeyName, Certificate, signature);
    }
}
