namespace TrustStack.Certs.Vmek;

/// <summary>
/// Object identifiers of the certificates: the TCG ones (EK Credential Profile, TCG-CAP) and
/// TrustStack's own, under a private arc that needs no registration: the UUID arc of ITU-T X.667
/// (2.25.{UUID 0a3b00f3-b311-4aab-87e0-a96b77af4ab3 as an integer}).
/// </summary>
public static class VmekOids
{
    /// <summary>TrustStack's private arc: 2.25.13598644780364925641613601942130346675.</summary>
    public const string TrustStackArc = "2.25.13598644780364925641613601942130346675";

    /// <summary>The vTPM binding extension of a vEK certificate (<see cref="VTpmBinding"/>): arc.1.</summary>
    public const string VTpmBinding = TrustStackArc + ".1";

    /// <summary>The hardware EK extension of a VMEK certificate (<see cref="HardwareEkBinding"/>): arc.2.</summary>
    public const string HardwareEk = TrustStackArc + ".2";

    /// <summary>Certificate policy of a VMEK certificate (a CA key resident in a TPM, issuing only vEK certificates): arc.3.</summary>
    public const string VmekPolicy = TrustStackArc + ".3";

    /// <summary>Certificate policy of a vEK certificate signed by a VMEK inside the hardware TPM: arc.4.</summary>
    public const string VEkPolicy = TrustStackArc + ".4";

    /// <summary>Certificate policy of the software manufacturer CA's EK certificates: arc.5.</summary>
    public const string SoftwareEkPolicy = TrustStackArc + ".5";

    /// <summary>Extended key usage of a VMEK certificate (signs vEK certificates): arc.6.</summary>
    public const string VmekKeyPurpose = TrustStackArc + ".6";

    /// <summary>The certified-key extension of an attestation key certificate (<see cref="CertifiedKeyBinding"/>): arc.7.</summary>
    public const string CertifiedKey = TrustStackArc + ".7";

    /// <summary>tcg-at-tpmManufacturer (2.23.133.2.1).</summary>
    public const string TpmManufacturer = "2.23.133.2.1";

    /// <summary>tcg-at-tpmModel (2.23.133.2.2).</summary>
    public const string TpmModel = "2.23.133.2.2";

    /// <summary>tcg-at-tpmVersion (2.23.133.2.3).</summary>
    public const string TpmVersion = "2.23.133.2.3";

    /// <summary>tcg-at-tpmSpecification (2.23.133.2.16).</summary>
    public const string TpmSpecification = "2.23.133.2.16";

    /// <summary>tcg-kp-EKCertificate (2.23.133.8.1): the extended key usage of an EK certificate.</summary>
    public const string EkCertificatePurpose = "2.23.133.8.1";

    /// <summary>tcg-kp-AIKCertificate (2.23.133.8.3): the extended key usage of an attestation key certificate.</summary>
    public const string AikCertificatePurpose = "2.23.133.8.3";

    /// <summary>tcg-cap-verifiedTPMResidency (2.23.133.11.1.1): the CA verified that the key is resident in the TPM.</summary>
    public const string VerifiedTpmResidency = "2.23.133.11.1.1";

    /// <summary>tcg-cap-verifiedTPMFixed (2.23.133.11.1.2): the CA verified that the key is fixedTPM.</summary>
    public const string VerifiedTpmFixed = "2.23.133.11.1.2";

    /// <summary>tcg-cap-verifiedTPMRestricted (2.23.133.11.1.3): the CA verified that the key is restricted.</summary>
    public const string VerifiedTpmRestricted = "2.23.133.11.1.3";

    /// <summary>id-ce-subjectAltName (2.5.29.17).</summary>
    public const string SubjectAltName = "2.5.29.17";

    /// <summary>id-ce-subjectDirectoryAttributes (2.5.29.9).</summary>
    public const string SubjectDirectoryAttributes = "2.5.29.9";

    /// <summary>id-ce-certificatePolicies (2.5.29.32).</summary>
    public const string CertificatePolicies = "2.5.29.32";
}
