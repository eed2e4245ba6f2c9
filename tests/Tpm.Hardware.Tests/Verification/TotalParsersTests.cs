using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

/// <summary>
/// Issue 19, total parsers: the readers of what <c>quote verify</c> is handed throw nothing but
/// their documented exception — TPMS_ATTEST and TPMT_PUBLIC <see cref="TpmException"/>, key files
/// <see cref="FormatException"/> — and the verifier never throws for any key, message or signature.
/// </summary>
public sealed class TotalParsersTests
{
    private static readonly ECDsa P256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly TpmtPublic Ak = TpmPublicKeys.FromECDsa(P256, scheme: new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256)) with { ObjectAttributes = TpmTemplates.AkAttributes };
    private static readonly byte[] AkFile = Sized(Ak);
    private static readonly byte[] SpkiDer = P256.ExportSubjectPublicKeyInfo();
    private static readonly byte[] QuoteMessage = new TpmsAttest(TpmsAttest.GeneratedValue, Ak.GetPrimaryQualifiedName(TpmRh.Endorsement), [1, 2, 3], new TpmsClockInfo(5, 1, 0, true), 7,
        new QuoteInfo(PcrSelectionList.Parse("sha256:0,16+sha1:7"), new byte[32])).ToBytes();

    [Property(MaxTest = 500)]
    public void TpmsAttestParse_AnyMutationOrOctets_ParsesOrThrowsTpmException(NonNegativeInt position, byte value, NonNegativeInt cut, byte[] random)
    {
        foreach (var input in Variants(QuoteMessage, position, value, cut, random))
        {
            try
            {
                TpmsAttest.Parse(input);
            }
            catch (TpmException)
            {
                // The one typed error.
            }
        }
    }

    [Property(MaxTest = 500)]
    public void TpmPublicKeysParse_AnyMutationOrOctets_ParsesOrThrowsFormatException(NonNegativeInt position, byte value, NonNegativeInt cut, byte[] random)
    {
        var pem = Encoding.ASCII.GetBytes(P256.ExportSubjectPublicKeyInfoPem());
        foreach (var input in Variants(AkFile, position, value, cut, random).Concat(Variants(SpkiDer, position, value, cut, random)).Concat(Variants(pem, position, value, cut, random)))
        {
            try
            {
                TpmPublicKeys.Parse(input, out _);
            }
            catch (FormatException)
            {
                // The one typed error.
            }
        }
    }

    [Property(MaxTest = 300)]
    public void Verify_AnyKeyMessageAndSignature_ReturnsAResult(NonNegativeInt position, byte value, NonNegativeInt cut, byte[] random)
    {
        var signature = TpmtSignature.Ecc(TpmAlgId.Ecdsa, TpmAlgId.Sha256, new byte[32], new byte[32]).ToBytes();
        foreach (var keyBytes in Variants(AkFile, position, value, cut, random))
        {
            TpmtPublic key;
            try
            {
                key = TpmtPublic.Parse(keyBytes);
            }
            catch (TpmException)
            {
                continue;
            }

            foreach (var message in Variants(QuoteMessage, position, value, cut, random))
            {
                foreach (var sigBytes in Variants(signature, position, value, cut, random))
                {
                    var reader = new TpmReader(sigBytes);
                    TpmtSignature sig;
                    try
                    {
                        sig = TpmtSignature.Unmarshal(ref reader);
                    }
                    catch (TpmException)
                    {
                        continue;
                    }

                    var result = QuoteVerifier.Verify(new QuoteVerificationRequest(key, message, sig, [1, 2, 3], PcrValues.Empty));
                    Assert.False(result.IsValid);
                }
            }
        }
    }

    [Fact]
    public void TpmPublicKeysParse_RsaKeyWithAFiveOctetExponent_FormatException()
    {
        // A TPM RSA exponent has 32 bits (TPMS_RSA_PARMS); a SubjectPublicKeyInfo may carry more.
        using var rsa = RSA.Create(2048);
        var modulus = rsa.ExportParameters(false).Modulus!;
        var der = Spki("1.2.840.113549.1.1.1", w => w.WriteNull(), key =>
        {
            using (key.PushSequence())
            {
                key.WriteIntegerUnsigned(modulus);
                key.WriteIntegerUnsigned(new byte[] { 1, 0, 0, 0, 1 });
            }
        });

        var e = Assert.Throws<FormatException>(() => TpmPublicKeys.Parse(der));

        Assert.Contains("32 bits", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TpmPublicKeysParse_EcPointOffTheCurve_FormatException()
    {
        var point = new byte[65];
        point[0] = 4;
        point[64] = 1;
        var der = Spki("1.2.840.10045.2.1", w => w.WriteObjectIdentifier("1.2.840.10045.3.1.7"), null, point);

        Assert.Throws<FormatException>(() => TpmPublicKeys.Parse(der));
    }

    [Fact]
    public void TpmPublicKeysParse_EcKeyOnP521_FormatException()
    {
        using var p521 = ECDsa.Create(ECCurve.NamedCurves.nistP521);

        Assert.Throws<FormatException>(() => TpmPublicKeys.Parse(p521.ExportSubjectPublicKeyInfo()));
    }

    [Theory]
    [InlineData("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n")]
    [InlineData("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n")]
    [InlineData("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")]
    [InlineData("-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n")]
    public void TpmPublicKeysParse_HostilePem_FormatException(string pem) =>
        Assert.Throws<FormatException>(() => TpmPublicKeys.Parse(Encoding.ASCII.GetBytes(pem)));

    private static IEnumerable<byte[]> Variants(byte[] valid, NonNegativeInt position, byte value, NonNegativeInt cut, byte[] random)
    {
        var changed = (byte[])valid.Clone();
        changed[position.Get % changed.Length] = value;
        yield return changed;
        yield return valid[..(cut.Get % valid.Length)];
        yield return random ?? [];
        yield return [.. valid, .. random ?? []];
    }

    private static byte[] Sized(TpmtPublic key)
    {
        var w = new TpmWriter();
        key.MarshalSized(w);
        return w.ToArray();
    }

    private static byte[] Spki(string algorithm, Action<AsnWriter> parameters, Action<AsnWriter>? key, byte[]? keyBits = null)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            using (w.PushSequence())
            {
                w.WriteObjectIdentifier(algorithm);
                parameters(w);
            }

            if (key is not null)
            {
                var inner = new AsnWriter(AsnEncodingRules.DER);
                key(inner);
                keyBits = inner.Encode();
            }

            w.WriteBitString(keyBits);
        }

        return w.Encode();
    }
}
