using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Certs.Vmek;

/// <summary>An attestation key and its Privacy CA certificate.</summary>
/// <param name="Key">The key's public area.</param>
/// <param name="Certificate">Its certificate.</param>
public sealed record AttestationKeyCredential(TpmtPublic Key, X509Certificate2 Certificate);

/// <summary>The TPM side of attestation key certification (AIK in a hardware TPM, vAIK in a vTPM).</summary>
public static class AttestationKeys
{
    /// <summary>
    /// Creates the TPM's attestation key (TpmTemplates.AkEccP256 as a primary in the endorsement
    /// hierarchy, flushed after; re-created identically on demand) and has the Privacy CA certify
    /// it through the endorsement chain: one round trip (MakeCredential / ActivateCredential).
    /// </summary>
    /// <param name="tpm">The TPM (a hardware TPM or a vTPM).</param>
    /// <param name="pca">The Privacy CA.</param>
    /// <param name="endorsementChain">The EK certificate, or the vEK certificate and its VMEK certificate, leaf first.</param>
    /// <param name="endorsementKey">The (v)EK public area.</param>
    /// <returns>The key and its certificate.</returns>
    /// <exception cref="CertificationRefusedException">The Privacy CA refused.</exception>
    public static AttestationKeyCredential Certify(Tpm2 tpm, PrivacyCa pca, IReadOnlyList<X509Certificate2> endorsementChain, TpmtPublic endorsementKey)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        ArgumentNullException.ThrowIfNull(pca);
        ArgumentNullException.ThrowIfNull(endorsementKey);
        var ak = tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());
        try
        {
            var challenge = pca.BeginCertification(CertifiedKeyKind.AttestationKey, endorsementChain, endorsementKey, ak.Public);
            var secret = CredentialActivation.Activate(tpm, ak.Handle, TpmAuthorization.EmptyPassword, Vmek.EkTemplateFor(endorsementKey), challenge);
            return new AttestationKeyCredential(ak.Public, pca.CompleteCertification(challenge.Id, secret));
        }
        finally
        {
            tpm.FlushContext(ak.Handle);
        }
    }
}

/// <summary>The vEK credential of one vTPM.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="VEk">The vEK public area (ECC P-256, template L-2).</param>
/// <param name="Chain">The vEK certificate and the certificates above it up to (not including) the trust anchor, leaf first.</param>
public sealed record VEkCredential(Guid VmId, TpmtPublic VEk, IReadOnlyList<X509Certificate2> Chain)
{
    /// <summary>The vEK certificate.</summary>
    public X509Certificate2 Certificate => Chain[0];
}

/// <summary>
/// The VMEK scheme plugged into the vTPM manager (<see cref="IVTpmCredentialProvider"/>): when a
/// vTPM is manufactured, derives its vEK, computes the junction measurement its launch will have,
/// issues its vEK certificate with the VMEK inside the hardware TPM (binding: VM UUID, hardware
/// EK Name and certificate hash, junction measurement), and writes it into the vTPM's NV at
/// 0x01C0000A, where the guest's <c>tpm2_nvread</c> / <c>tpm2_getekcertificate</c> find it.
/// A vTPM migrated to this host (<see cref="VTpmCredentialOccasion.MigratedIn"/>) is re-certified
/// the same way: same vEK, a new certificate from this host's VMEK that binds this host's
/// hardware EK, replacing the source host's certificate in NV.
/// </summary>
public sealed class VmekCredentialProvider : IVTpmCredentialProvider
{
    private readonly ConcurrentDictionary<Guid, VEkCredential> _issued = new();
    private readonly byte[] _hardwareEkName;
    private readonly byte[] _hardwareEkCertificateHash;

    /// <summary>Creates the provider.</summary>
    /// <param name="vmek">A certified VMEK.</param>
    /// <param name="hardwareEkCertificate">The hardware EK certificate the VMEK was certified with.</param>
    /// <param name="hardwareEk">The hardware EK public area.</param>
    public VmekCredentialProvider(Vmek vmek, X509Certificate2 hardwareEkCertificate, TpmtPublic hardwareEk)
    {
        ArgumentNullException.ThrowIfNull(vmek);
        ArgumentNullException.ThrowIfNull(hardwareEkCertificate);
        ArgumentNullException.ThrowIfNull(hardwareEk);
        Vmek = vmek;
        _hardwareEkName = hardwareEk.GetName();
        _hardwareEkCertificateHash = SHA256.HashData(hardwareEkCertificate.RawData);
    }

    /// <summary>The VMEK that signs (replace after a rotation).</summary>
    public Vmek Vmek { get; set; }

    /// <summary>The vTPM description in the vEK certificates.</summary>
    public TpmDescription VTpmDescription { get; init; } = DefaultVTpmDescription;

    /// <summary>The default vTPM description: manufacturer "id:54535456" ("TSTV"), model "TrustStack vTPM", version "id:00010000".</summary>
    public static TpmDescription DefaultVTpmDescription { get; } = new("id:54535456", "TrustStack vTPM", "id:00010000");

    /// <summary>Validity of vEK certificates; one year by default.</summary>
    public TimeSpan Validity { get; init; } = TimeSpan.FromDays(365);

    /// <summary>The credentials issued so far, by VM.</summary>
    public IReadOnlyDictionary<Guid, VEkCredential> Issued => _issued;

    /// <summary>
    /// The junction measurement of a vTPM launch: SHA-256 of what the trusted junction point
    /// measures (code identity ‖ SHA-256(vEK TPMT_PUBLIC) ‖ VM UUID), the digest it extends into the
    /// SHA-256 bank of the junction PCR.
    /// </summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="codeDigest">The vTPM code identity.</param>
    /// <param name="vek">The vEK public area.</param>
    /// <returns>The digest.</returns>
    public static byte[] JunctionMeasurement(Guid vmId, byte[] codeDigest, TpmtPublic vek)
    {
        ArgumentNullException.ThrowIfNull(vek);
        var launch = new VTpmLaunch(vmId, codeDigest, SHA256.HashData(vek.ToBytes()), vek.GetName());
        return SHA256.HashData(TrustedJunctionPoint.LaunchMeasurement(launch));
    }

    /// <inheritdoc/>
    /// <remarks>Both occasions issue a certificate for this host; see the class remarks.</remarks>
    public void Provision(VTpmCredentialContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var credential = Issue(context.VTpm, context.VmId, context.CodeDigest);
        ManufacturerCa.WriteCertificate(context.VTpm, TpmTemplates.EkCertificateNvIndexEccP256, credential.Certificate.RawData);
    }

    /// <summary>Issues (without writing NV) the vEK credential of a vTPM.</summary>
    /// <param name="vtpm">The vTPM.</param>
    /// <param name="vmId">Its VM.</param>
    /// <param name="codeDigest">The vTPM code identity.</param>
    /// <returns>The credential.</returns>
    public VEkCredential Issue(Tpm2 vtpm, Guid vmId, byte[] codeDigest)
    {
        ArgumentNullException.ThrowIfNull(vtpm);
        var vek = vtpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        vtpm.FlushContext(vek.Handle);
        var binding = new VTpmBinding(vmId, _hardwareEkName, _hardwareEkCertificateHash, JunctionMeasurement(vmId, codeDigest, vek.Public));
        var vmek = Vmek;
        var cert = vmek.IssueVEkCertificate(vek.Public, binding, VTpmDescription, Validity);
        var credential = new VEkCredential(vmId, vek.Public, [cert, vmek.Certificate!]);
        _issued[vmId] = credential;
        return credential;
    }
}
