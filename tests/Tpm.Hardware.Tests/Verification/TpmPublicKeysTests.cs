using System.Security.Cryptography;
using System.Text;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

public sealed class TpmPublicKeysTests
{
    [Fact]
    public void ToRsa_ExponentZero_Means65537()
    {
        using var source = RSA.Create(1024);
        var key = TpmPublicKeys.FromRsa(source);

        using var rsa = TpmPublicKeys.ToRsa(key);

        Assert.Equal(0u, ((RsaParms)key.Parameters).Exponent);
        Assert.Equal(new byte[] { 1, 0, 1 }, rsa.ExportParameters(false).Exponent);
        Assert.Equal(source.ExportSubjectPublicKeyInfo(), rsa.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public void ToRsa_OtherExponent_IsKept()
    {
        using var source = RSA.Create(1024);
        var modulus = source.ExportParameters(false).Modulus!;
        var key = new TpmtPublic(TpmAlgId.Rsa, TpmAlgId.Sha256, TpmaObject.Sign, [], new RsaParms(TpmtSymDef.Null, TpmtScheme.Null, 1024, 3), new RsaPublicId(modulus));

        using var rsa = TpmPublicKeys.ToRsa(key);

        Assert.Equal(new byte[] { 3 }, rsa.ExportParameters(false).Exponent);
        Assert.Equal(modulus, rsa.ExportParameters(false).Modulus);
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(1536)]
    [InlineData(2048)]
    [InlineData(3072)]
    [InlineData(4096)]
    public void ExportSubjectPublicKeyInfo_RsaAnySize_RoundTrips(int bits)
    {
        // A public key is any odd modulus of the size; no key generation needed.
        var modulus = RandomNumberGenerator.GetBytes(bits / 8);
        modulus[0] |= 0x80;
        modulus[^1] |= 1;
        using var source = RSA.Create();
        source.ImportParameters(new RSAParameters { Modulus = modulus, Exponent = [1, 0, 1] });

        var key = TpmPublicKeys.FromSubjectPublicKeyInfo(source.ExportSubjectPublicKeyInfo());

        Assert.Equal((ushort)bits, ((RsaParms)key.Parameters).KeyBits);
        Assert.Equal(modulus, ((RsaPublicId)key.Unique).Modulus);
        Assert.Equal(source.ExportSubjectPublicKeyInfo(), TpmPublicKeys.ExportSubjectPublicKeyInfo(key));
    }

    [Theory]
    [InlineData("nistP256", TpmEccCurve.NistP256)]
    [InlineData("nistP384", TpmEccCurve.NistP384)]
    public void ExportSubjectPublicKeyInfoPem_Ecc_RoundTrips(string curveName, TpmEccCurve curve)
    {
        using var source = ECDsa.Create(ECCurve.CreateFromFriendlyName(curveName));
        var pem = source.ExportSubjectPublicKeyInfoPem();

        var key = TpmPublicKeys.FromPem(pem);

        Assert.Equal(curve, ((EccParms)key.Parameters).Curve);
        Assert.Equal(pem, TpmPublicKeys.ExportSubjectPublicKeyInfoPem(key));
        using var ecdh = TpmPublicKeys.ToECDiffieHellman(key);
        Assert.Equal(source.ExportParameters(false).Q.X, ecdh.ExportParameters(false).Q.X);
    }

    [Fact]
    public void FromPem_EccKey_GetsTheDocumentedDefaults()
    {
        using var source = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var key = TpmPublicKeys.FromPem(source.ExportSubjectPublicKeyInfoPem());

        Assert.Equal(TpmAlgId.Ecc, key.Type);
        Assert.Equal(TpmAlgId.Sha256, key.NameAlg);
        Assert.Equal(TpmaObject.Sign | TpmaObject.UserWithAuth, key.ObjectAttributes);
        Assert.Empty(key.AuthPolicy);
        Assert.Equal(TpmtScheme.Null, ((EccParms)key.Parameters).Scheme);
        Assert.Equal(TpmtSymDef.Null, key.Parameters.Symmetric);
    }

    [Fact]
    public void FromPem_Pkcs1RsaPublicKey_IsRead()
    {
        using var source = RSA.Create(1024);

        var key = TpmPublicKeys.FromPem(source.ExportRSAPublicKeyPem());

        Assert.Equal(source.ExportParameters(false).Modulus, ((RsaPublicId)key.Unique).Modulus);
    }

    [Fact]
    public void FromPem_PrivateKeyLabel_Throws()
    {
        using var source = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Throws<CryptographicException>(() => TpmPublicKeys.FromPem(source.ExportPkcs8PrivateKeyPem()));
    }

    [Fact]
    public void FromSubjectPublicKeyInfo_UnsupportedCurve_ThrowsNotSupported()
    {
        using var source = ECDsa.Create(ECCurve.NamedCurves.nistP521);

        Assert.Throws<NotSupportedException>(() => TpmPublicKeys.FromSubjectPublicKeyInfo(source.ExportSubjectPublicKeyInfo()));
    }

    [Fact]
    public void ToECDsa_PointNotOnCurve_ThrowsArgument()
    {
        using var source = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var key = TpmPublicKeys.FromECDsa(source);
        var point = (EccPoint)key.Unique;
        var y = (byte[])point.Y.Clone();
        y[^1] ^= 1;

        Assert.Throws<ArgumentException>(() => TpmPublicKeys.ToECDsa(key with { Unique = point with { Y = y } }));
    }

    [Fact]
    public void ToECDsa_BnCurve_ThrowsNotSupported()
    {
        var key = new TpmtPublic(TpmAlgId.Ecc, TpmAlgId.Sha256, TpmaObject.Sign, [], new EccParms(TpmtSymDef.Null, TpmtScheme.Null, TpmEccCurve.BnP256, TpmtScheme.Null), new EccPoint(new byte[32], new byte[32]));

        Assert.Throws<NotSupportedException>(() => TpmPublicKeys.ToECDsa(key));
    }

    [Fact]
    public void ToRsa_Template_ThrowsArgument()
    {
        var template = new TpmtPublic(TpmAlgId.Rsa, TpmAlgId.Sha256, TpmaObject.Sign, [], new RsaParms(TpmtSymDef.Null, TpmtScheme.Null, 2048, 0), new RsaPublicId([]));

        Assert.Throws<ArgumentException>(() => TpmPublicKeys.ToRsa(template));
    }

    [Fact]
    public void ToECDsa_ShortCoordinates_AreLeftPadded()
    {
        // A coordinate with a leading zero octet may come without it; the key is the same.
        // About one P-256 key in 256 has an X that starts with a zero octet.
        ECParameters p;
        do
        {
            using var candidate = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            p = candidate.ExportParameters(false);
        }
        while (p.Q.X![0] != 0);

        var key = TpmPublicKeys.FromEcParameters(p, TpmAlgId.Sha256, null);
        var point = (EccPoint)key.Unique;
        var trimmed = key with { Unique = new EccPoint(point.X.SkipWhile(b => b == 0).ToArray(), point.Y) };

        using var a = TpmPublicKeys.ToECDsa(key);
        using var b = TpmPublicKeys.ToECDsa(trimmed);
        Assert.True(((EccPoint)trimmed.Unique).X.Length < 32);
        Assert.Equal(a.ExportSubjectPublicKeyInfo(), b.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public void Parse_EveryForm_GivesTheSameKey()
    {
        using var source = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var key = TpmPublicKeys.FromECDsa(source);
        var sized = new TpmWriter();
        key.MarshalSized(sized);

        var fromPem = TpmPublicKeys.Parse(Encoding.ASCII.GetBytes(source.ExportSubjectPublicKeyInfoPem()));
        var fromDer = TpmPublicKeys.Parse(source.ExportSubjectPublicKeyInfo());
        var fromTpmt = TpmPublicKeys.Parse(key.ToBytes());
        var fromTpm2b = TpmPublicKeys.Parse(sized.ToArray());

        foreach (var parsed in new[] { fromPem, fromDer, fromTpmt, fromTpm2b })
        {
            Assert.Equal(key.ToBytes(), parsed.ToBytes());
        }
    }

    [Fact]
    public void Parse_Garbage_ThrowsFormatExceptionNamingBothAttempts()
    {
        var e = Assert.Throws<FormatException>(() => TpmPublicKeys.Parse([1, 2, 3, 4, 5]));

        Assert.Contains("TPM2B_PUBLIC", e.Message, StringComparison.Ordinal);
        Assert.Contains("SubjectPublicKeyInfo", e.Message, StringComparison.Ordinal);
    }
}
