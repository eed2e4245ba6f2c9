using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek;

/// <summary>What the Privacy CA certifies.</summary>
public enum CertifiedKeyKind
{
    /// <summary>An attestation key (AIK / AK, or a vAIK in a vTPM): restricted signing, fixedTPM.</summary>
    AttestationKey,

    /// <summary>A VMEK: unrestricted sign and decrypt, fixedTPM, fixedParent, usable only through its policy.</summary>
    Vmek,
}

/// <summary>The Privacy CA's challenge: a credential protected to the EK for the key's Name (TPM2_MakeCredential).</summary>
/// <param name="Id">The certification in progress.</param>
/// <param name="CredentialBlob">TPM2B_ID_OBJECT content.</param>
/// <param name="Secret">TPM2B_ENCRYPTED_SECRET content.</param>
public sealed record CertificationChallenge(Guid Id, byte[] CredentialBlob, byte[] Secret);

/// <summary>The Privacy CA refused a certification.</summary>
public sealed class CertificationRefusedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why.</param>
    /// <param name="validation">The failed chain validation, if that is why.</param>
    public CertificationRefusedException(string message, ChainValidationResult? validation)
        : base(validation is null ? message : $"{message}: {validation}")
    {
        Validation = validation;
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why.</param>
    public CertificationRefusedException(string message)
        : this(message, (ChainValidationResult?)null)
    {
    }

    /// <summary>Creates the exception.</summary>
    public CertificationRefusedException()
        : this("Certification refused.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why.</param>
    /// <param name="innerException">The cause.</param>
    public CertificationRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The failed chain validation, or null.</summary>
    public ChainValidationResult? Validation { get; }
}

/// <summary>
/// The Privacy CA (book ch. 3): certifies a TPM's attestation keys and VMEKs. A certification is
/// one round trip: <see cref="BeginCertification"/> validates the endorsement chain (a hardware EK
/// certificate to a manufacturer root, or a vEK certificate through its VMEK certificate to this
/// CA), checks the key's TPM attributes, and protects a fresh secret to the EK for the key's Name
/// (TPM2_MakeCredential); only the TPM holding both the EK and the key can recover it
/// (TPM2_ActivateCredential), so <see cref="CompleteCertification"/> issues the certificate only
/// to the TPM the key is resident in. Revocation through <see cref="SoftwareCertificateAuthority.BuildCrl"/>.
/// </summary>
public sealed class PrivacyCa : SoftwareCertificateAuthority
{
    /// <summary>The default CA name.</summary>
    public const string DefaultName = "CN=TrustStack Privacy CA,O=TrustStack";

    private readonly ConcurrentDictionary<Guid, Pending> _pending = new();
    private readonly IRandomSource _random;
    private int _roundTrips;

    /// <summary>Creates the Privacy CA.</summary>
    /// <param name="manufacturerRoots">The TPM manufacturer roots it trusts for EK certificates.</param>
    /// <param name="random">Randomness for its key, credentials and ids.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="name">Its name.</param>
    public PrivacyCa(IEnumerable<X509Certificate2> manufacturerRoots, IRandomSource random, TimeProvider timeProvider, string name = DefaultName)
        : base(name, random, timeProvider, 0x22)
    {
        ArgumentNullException.ThrowIfNull(manufacturerRoots);
        _random = random;
        Validator = new CertificateChainValidator([.. manufacturerRoots, Certificate], timeProvider);
    }

    /// <summary>The validator of endorsement chains (manufacturer roots and this CA; this CA's CRLs).</summary>
    public CertificateChainValidator Validator { get; }

    /// <summary>Completed certifications (round trips) so far.</summary>
    public int RoundTrips => Volatile.Read(ref _roundTrips);

    /// <summary>Validity of attestation key certificates; one year by default.</summary>
    public TimeSpan AttestationKeyValidity { get; init; } = TimeSpan.FromDays(365);

    /// <summary>Validity of VMEK certificates; one year by default (rotate before).</summary>
    public TimeSpan VmekValidity { get; init; } = TimeSpan.FromDays(365);

    /// <summary>
    /// Problems of endorsement chains this CA overlooks; empty by default. The rival schemes need
    /// it (a vEK certificate issued by a hardware AIK or by the manager's local CA is not issued by
    /// a VMEK certificate): each tolerated kind is a rule the scheme breaks.
    /// </summary>
    public ISet<ChainProblemKind> ToleratedProblems { get; } = new HashSet<ChainProblemKind>();

    /// <summary>The VMEK policy the CA requires (the policy of the measured vTPM manager), or null to accept any non-empty policy.</summary>
    public byte[]? RequiredVmekPolicy { get; set; }

    /// <summary>Starts a certification: validates, then challenges.</summary>
    /// <param name="kind">What is certified.</param>
    /// <param name="endorsementChain">The EK certificate (or vEK certificate and its VMEK certificate), leaf first.</param>
    /// <param name="endorsementKey">The EK public area (must match the certificate).</param>
    /// <param name="key">The public area of the key to certify.</param>
    /// <returns>The challenge for the TPM.</returns>
    /// <exception cref="CertificationRefusedException">The chain or the key is not acceptable.</exception>
    public CertificationChallenge BeginCertification(CertifiedKeyKind kind, IReadOnlyList<X509Certificate2> endorsementChain, TpmtPublic endorsementKey, TpmtPublic key)
    {
        ArgumentNullException.ThrowIfNull(endorsementChain);
        ArgumentNullException.ThrowIfNull(endorsementKey);
        ArgumentNullException.ThrowIfNull(key);
        if (endorsementChain.Count == 0)
        {
            throw new CertificationRefusedException("No endorsement certificate.");
        }

        var virtualEk = VTpmBinding.From(endorsementChain[0]) is not null;
        if (kind == CertifiedKeyKind.Vmek && virtualEk)
        {
            throw new CertificationRefusedException("A VMEK lives in a hardware TPM; a vEK cannot vouch for one.");
        }

        var result = Validator.Validate(endorsementChain, new ChainExpectations
        {
            Profile = virtualEk ? CertificateProfile.VEk : CertificateProfile.EndorsementKey,
            SubjectKey = endorsementKey,
        });
        if (ToleratedProblems.Count != 0)
        {
            result = new ChainValidationResult([.. result.Problems.Where(q => !ToleratedProblems.Contains(q.Kind))]);
        }

        if (!result.IsValid)
        {
            throw new CertificationRefusedException("The endorsement chain does not validate", result);
        }

        CheckAttributes(kind, key);
        if (!CertificateChainValidator.TryExportSubjectPublicKeyInfo(key, out _, out var unusable))
        {
            throw new CertificationRefusedException($"The key to certify is not a usable public key: {unusable}");
        }

        var secret = new byte[32];
        _random.Fill(secret);
        TpmCredential credential;
        try
        {
            credential = Tpm2.MakeCredentialOffline(endorsementKey, secret, key.GetName(), _random);
        }
        catch (Exception e) when (CertificateChainValidator.IsDecodingFailure(e))
        {
            // An EK with an off-curve point or an unusable RSA modulus cannot receive a credential.
            CryptographicOperations.ZeroMemory(secret);
            throw new CertificationRefusedException($"The endorsement key is not a usable public key: {e.Message}", e);
        }

        Span<byte> idBytes = stackalloc byte[16];
        _random.Fill(idBytes);
        var id = new Guid(idBytes);
        _pending[id] = new Pending(kind, key, endorsementChain[0], endorsementKey, secret);
        return new CertificationChallenge(id, credential.CredentialBlob, credential.Secret);
    }

    /// <summary>Completes a certification: the TPM proved residency by recovering the secret.</summary>
    /// <param name="id">The challenge id.</param>
    /// <param name="activatedSecret">What TPM2_ActivateCredential returned.</param>
    /// <returns>The attestation key or VMEK certificate.</returns>
    /// <exception cref="CertificationRefusedException">Unknown id, or the wrong secret (the key is not resident with that EK).</exception>
    public X509Certificate2 CompleteCertification(Guid id, ReadOnlySpan<byte> activatedSecret)
    {
        if (!_pending.TryRemove(id, out var p))
        {
            throw new CertificationRefusedException($"No certification {id} is in progress.");
        }

        try
        {
            if (!CryptographicOperations.FixedTimeEquals(p.Secret, activatedSecret))
            {
                throw new CertificationRefusedException("The TPM did not recover the credential: the key is not resident with that EK.");
            }

            Interlocked.Increment(ref _roundTrips);
            var tpm = TcgExtensions.ReadTpmDescription(p.EkCertificate) ?? new TpmDescription("id:00000000", "unknown", "id:00000000");
            return p.Kind == CertifiedKeyKind.AttestationKey ? IssueAttestationKey(p.Key, tpm) : IssueVmek(p, tpm);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(p.Secret);
        }
    }

    /// <summary>
    /// Rival scheme 4 (the Privacy CA certifies each vEK): after checking a hardware quote by a
    /// certified hardware attestation key over <paramref name="nonce"/>, issues a vEK certificate
    /// itself. One more round trip and one more CA signature per vTPM than the VMEK scheme.
    /// </summary>
    /// <param name="vek">The vEK public area.</param>
    /// <param name="vtpm">The vTPM description.</param>
    /// <param name="hardwareAik">The hardware attestation key and its certificate (from this CA).</param>
    /// <param name="hardwareQuote">The hardware quote (of the junction PCR).</param>
    /// <param name="nonce">The nonce this CA gave.</param>
    /// <returns>The vEK certificate, issued by this CA.</returns>
    /// <exception cref="CertificationRefusedException">The attestation key certificate or the quote does not verify.</exception>
    public X509Certificate2 IssueVEkCertificate(TpmtPublic vek, TpmDescription vtpm, AttestationKeyCredential hardwareAik, QuoteResult hardwareQuote, byte[] nonce)
    {
        ArgumentNullException.ThrowIfNull(vek);
        ArgumentNullException.ThrowIfNull(vtpm);
        ArgumentNullException.ThrowIfNull(hardwareAik);
        ArgumentNullException.ThrowIfNull(hardwareQuote);
        ArgumentNullException.ThrowIfNull(nonce);
        var result = Validator.Validate([hardwareAik.Certificate], new ChainExpectations { Profile = CertificateProfile.AttestationKey, SubjectKey = hardwareAik.Key });
        if (!result.IsValid)
        {
            throw new CertificationRefusedException("The hardware attestation key certificate does not validate", result);
        }

        if (!TpmSignatureVerifier.VerifyMessage(hardwareAik.Key, hardwareQuote.Quoted, hardwareQuote.Signature)
            || !hardwareQuote.Attest.ExtraData.AsSpan().SequenceEqual(nonce))
        {
            throw new CertificationRefusedException("The hardware quote does not verify.");
        }

        Interlocked.Increment(ref _roundTrips);
        return Issue(new X500DistinguishedName(string.Empty), X509Signatures.PublicKeyOf(vek), Vmek.VEkExtensions(vek, null, vtpm), AttestationKeyValidity);
    }

    /// <summary>Checks a key's TPM attributes for its kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <param name="key">The key.</param>
    /// <exception cref="CertificationRefusedException">An attribute is wrong.</exception>
    public void CheckAttributes(CertifiedKeyKind kind, TpmtPublic key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var a = key.ObjectAttributes;
        const TpmaObject Fixed = TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin;
        if ((a & Fixed) != Fixed)
        {
            throw new CertificationRefusedException("The key must be fixedTPM, fixedParent and sensitiveDataOrigin.");
        }

        if (kind == CertifiedKeyKind.AttestationKey)
        {
            if ((a & TpmaObject.Restricted) == 0 || (a & TpmaObject.Sign) == 0 || (a & TpmaObject.Decrypt) != 0)
            {
                throw new CertificationRefusedException("An attestation key must be a restricted signing key.");
            }

            // What a verifier will demand of the certified key (CertificateChainValidator, AttestationKey profile).
            if (AttestationKeyProfile.Problems(key) is { Count: > 0 } problems)
            {
                throw new CertificationRefusedException($"Not an attestation key: {string.Join("; ", problems)}.");
            }

            return;
        }

        if ((a & TpmaObject.Restricted) != 0 || (a & TpmaObject.Sign) == 0 || (a & TpmaObject.Decrypt) == 0)
        {
            throw new CertificationRefusedException("A VMEK must be an unrestricted key able to sign and decrypt.");
        }

        if ((a & TpmaObject.UserWithAuth) != 0 || key.AuthPolicy.Length == 0)
        {
            throw new CertificationRefusedException("A VMEK must be usable only through its policy (userWithAuth clear, a policy set).");
        }

        if (RequiredVmekPolicy is { } policy && !CryptographicOperations.FixedTimeEquals(policy, key.AuthPolicy))
        {
            throw new CertificationRefusedException("The VMEK policy is not the policy of the measured vTPM manager.");
        }
    }

    private X509Certificate2 IssueAttestationKey(TpmtPublic key, TpmDescription tpm)
    {
        X509Extension[] extensions =
        [
            new X509BasicConstraintsExtension(false, false, 0, true),
            new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true),
            TcgExtensions.TpmSubjectAltName(tpm, critical: true),
            TcgExtensions.Purpose(VmekOids.AikCertificatePurpose),
            TcgExtensions.Policies(VmekOids.VerifiedTpmResidency, VmekOids.VerifiedTpmFixed, VmekOids.VerifiedTpmRestricted),
            new CertifiedKeyBinding(key.GetName()).ToExtension(),
        ];
        return Issue(new X500DistinguishedName(string.Empty), X509Signatures.PublicKeyOf(key), extensions, AttestationKeyValidity);
    }

    private X509Certificate2 IssueVmek(Pending p, TpmDescription tpm)
    {
        var name = p.Key.GetName();
        X509Extension[] extensions =
        [
            new X509BasicConstraintsExtension(true, true, 0, true),
            new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true),
            TcgExtensions.TpmSubjectAltName(tpm, critical: false),
            TcgExtensions.Purpose(VmekOids.VmekKeyPurpose),
            TcgExtensions.Policies(VmekOids.VmekPolicy, VmekOids.VerifiedTpmResidency, VmekOids.VerifiedTpmFixed),
            new HardwareEkBinding(p.EndorsementKey.GetName(), SHA256.HashData(p.EkCertificate.RawData), name).ToExtension(),
        ];
        var subject = new X500DistinguishedName($"CN=VMEK {Convert.ToHexString(name, 2, 8)},O=TrustStack vTPM platform");
        return Issue(subject, X509Signatures.PublicKeyOf(p.Key), extensions, VmekValidity);
    }

    private sealed record Pending(CertifiedKeyKind Kind, TpmtPublic Key, X509Certificate2 EkCertificate, TpmtPublic EndorsementKey, byte[] Secret);
}

/// <summary>
/// The TPM side of a Privacy CA round trip: TPM2_ActivateCredential with the EK (a policy session
/// running PolicySecret(TPM_RH_ENDORSEMENT), as the EK's policy wants).
/// </summary>
public static class CredentialActivation
{
    /// <summary>Recovers the Privacy CA's secret for a loaded key.</summary>
    /// <param name="tpm">The TPM holding the key and the EK.</param>
    /// <param name="keyHandle">The loaded key the challenge names.</param>
    /// <param name="keyAdminAuth">The key's ADMIN-role authorization.</param>
    /// <param name="ekTemplate">The EK template (the EK is re-created from the endorsement seed and flushed after).</param>
    /// <param name="challenge">The challenge.</param>
    /// <returns>The secret to send back.</returns>
    /// <exception cref="TpmException">The TPM refused: the credential was not made for this key and EK.</exception>
    public static byte[] Activate(Tpm2 tpm, uint keyHandle, TpmAuthorization keyAdminAuth, TpmtPublic ekTemplate, CertificationChallenge challenge)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(challenge);
        var ek = tpm.CreatePrimary(TpmRh.Endorsement, ekTemplate);
        try
        {
            using var session = tpm.StartAuthSession(TpmSe.Policy);
            tpm.PolicySecret(session, TpmRh.Endorsement, TpmAuthorization.EmptyPassword);
            try
            {
                return tpm.ActivateCredential(keyHandle, ek.Handle, challenge.CredentialBlob, challenge.Secret, keyAdminAuth, TpmAuthorization.Session(session));
            }
            finally
            {
                tpm.FlushContext(session);
            }
        }
        finally
        {
            tpm.FlushContext(ek.Handle);
        }
    }
}
