using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek;

/// <summary>
/// The VMEK (book ch. 3): a key of the hardware TPM, created in its endorsement hierarchy (so it is
/// resident with the EK), <b>non-migratable</b> (fixedTPM, fixedParent, sensitiveDataOrigin),
/// <b>unrestricted</b>, able to sign and to decrypt (ECC NIST P-256, null scheme: ECDSA or ECDH
/// chosen per use), with userWithAuth clear and a PolicyPCR authPolicy over the PCRs of the
/// measured virtualization layer: only the measured vTPM manager can use it. It is made persistent
/// at <see cref="PersistentHandle"/>. Its authValue (a random secret held by the manager) is needed
/// only in the ADMIN role, for the residency proof (TPM2_ActivateCredential).
/// The Privacy CA certifies it (<see cref="Certify"/>) as a CA restricted to vEK certificates;
/// <see cref="IssueVEkCertificate"/> signs vEK certificates with TPM2_Sign inside the TPM;
/// <see cref="Rotate"/> replaces it and revokes the old certificate.
/// </summary>
public sealed class Vmek : IDisposable
{
    /// <summary>The default persistent handle (owner range).</summary>
    public const uint DefaultPersistentHandle = 0x81010100;

    /// <summary>The VMEK's object attributes.</summary>
    public const TpmaObject Attributes =
        TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin | TpmaObject.Sign | TpmaObject.Decrypt;

    private readonly Tpm2 _tpm;
    private readonly byte[] _authValue;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _serial;

    private Vmek(Tpm2 tpm, TpmtPublic publicArea, uint handle, uint generation, PcrSelectionList pcrs, byte[] authValue, TimeProvider time)
    {
        _tpm = tpm;
        Public = publicArea;
        Name = publicArea.GetName();
        PersistentHandle = handle;
        Generation = generation;
        Pcrs = pcrs;
        _authValue = authValue;
        _time = time;
        SignatureGenerator = new TpmSignatureGenerator(publicArea, SignDigest);
    }

    /// <summary>The VMEK's public area.</summary>
    public TpmtPublic Public { get; }

    /// <summary>The VMEK's TPM Name.</summary>
    public byte[] Name { get; }

    /// <summary>Its persistent handle in the hardware TPM.</summary>
    public uint PersistentHandle { get; }

    /// <summary>Its generation (1, then +1 at every rotation); part of its template's unique field.</summary>
    public uint Generation { get; }

    /// <summary>The virtualization-layer PCRs its policy is bound to.</summary>
    public PcrSelectionList Pcrs { get; }

    /// <summary>Its certificate, once certified.</summary>
    public X509Certificate2? Certificate { get; private set; }

    /// <summary>The issuing Privacy CA's chain above the VMEK certificate (its root).</summary>
    public X509Certificate2? IssuerCertificate { get; private set; }

    /// <summary>X.509 signatures with the VMEK inside the TPM.</summary>
    public TpmSignatureGenerator SignatureGenerator { get; }

    /// <summary>The VMEK template: ECC P-256, <see cref="Attributes"/>, the given policy, unique x = "VMEK" ‖ generation.</summary>
    /// <param name="policy">The SHA-256 authPolicy.</param>
    /// <param name="generation">The generation.</param>
    /// <returns>The template.</returns>
    public static TpmtPublic Template(byte[] policy, uint generation)
    {
        var x = new byte[32];
        "VMEK"u8.CopyTo(x);
        BinaryPrimitives.WriteUInt32BigEndian(x.AsSpan(4), generation);
        return new TpmtPublic(
            TpmAlgId.Ecc,
            TpmAlgId.Sha256,
            Attributes,
            policy,
            new EccParms(TpmtSymDef.Null, TpmtScheme.Null, TpmEccCurve.NistP256, TpmtScheme.Null),
            new EccPoint(x, new byte[32]));
    }

    /// <summary>The PolicyPCR digest over the current values of <paramref name="pcrs"/> (SHA-256 bank).</summary>
    /// <param name="tpm">The hardware TPM.</param>
    /// <param name="pcrs">The virtualization-layer PCRs.</param>
    /// <returns>The policy digest.</returns>
    public static byte[] CurrentPolicy(Tpm2 tpm, PcrSelectionList pcrs)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(pcrs);
        var read = tpm.PcrRead(pcrs);
        return PolicyDigest.PolicyPcr(TpmAlgId.Sha256, PolicyDigest.Initial(TpmAlgId.Sha256), read.Selection, read.Digests);
    }

    /// <summary>Creates a VMEK in the hardware TPM, bound to the current values of the virtualization-layer PCRs, and makes it persistent.</summary>
    /// <param name="tpm">The hardware TPM (endorsement and owner authValues empty).</param>
    /// <param name="pcrs">The virtualization-layer PCRs (SHA-256 bank).</param>
    /// <param name="random">Randomness for the authValue.</param>
    /// <param name="timeProvider">The clock of the vEK certificates it issues.</param>
    /// <param name="persistentHandle">Where to keep it; an object already there is evicted.</param>
    /// <param name="generation">Its generation.</param>
    /// <returns>The VMEK.</returns>
    public static Vmek Create(Tpm2 tpm, PcrSelectionList pcrs, IRandomSource random, TimeProvider timeProvider, uint persistentHandle = DefaultPersistentHandle, uint generation = 1)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var policy = CurrentPolicy(tpm, pcrs);
        var auth = GC.AllocateUninitializedArray<byte>(32, pinned: true);
        random.Fill(auth);
        var created = tpm.CreatePrimary(TpmRh.Endorsement, Template(policy, generation), new TpmsSensitiveCreate(auth, []));
        try
        {
            if (tpm.GetHandles(TpmHt.Persistent).Contains(persistentHandle))
            {
                tpm.EvictControl(TpmRh.Owner, persistentHandle, persistentHandle);
            }

            tpm.EvictControl(TpmRh.Owner, created.Handle, persistentHandle);
        }
        finally
        {
            tpm.FlushContext(created.Handle);
        }

        return new Vmek(tpm, created.Public, persistentHandle, generation, pcrs, auth, timeProvider);
    }

    /// <summary>
    /// Has the Privacy CA certify the VMEK: it validates the EK certificate, checks the VMEK's
    /// attributes, and challenges the TPM to prove that the VMEK is resident with that EK.
    /// </summary>
    /// <param name="pca">The Privacy CA.</param>
    /// <param name="ekCertificate">The hardware EK certificate.</param>
    /// <param name="ekPublic">The hardware EK public area.</param>
    /// <returns>The VMEK certificate (also in <see cref="Certificate"/>).</returns>
    /// <exception cref="CertificationRefusedException">The Privacy CA refused.</exception>
    public X509Certificate2 Certify(PrivacyCa pca, X509Certificate2 ekCertificate, TpmtPublic ekPublic)
    {
        ArgumentNullException.ThrowIfNull(pca);
        ArgumentNullException.ThrowIfNull(ekCertificate);
        ArgumentNullException.ThrowIfNull(ekPublic);
        var challenge = pca.BeginCertification(CertifiedKeyKind.Vmek, [ekCertificate], ekPublic, Public);
        var secret = CredentialActivation.Activate(_tpm, PersistentHandle, TpmAuthorization.Password(_authValue), EkTemplateFor(ekPublic), challenge);
        try
        {
            Certificate = pca.CompleteCertification(challenge.Id, secret);
            IssuerCertificate = pca.Certificate;
            return Certificate;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Uses an existing VMEK certificate (for example one issued to this VMEK earlier).</summary>
    /// <param name="certificate">The VMEK certificate.</param>
    /// <param name="issuer">Its issuer's certificate.</param>
    /// <exception cref="ArgumentException">The certificate is for another key.</exception>
    public void UseCertificate(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        if (!certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(TpmPublicKeys.ExportSubjectPublicKeyInfo(Public)))
        {
            throw new ArgumentException("The certificate is for another key.", nameof(certificate));
        }

        Certificate = certificate;
        IssuerCertificate = issuer;
    }

    /// <summary>Signs a SHA-256 digest with the VMEK: a policy session satisfies PolicyPCR, then TPM2_Sign (ECDSA-SHA256).</summary>
    /// <param name="digest">The digest.</param>
    /// <returns>The signature.</returns>
    /// <exception cref="TpmException">TPM_RC_POLICY_FAIL when the virtualization layer changed.</exception>
    public TpmtSignature SignDigest(byte[] digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        lock (_lock)
        {
            using var session = _tpm.StartAuthSession(TpmSe.Policy);
            try
            {
                _tpm.PolicyPcr(session, Pcrs);
                return _tpm.Sign(PersistentHandle, digest, new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256), null, TpmAuthorization.Session(session));
            }
            finally
            {
                _tpm.FlushContext(session);
            }
        }
    }

    /// <summary>
    /// Issues a vEK certificate signed by the VMEK inside the hardware TPM: empty subject with the
    /// vTPM's manufacturer/model/version in a critical subjectAltName, tcg-kp-EKCertificate, the
    /// vEK policy, and the <see cref="VTpmBinding"/> extension.
    /// </summary>
    /// <param name="vek">The vEK public area.</param>
    /// <param name="binding">The binding (VM UUID, hardware EK, junction measurement).</param>
    /// <param name="vtpm">The vTPM description.</param>
    /// <param name="validity">Validity; at most the VMEK certificate's remaining validity is sensible.</param>
    /// <returns>The vEK certificate.</returns>
    /// <exception cref="InvalidOperationException">The VMEK is not certified yet.</exception>
    public X509Certificate2 IssueVEkCertificate(TpmtPublic vek, VTpmBinding binding, TpmDescription vtpm, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(vek);
        ArgumentNullException.ThrowIfNull(binding);
        ArgumentNullException.ThrowIfNull(vtpm);
        var issuer = Certificate ?? throw new InvalidOperationException("Certify the VMEK before it issues vEK certificates.");
        return IssueWith(issuer, SignatureGenerator, vek, binding, vtpm, validity, _time, 0x30 | (Generation & 0x0F), ref _serial);
    }

    /// <summary>
    /// Rotates the VMEK: creates the next generation at the same persistent handle (with the
    /// virtualization layer's current PCR values), has the Privacy CA certify it, and revokes this
    /// VMEK's certificate. This instance can no longer sign.
    /// </summary>
    /// <param name="pca">The Privacy CA.</param>
    /// <param name="ekCertificate">The hardware EK certificate.</param>
    /// <param name="ekPublic">The hardware EK public area.</param>
    /// <param name="random">Randomness for the new authValue.</param>
    /// <returns>The new, certified VMEK.</returns>
    public Vmek Rotate(PrivacyCa pca, X509Certificate2 ekCertificate, TpmtPublic ekPublic, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(pca);
        var next = Create(_tpm, Pcrs, random, _time, PersistentHandle, Generation + 1);
        next.Certify(pca, ekCertificate, ekPublic);
        if (Certificate is { } old)
        {
            pca.Revoke(old);
        }

        Dispose();
        return next;
    }

    /// <summary>Zeroes the authValue held in memory.</summary>
    public void Dispose() => CryptographicOperations.ZeroMemory(_authValue);

    /// <summary>Builds a vEK certificate with any issuer key (the VMEK, or a rival scheme's key).</summary>
    internal static X509Certificate2 IssueWith(X509Certificate2 issuer, X509SignatureGenerator generator, TpmtPublic vek, VTpmBinding? binding, TpmDescription vtpm, TimeSpan validity, TimeProvider time, uint serialPrefix, ref long counter)
    {
        var extensions = VEkExtensions(vek, binding, vtpm);
        var serial = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(serial, ((ulong)serialPrefix << 56) | (ulong)Interlocked.Increment(ref counter));
        var t = time.GetUtcNow();
        var now = new DateTimeOffset(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        return CertificateIssuer.Issue(issuer, generator, new X500DistinguishedName(string.Empty), X509Signatures.PublicKeyOf(vek), extensions, now, now + validity, serial);
    }

    /// <summary>The extensions of a vEK certificate (without key identifiers).</summary>
    internal static List<X509Extension> VEkExtensions(TpmtPublic vek, VTpmBinding? binding, TpmDescription vtpm)
    {
        var extensions = new List<X509Extension>
        {
            new X509BasicConstraintsExtension(false, false, 0, true),
            new X509KeyUsageExtension(vek.Type == TpmAlgId.Rsa ? X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.KeyAgreement, true),
            TcgExtensions.TpmSubjectAltName(vtpm, critical: true),
            TcgExtensions.TpmSpecification(),
            TcgExtensions.Purpose(VmekOids.EkCertificatePurpose),
            TcgExtensions.Policies(VmekOids.VEkPolicy),
        };
        if (binding is not null)
        {
            extensions.Add(binding.ToExtension());
        }

        return extensions;
    }

    internal static TpmtPublic EkTemplateFor(TpmtPublic ek) =>
        ek.Type == TpmAlgId.Rsa ? TpmTemplates.EkRsa2048() : TpmTemplates.EkEccP256();
}
