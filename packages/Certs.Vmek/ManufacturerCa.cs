using System.Security.Cryptography.X509Certificates;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek;

/// <summary>The EK credentials of one TPM: the EK public areas and their certificates.</summary>
/// <param name="RsaEk">The RSA-2048 EK (template L-1), or null.</param>
/// <param name="Rsa">Its certificate (NV 0x01C00002), or null.</param>
/// <param name="EccEk">The ECC P-256 EK (template L-2), or null.</param>
/// <param name="Ecc">Its certificate (NV 0x01C0000A), or null.</param>
public sealed record EkCredentials(TpmtPublic? RsaEk, X509Certificate2? Rsa, TpmtPublic? EccEk, X509Certificate2? Ecc);

/// <summary>
/// A software TPM manufacturer CA: at manufacturing time it derives a TPM's endorsement keys
/// (TCG EK Credential Profile templates L-1 and L-2), issues their EK certificates as the profile
/// says (empty subject; critical subjectAltName directoryName with the tcg-at-tpmManufacturer,
/// Model and Version attributes; subjectDirectoryAttributes with tcg-at-tpmSpecification;
/// basicConstraints CA false; keyEncipherment or keyAgreement; extended key usage
/// tcg-kp-EKCertificate; a certificate policy), and stores them in the TPM's NV at 0x01C00002
/// (RSA) and 0x01C0000A (ECC), platform-created, readable by owner and by the index's empty
/// authValue, where <c>tpm2_nvread</c> and <c>tpm2_getekcertificate</c> find them.
/// </summary>
public sealed class ManufacturerCa : SoftwareCertificateAuthority
{
    /// <summary>The default CA name.</summary>
    public const string DefaultName = "CN=TrustStack Software TPM Manufacturer CA,O=TrustStack";

    /// <summary>NV attributes of an EK certificate index (TCG PC Client Platform TPM Profile / Provisioning Guidance).</summary>
    public const TpmaNv EkCertificateNvAttributes =
        TpmaNv.PpWrite | TpmaNv.WriteDefine | TpmaNv.PpRead | TpmaNv.OwnerRead | TpmaNv.AuthRead | TpmaNv.NoDA | TpmaNv.PlatformCreate;

    /// <summary>Creates the CA.</summary>
    /// <param name="random">Randomness for the CA key.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="name">The CA's name.</param>
    public ManufacturerCa(IRandomSource random, TimeProvider timeProvider, string name = DefaultName)
        : base(name, random, timeProvider, 0x11)
    {
    }

    /// <summary>How long EK certificates are valid; 20 years by default.</summary>
    public TimeSpan EkValidity { get; init; } = TimeSpan.FromDays(365 * 20);

    /// <summary>Issues the EK certificate of <paramref name="ek"/>.</summary>
    /// <param name="ek">The EK public area (RSA or ECC, restricted decryption).</param>
    /// <param name="tpm">The TPM it belongs to.</param>
    /// <returns>The certificate.</returns>
    public X509Certificate2 IssueEkCertificate(TpmtPublic ek, TpmDescription tpm)
    {
        ArgumentNullException.ThrowIfNull(ek);
        ArgumentNullException.ThrowIfNull(tpm);
        X509Extension[] extensions =
        [
            new X509BasicConstraintsExtension(false, false, 0, true),
            new X509KeyUsageExtension(ek.Type == TpmAlgId.Rsa ? X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.KeyAgreement, true),
            TcgExtensions.TpmSubjectAltName(tpm, critical: true),
            TcgExtensions.TpmSpecification(),
            TcgExtensions.Purpose(VmekOids.EkCertificatePurpose),
            TcgExtensions.Policies(VmekOids.SoftwareEkPolicy),
        ];
        return Issue(new X500DistinguishedName(string.Empty), X509Signatures.PublicKeyOf(ek), extensions, EkValidity);
    }

    /// <summary>
    /// Manufactures a TPM's EK credentials: creates its EKs (TPM2_CreatePrimary in the endorsement
    /// hierarchy, flushed after), issues their certificates and writes them into NV with platform
    /// authorization (replacing what is there).
    /// </summary>
    /// <param name="tpm">The TPM (started; platform and endorsement authValues empty).</param>
    /// <param name="rsa">Whether to make the RSA-2048 EK certificate.</param>
    /// <param name="ecc">Whether to make the ECC P-256 EK certificate.</param>
    /// <param name="description">The TPM description; read from the TPM's properties when null.</param>
    /// <returns>The EKs and their certificates.</returns>
    public EkCredentials Manufacture(Tpm2 tpm, bool rsa = true, bool ecc = true, TpmDescription? description = null)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        var desc = description ?? TpmDescription.Read(tpm);
        (TpmtPublic? Ek, X509Certificate2? Cert) Make(bool wanted, TpmtPublic template, uint index)
        {
            if (!wanted)
            {
                return (null, null);
            }

            var ek = tpm.CreatePrimary(TpmRh.Endorsement, template);
            tpm.FlushContext(ek.Handle);
            var cert = IssueEkCertificate(ek.Public, desc);
            WriteCertificate(tpm, index, cert.RawData);
            return (ek.Public, cert);
        }

        var r = Make(rsa, TpmTemplates.EkRsa2048(), TpmTemplates.EkCertificateNvIndexRsa2048);
        var e = Make(ecc, TpmTemplates.EkEccP256(), TpmTemplates.EkCertificateNvIndexEccP256);
        return new EkCredentials(r.Ek, r.Cert, e.Ek, e.Cert);
    }

    /// <summary>Writes a DER certificate into an EK certificate NV index (defined with <see cref="EkCertificateNvAttributes"/> by the platform; replaced if present).</summary>
    /// <param name="tpm">The TPM.</param>
    /// <param name="index">0x01C00002, 0x01C0000A or another index of the EK certificate range.</param>
    /// <param name="der">The certificate.</param>
    public static void WriteCertificate(Tpm2 tpm, uint index, ReadOnlySpan<byte> der)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        if (der.Length is 0 or > ushort.MaxValue)
        {
            throw new ArgumentException("A certificate of 1..65535 octets is needed.", nameof(der));
        }

        if (tpm.GetHandles(TpmHt.NvIndex).Contains(index))
        {
            tpm.NvUndefineSpace(TpmRh.Platform, index);
        }

        tpm.NvDefineSpace(TpmRh.Platform, new TpmsNvPublic(index, TpmAlgId.Sha256, EkCertificateNvAttributes, [], (ushort)der.Length), []);
        tpm.NvWrite(TpmRh.Platform, index, der);
    }

    /// <summary>Reads the certificate in an EK certificate NV index, or null when the index is not defined.</summary>
    /// <param name="tpm">The TPM.</param>
    /// <param name="index">The index.</param>
    /// <returns>The certificate or null.</returns>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The index does not hold a DER certificate.</exception>
    public static X509Certificate2? ReadCertificate(Tpm2 tpm, uint index)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        if (!tpm.GetHandles(TpmHt.NvIndex).Contains(index))
        {
            return null;
        }

        var pub = tpm.NvReadPublic(index).NvPublic;
        return X509CertificateLoader.LoadCertificate(tpm.NvRead(index, index, pub.DataSize));
    }
}
