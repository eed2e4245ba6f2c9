using System.Formats.Asn1;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace TrustStack.Certs.Vmek;

/// <summary>
/// A readable, byte-exact dump of DER (in the manner of <c>openssl asn1parse -i</c>): one line per
/// element with its offset, header and content lengths, tag and value; OIDs get their names,
/// OCTET STRINGs and BIT STRINGs that hold DER are dumped nested. Read with System.Formats.Asn1.
/// </summary>
public static class Asn1Dump
{
    private static readonly Dictionary<string, string> s_names = new()
    {
        ["1.2.840.10045.2.1"] = "id-ecPublicKey",
        ["1.2.840.10045.3.1.7"] = "prime256v1",
        ["1.2.840.10045.4.3.2"] = "ecdsa-with-SHA256",
        ["1.2.840.113549.1.1.1"] = "rsaEncryption",
        ["1.2.840.113549.1.1.11"] = "sha256WithRSAEncryption",
        ["2.5.4.3"] = "commonName",
        ["2.5.4.10"] = "organizationName",
        ["2.5.29.14"] = "subjectKeyIdentifier",
        ["2.5.29.15"] = "keyUsage",
        ["2.5.29.17"] = "subjectAltName",
        ["2.5.29.9"] = "subjectDirectoryAttributes",
        ["2.5.29.19"] = "basicConstraints",
        ["2.5.29.20"] = "cRLNumber",
        ["2.5.29.21"] = "cRLReason",
        ["2.5.29.32"] = "certificatePolicies",
        ["2.5.29.35"] = "authorityKeyIdentifier",
        ["2.5.29.37"] = "extKeyUsage",
        [VmekOids.TpmManufacturer] = "tcg-at-tpmManufacturer",
        [VmekOids.TpmModel] = "tcg-at-tpmModel",
        [VmekOids.TpmVersion] = "tcg-at-tpmVersion",
        [VmekOids.TpmSpecification] = "tcg-at-tpmSpecification",
        [VmekOids.EkCertificatePurpose] = "tcg-kp-EKCertificate",
        [VmekOids.AikCertificatePurpose] = "tcg-kp-AIKCertificate",
        [VmekOids.VerifiedTpmResidency] = "tcg-cap-verifiedTPMResidency",
        [VmekOids.VerifiedTpmFixed] = "tcg-cap-verifiedTPMFixed",
        [VmekOids.VerifiedTpmRestricted] = "tcg-cap-verifiedTPMRestricted",
        [VmekOids.VTpmBinding] = "truststack-vTpmBinding",
        [VmekOids.HardwareEk] = "truststack-hardwareEk",
        [VmekOids.VmekPolicy] = "truststack-vmekPolicy",
        [VmekOids.VEkPolicy] = "truststack-vekPolicy",
        [VmekOids.SoftwareEkPolicy] = "truststack-softwareEkPolicy",
        [VmekOids.VmekKeyPurpose] = "truststack-kp-vmek",
        [VmekOids.CertifiedKey] = "truststack-certifiedKey",
    };

    /// <summary>Dumps DER.</summary>
    /// <param name="der">One or more DER elements.</param>
    /// <returns>The dump, one line per element, "\n"-separated.</returns>
    public static string Dump(ReadOnlyMemory<byte> der)
    {
        var sb = new StringBuilder();
        Walk(der, 0, 0, sb);
        return sb.ToString();
    }

    private static void Walk(ReadOnlyMemory<byte> der, int baseOffset, int depth, StringBuilder sb)
    {
        var reader = new AsnReader(der, AsnEncodingRules.DER);
        var offset = 0;
        while (reader.HasData)
        {
            var element = reader.ReadEncodedValue();
            var tag = Asn1Tag.Decode(element.Span, out var tagLength);
            AsnDecoder.ReadEncodedValue(element.Span, AsnEncodingRules.DER, out var contentOffset, out var contentLength, out _);
            var content = element.Slice(contentOffset, contentLength);
            var indent = new string(' ', depth * 2);
            var at = baseOffset + offset;
            sb.Append(CultureInfo.InvariantCulture, $"{at,5}:hl={contentOffset} l={contentLength,4} {indent}{TagName(tag)}");
            _ = tagLength;
            if (tag.IsConstructed)
            {
                sb.Append('\n');
                Walk(content, at + contentOffset, depth + 1, sb);
            }
            else
            {
                sb.Append(Value(tag, element, content));
                sb.Append('\n');
                var nested = tag.HasSameClassAndValue(Asn1Tag.PrimitiveOctetString) ? content
                    : tag.HasSameClassAndValue(Asn1Tag.PrimitiveBitString) && content.Length > 1 && content.Span[0] == 0 ? content[1..]
                    : ReadOnlyMemory<byte>.Empty;
                if (!nested.IsEmpty && IsDer(nested))
                {
                    Walk(nested, at + contentOffset + (content.Length - nested.Length), depth + 1, sb);
                }
            }

            offset += element.Length;
        }
    }

    private static bool IsDer(ReadOnlyMemory<byte> data)
    {
        if ((data.Span[0] & 0x20) == 0)
        {
            return false; // only constructed contents are dumped nested
        }

        try
        {
            var r = new AsnReader(data, AsnEncodingRules.DER);
            while (r.HasData)
            {
                r.ReadEncodedValue();
            }

            return true;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    private static string TagName(Asn1Tag tag)
    {
        if (tag.TagClass == TagClass.Universal)
        {
            return ((UniversalTagNumber)tag.TagValue) switch
            {
                UniversalTagNumber.Sequence => "SEQUENCE",
                UniversalTagNumber.SetOf => "SET",
                var u => u.ToString().ToUpperInvariant(),
            };
        }

        return string.Create(CultureInfo.InvariantCulture, $"[{(tag.TagClass == TagClass.ContextSpecific ? string.Empty : tag.TagClass + " ")}{tag.TagValue}]{(tag.IsConstructed ? " cons" : string.Empty)}");
    }

    private static string Value(Asn1Tag tag, ReadOnlyMemory<byte> element, ReadOnlyMemory<byte> content)
    {
        if (tag.TagClass != TagClass.Universal)
        {
            return " " + Convert.ToHexString(content.Span);
        }

        var r = new AsnReader(element, AsnEncodingRules.DER);
        switch ((UniversalTagNumber)tag.TagValue)
        {
            case UniversalTagNumber.ObjectIdentifier:
                var oid = r.ReadObjectIdentifier();
                return s_names.TryGetValue(oid, out var name) ? $" {name} ({oid})" : " " + oid;
            case UniversalTagNumber.Integer:
                var value = new BigInteger(content.Span, isUnsigned: false, isBigEndian: true);
                return content.Length <= 8 ? " " + value.ToString(CultureInfo.InvariantCulture) : " 0x" + Convert.ToHexString(content.Span);
            case UniversalTagNumber.Boolean:
                return r.ReadBoolean() ? " TRUE" : " FALSE";
            case UniversalTagNumber.UTF8String or UniversalTagNumber.PrintableString or UniversalTagNumber.IA5String:
                return " '" + Encoding.UTF8.GetString(content.Span) + "'";
            case UniversalTagNumber.UtcTime or UniversalTagNumber.GeneralizedTime:
                return " " + Encoding.ASCII.GetString(content.Span);
            case UniversalTagNumber.Null:
                return string.Empty;
            default:
                return " " + Convert.ToHexString(content.Span);
        }
    }
}
