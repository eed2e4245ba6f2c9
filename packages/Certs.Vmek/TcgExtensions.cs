using System.Formats.Asn1;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek;

/// <summary>
/// The TPM a certificate describes (TCG EK Credential Profile §3.2.9): manufacturer, model and
/// firmware version, written as the tcg-at-tpmManufacturer/Model/Version attributes of the
/// subjectAltName directoryName ("id:" and eight hex digits for manufacturer and version).
/// </summary>
/// <param name="Manufacturer">"id:" and the TPM_PT_MANUFACTURER value in hex, such as <c>id:5453544B</c>.</param>
/// <param name="Model">The TPM model (the vendor string).</param>
/// <param name="Version">"id:" and the firmware version in hex, such as <c>id:00010000</c>.</param>
public sealed record TpmDescription(string Manufacturer, string Model, string Version)
{
    /// <summary>Reads the description from a TPM's fixed properties.</summary>
    /// <param name="tpm">The TPM.</param>
    /// <returns>Manufacturer, vendor string 1..4 as the model, firmware version 1.</returns>
    public static TpmDescription Read(Tpm2 tpm)
    {
        ArgumentNullException.ThrowIfNull(tpm);
        var p = tpm.GetTpmProperties();
        var model = new System.Text.StringBuilder();
        foreach (var pt in new[] { TpmPt.VendorString1, TpmPt.VendorString1 + 1, TpmPt.VendorString1 + 2, TpmPt.VendorString1 + 3 })
        {
            if (p.TryGetValue(pt, out var v))
            {
                for (var shift = 24; shift >= 0; shift -= 8)
                {
                    var c = (char)((v >> shift) & 0xFF);
                    if (c is >= ' ' and <= '~')
                    {
                        model.Append(c);
                    }
                }
            }
        }

        return new TpmDescription(
            Hex(p.GetValueOrDefault(TpmPt.Manufacturer)),
            model.Length == 0 ? "unknown" : model.ToString(),
            Hex(p.GetValueOrDefault(TpmPt.FirmwareVersion1)));
    }

    private static string Hex(uint value) => "id:" + value.ToString("X8", CultureInfo.InvariantCulture);
}

/// <summary>Builds and reads the TCG and TrustStack certificate extensions with System.Formats.Asn1.</summary>
internal static class TcgExtensions
{
    /// <summary>The TPM description as an X.500 name (one RDN per attribute, UTF8String values).</summary>
    public static X500DistinguishedName TpmName(TpmDescription tpm)
    {
        var b = new X500DistinguishedNameBuilder();
        b.Add(VmekOids.TpmManufacturer, tpm.Manufacturer, UniversalTagNumber.UTF8String);
        b.Add(VmekOids.TpmModel, tpm.Model, UniversalTagNumber.UTF8String);
        b.Add(VmekOids.TpmVersion, tpm.Version, UniversalTagNumber.UTF8String);
        return b.Build();
    }

    /// <summary>subjectAltName with one directoryName holding the TPM attributes (critical when the subject is empty).</summary>
    public static X509Extension TpmSubjectAltName(TpmDescription tpm, bool critical)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            using (w.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 4, isConstructed: true)))
            {
                w.WriteEncodedValue(TpmName(tpm).RawData);
            }
        }

        return new X509Extension(VmekOids.SubjectAltName, w.Encode(), critical);
    }

    /// <summary>Reads the TPM attributes back from a certificate's subjectAltName directoryName, or null.</summary>
    public static TpmDescription? ReadTpmDescription(X509Certificate2 certificate)
    {
        var ext = certificate.Extensions[VmekOids.SubjectAltName];
        if (ext is null)
        {
            return null;
        }

        try
        {
            var names = new AsnReader(ext.RawData, AsnEncodingRules.DER).ReadSequence();
            while (names.HasData)
            {
                var tag = names.PeekTag();
                if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 4)
                {
                    var dn = names.ReadSequence(tag).ReadEncodedValue();
                    string? m = null, mo = null, v = null;
                    foreach (var rdn in new X500DistinguishedName(dn.Span).EnumerateRelativeDistinguishedNames())
                    {
                        var value = rdn.GetSingleElementValue();
                        switch (rdn.GetSingleElementType().Value)
                        {
                            case VmekOids.TpmManufacturer: m = value; break;
                            case VmekOids.TpmModel: mo = value; break;
                            case VmekOids.TpmVersion: v = value; break;
                        }
                    }

                    return m is null || mo is null || v is null ? null : new TpmDescription(m, mo, v);
                }

                names.ReadEncodedValue();
            }
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or InvalidOperationException)
        {
            // InvalidOperationException: a multi-valued RDN (GetSingleElementType).
            return null;
        }

        return null;
    }

    /// <summary>subjectDirectoryAttributes with tcg-at-tpmSpecification: family "2.0", level 0, revision 164.</summary>
    public static X509Extension TpmSpecification()
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            using (w.PushSequence())
            {
                w.WriteObjectIdentifier(VmekOids.TpmSpecification);
                using (w.PushSetOf())
                {
                    using (w.PushSequence())
                    {
                        w.WriteCharacterString(UniversalTagNumber.UTF8String, "2.0");
                        w.WriteInteger(0);
                        w.WriteInteger(164);
                    }
                }
            }
        }

        return new X509Extension(VmekOids.SubjectDirectoryAttributes, w.Encode(), false);
    }

    /// <summary>certificatePolicies with the given policy identifiers (no qualifiers).</summary>
    public static X509Extension Policies(params string[] policyOids)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            foreach (var oid in policyOids)
            {
                using (w.PushSequence())
                {
                    w.WriteObjectIdentifier(oid);
                }
            }
        }

        return new X509Extension(VmekOids.CertificatePolicies, w.Encode(), false);
    }

    /// <summary>The policy identifiers of a certificate (empty when it has none or they are malformed).</summary>
    public static IReadOnlyList<string> ReadPolicies(X509Certificate2 certificate)
    {
        var ext = certificate.Extensions[VmekOids.CertificatePolicies];
        var list = new List<string>();
        if (ext is null)
        {
            return list;
        }

        try
        {
            var seq = new AsnReader(ext.RawData, AsnEncodingRules.DER).ReadSequence();
            while (seq.HasData)
            {
                list.Add(seq.ReadSequence().ReadObjectIdentifier());
            }
        }
        catch (AsnContentException)
        {
            list.Clear();
        }

        return list;
    }

    /// <summary>The extended key usage extension with one purpose.</summary>
    public static X509EnhancedKeyUsageExtension Purpose(string oid, bool critical = false) =>
        new([new Oid(oid)], critical);

    /// <summary>Whether the certificate's extended key usage contains <paramref name="oid"/>.</summary>
    public static bool HasPurpose(X509Certificate2 certificate, string oid) =>
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Any(e => e.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == oid));
}

/// <summary>
/// The vTPM binding extension of a vEK certificate (OID <see cref="VmekOids.VTpmBinding"/>, not
/// critical), which ties the vTPM to its VM, its hardware TPM and its launch:
/// <code>
/// VTpmBinding ::= SEQUENCE {
///   version                    INTEGER (1),
///   vmId                       OCTET STRING (SIZE (16)), -- the VM UUID, RFC 9562 octet order
///   hardwareEkName             OCTET STRING,  -- TPM Name of the hardware EK (nameAlg || H(TPMT_PUBLIC))
///   hardwareEkCertificateHash  OCTET STRING,  -- SHA-256 of the hardware EK certificate (DER)
///   junctionMeasurement        OCTET STRING   -- SHA-256 digest the junction point extends for this vTPM
/// }
/// </code>
/// </summary>
/// <param name="VmId">The VM the vTPM serves.</param>
/// <param name="HardwareEkName">The TPM Name of the hardware EK.</param>
/// <param name="HardwareEkCertificateHash">SHA-256 of the hardware EK certificate.</param>
/// <param name="JunctionMeasurement">SHA-256 of the octets the trusted junction point measures at the vTPM's launch.</param>
public sealed record VTpmBinding(Guid VmId, byte[] HardwareEkName, byte[] HardwareEkCertificateHash, byte[] JunctionMeasurement)
{
    /// <summary>The DER value of the extension.</summary>
    /// <returns>The encoded SEQUENCE.</returns>
    public byte[] Encode()
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            w.WriteInteger(1);
            w.WriteOctetString(VmId.ToByteArray(bigEndian: true));
            w.WriteOctetString(HardwareEkName);
            w.WriteOctetString(HardwareEkCertificateHash);
            w.WriteOctetString(JunctionMeasurement);
        }

        return w.Encode();
    }

    /// <summary>The extension (not critical).</summary>
    /// <returns>An <see cref="X509Extension"/> with OID <see cref="VmekOids.VTpmBinding"/>.</returns>
    public X509Extension ToExtension() => new(VmekOids.VTpmBinding, Encode(), false);

    /// <summary>Decodes the extension value.</summary>
    /// <param name="der">The DER value.</param>
    /// <returns>The binding, or null when malformed.</returns>
    public static VTpmBinding? Decode(ReadOnlyMemory<byte> der)
    {
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.DER);
            var r = outer.ReadSequence();
            outer.ThrowIfNotEmpty();
            if (!r.TryReadInt32(out var version) || version != 1)
            {
                return null;
            }

            var vm = r.ReadOctetString();
            var binding = new VTpmBinding(vm.Length == 16 ? new Guid(vm, bigEndian: true) : throw new AsnContentException("vmId"), r.ReadOctetString(), r.ReadOctetString(), r.ReadOctetString());
            r.ThrowIfNotEmpty();
            return binding;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    /// <summary>The binding of a certificate, or null when it has none or it is malformed.</summary>
    /// <param name="certificate">A vEK certificate.</param>
    /// <returns>The binding or null.</returns>
    public static VTpmBinding? From(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.Extensions[VmekOids.VTpmBinding] is { } e ? Decode(e.RawData) : null;
    }
}

/// <summary>
/// The hardware EK extension of a VMEK certificate (OID <see cref="VmekOids.HardwareEk"/>, not
/// critical): which EK the Privacy CA proved the VMEK resident with.
/// <code>
/// HardwareEk ::= SEQUENCE {
///   version                INTEGER (1),
///   ekName                 OCTET STRING,  -- TPM Name of the hardware EK
///   ekCertificateHash      OCTET STRING,  -- SHA-256 of the EK certificate (DER)
///   vmekName               OCTET STRING   -- TPM Name of the VMEK (binds its TPM attributes and policy)
/// }
/// </code>
/// </summary>
/// <param name="EkName">The TPM Name of the hardware EK.</param>
/// <param name="EkCertificateHash">SHA-256 of the EK certificate.</param>
/// <param name="VmekName">The TPM Name of the VMEK.</param>
public sealed record HardwareEkBinding(byte[] EkName, byte[] EkCertificateHash, byte[] VmekName)
{
    /// <summary>The extension (not critical).</summary>
    /// <returns>An <see cref="X509Extension"/> with OID <see cref="VmekOids.HardwareEk"/>.</returns>
    public X509Extension ToExtension()
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            w.WriteInteger(1);
            w.WriteOctetString(EkName);
            w.WriteOctetString(EkCertificateHash);
            w.WriteOctetString(VmekName);
        }

        return new X509Extension(VmekOids.HardwareEk, w.Encode(), false);
    }

    /// <summary>The hardware EK extension of a certificate, or null when it has none or it is malformed.</summary>
    /// <param name="certificate">A VMEK certificate.</param>
    /// <returns>The binding or null.</returns>
    public static HardwareEkBinding? From(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate.Extensions[VmekOids.HardwareEk] is not { } e)
        {
            return null;
        }

        try
        {
            var outer = new AsnReader(e.RawData, AsnEncodingRules.DER);
            var r = outer.ReadSequence();
            outer.ThrowIfNotEmpty();
            if (!r.TryReadInt32(out var version) || version != 1)
            {
                return null;
            }

            var b = new HardwareEkBinding(r.ReadOctetString(), r.ReadOctetString(), r.ReadOctetString());
            r.ThrowIfNotEmpty();
            return b;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }
}

/// <summary>
/// The certified-key extension of an attestation key certificate (OID <see cref="VmekOids.CertifiedKey"/>,
/// not critical): the TPM Name of the key the Privacy CA proved resident (it made the credential
/// for exactly this Name, TPM 2.0 Part 1 §24). The Name is nameAlg ‖ H_nameAlg(TPMT_PUBLIC), so it
/// binds every attribute, the nameAlg, the scheme and the policy, where the certificate's
/// SubjectPublicKeyInfo binds only the public point.
/// <code>
/// CertifiedKey ::= SEQUENCE {
///   version   INTEGER (1),
///   keyName   OCTET STRING  -- TPM Name of the certified key
/// }
/// </code>
/// </summary>
/// <param name="KeyName">The TPM Name of the certified key.</param>
public sealed record CertifiedKeyBinding(byte[] KeyName)
{
    /// <summary>The extension (not critical).</summary>
    /// <returns>An <see cref="X509Extension"/> with OID <see cref="VmekOids.CertifiedKey"/>.</returns>
    public X509Extension ToExtension()
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            w.WriteInteger(1);
            w.WriteOctetString(KeyName);
        }

        return new X509Extension(VmekOids.CertifiedKey, w.Encode(), false);
    }

    /// <summary>The certified-key extension of a certificate, or null when it has none or it is malformed.</summary>
    /// <param name="certificate">An attestation key certificate.</param>
    /// <returns>The binding or null.</returns>
    public static CertifiedKeyBinding? From(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate.Extensions[VmekOids.CertifiedKey] is not { } e)
        {
            return null;
        }

        try
        {
            var outer = new AsnReader(e.RawData, AsnEncodingRules.DER);
            var r = outer.ReadSequence();
            outer.ThrowIfNotEmpty();
            if (!r.TryReadInt32(out var version) || version != 1)
            {
                return null;
            }

            var b = new CertifiedKeyBinding(r.ReadOctetString());
            r.ThrowIfNotEmpty();
            return b;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }
}

/// <summary>
/// The attestation key profile (TCG "TPM 2.0 Keys for Device Identity and Attestation" §3, AK
/// template; TPM 2.0 Part 1 §25.2.2 restricted signing keys): what every AIK and vAIK must be.
/// </summary>
internal static class AttestationKeyProfile
{
    /// <summary>Every way <paramref name="key"/> departs from the profile; empty when it is an attestation key.</summary>
    public static List<string> Problems(TpmtPublic key)
    {
        var problems = new List<string>();
        var a = key.ObjectAttributes;
        foreach (var (flag, name) in new[] { (TpmaObject.Sign, "sign"), (TpmaObject.Restricted, "restricted"), (TpmaObject.FixedTpm, "fixedTPM"), (TpmaObject.FixedParent, "fixedParent"), (TpmaObject.SensitiveDataOrigin, "sensitiveDataOrigin") })
        {
            if ((a & flag) == 0)
            {
                problems.Add($"{name} is clear");
            }
        }

        if ((a & TpmaObject.Decrypt) != 0)
        {
            problems.Add("decrypt is set (an attestation key only signs)");
        }

        // A SHA-1 Name would let a collision stand for another key.
        if (key.NameAlg is not (TpmAlgId.Sha256 or TpmAlgId.Sha384 or TpmAlgId.Sha512))
        {
            problems.Add($"nameAlg {key.NameAlg} is not SHA-256, SHA-384 or SHA-512");
        }

        var (symmetric, scheme, allowed) = key.Parameters switch
        {
            EccParms e => (e.Symmetric, e.Scheme, new[] { TpmAlgId.Ecdsa }),
            RsaParms r => (r.Symmetric, r.Scheme, new[] { TpmAlgId.Rsassa, TpmAlgId.Rsapss }),
            _ => (null, null, Array.Empty<TpmAlgId>()),
        };
        if (scheme is null || symmetric is null)
        {
            problems.Add($"object type {key.Type} is not an RSA or ECC signing key");
            return problems;
        }

        if (symmetric.Algorithm != TpmAlgId.Null)
        {
            problems.Add($"symmetric is {symmetric.Algorithm}, a signing key has TPM_ALG_NULL");
        }

        // A restricted signing key fixes its scheme (Part 1 §25.2.2): the certified scheme is the one it signs with.
        if (!allowed.Contains(scheme.Scheme) || scheme.HashAlg is not (TpmAlgId.Sha256 or TpmAlgId.Sha384 or TpmAlgId.Sha512))
        {
            problems.Add($"scheme {scheme.Scheme}/{scheme.HashAlg} is not {string.Join(" or ", allowed)} with SHA-256, SHA-384 or SHA-512");
        }

        return problems;
    }
}
