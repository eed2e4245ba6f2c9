using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Signers;

namespace TrustStack.Tpm.Hardware.Tests;

public class TpmPrivateKeyTests
{
    private static readonly byte[] Sha256Digest = SHA256.HashData(Encoding.ASCII.GetBytes("message"));

    private static (TpmtPublic Public, TpmtSensitive Sensitive) Rsa2048 => CryptoTestData.Key("rsa2048-sign", () => CryptoTestData.RsaSigning());

    private static (TpmtPublic Public, TpmtSensitive Sensitive) RsaStorage => CryptoTestData.Key("rsa2048-storage", () => CryptoTestData.RsaStorage());

    [Fact]
    public void Sign_Rsassa_VerifiesWithDotNet()
    {
        var (pub, sens) = Rsa2048;
        using var key = new TpmPrivateKey(pub, sens);
        using var verifier = CryptoTestData.DotNetRsa(pub);

        var signature = key.Sign(new TpmtScheme(TpmAlgId.Rsassa, TpmAlgId.Sha256), Sha256Digest, false, SystemRandomSource.Instance);

        Assert.Equal(TpmAlgId.Rsassa, signature.SigAlg);
        Assert.Equal(256, signature.RsaSignature.Length);
        Assert.True(verifier.VerifyHash(Sha256Digest, signature.RsaSignature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sign_Rsapss_VerifiesWithSaltLengthEqualToDigestLength(bool deterministic)
    {
        var (pub, sens) = Rsa2048;
        using var key = new TpmPrivateKey(pub, sens);
        using var random = DeterministicRandomSource.FromSeed(1);

        var signature = key.Sign(new TpmtScheme(TpmAlgId.Rsapss, TpmAlgId.Sha256), Sha256Digest, deterministic, random);

        // BouncyCastle's raw PSS verifier with an explicit 32-octet salt: an independent check of the salt length.
        var verifier = PssSigner.CreateRawSigner(new RsaEngine(), new Sha256Digest(), new Sha256Digest(), 32, PssSigner.TrailerImplicit);
        verifier.Init(false, TpmPublicCrypto.RsaPublic(pub));
        verifier.BlockUpdate(Sha256Digest);
        Assert.True(verifier.VerifySignature(signature.RsaSignature));
        using var dotNet = CryptoTestData.DotNetRsa(pub);
        Assert.True(dotNet.VerifyHash(Sha256Digest, signature.RsaSignature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss));
    }

    [Fact]
    public void Sign_RsapssDeterministic_SameRandomSameSignature()
    {
        var (pub, sens) = Rsa2048;
        using var key = new TpmPrivateKey(pub, sens);
        var scheme = new TpmtScheme(TpmAlgId.Rsapss, TpmAlgId.Sha256);
        using var a = DeterministicRandomSource.FromSeed(3);
        using var b = DeterministicRandomSource.FromSeed(3);

        Assert.Equal(key.Sign(scheme, Sha256Digest, true, a).RsaSignature, key.Sign(scheme, Sha256Digest, true, b).RsaSignature);
    }

    [Theory]
    [InlineData(TpmEccCurve.NistP256, TpmAlgId.Sha256, false)]
    [InlineData(TpmEccCurve.NistP256, TpmAlgId.Sha256, true)]
    [InlineData(TpmEccCurve.NistP384, TpmAlgId.Sha384, false)]
    [InlineData(TpmEccCurve.NistP384, TpmAlgId.Sha384, true)]
    [InlineData(TpmEccCurve.NistP384, TpmAlgId.Sha1, true)]
    public void Sign_Ecdsa_VerifiesWithDotNetAndHasFixedSizeRs(TpmEccCurve curve, TpmAlgId hash, bool deterministic)
    {
        var (pub, sens) = CryptoTestData.Key($"ecc-sign-{curve}", () => CryptoTestData.EccSigning(curve));
        using var key = new TpmPrivateKey(pub, sens);
        using var verifier = CryptoTestData.DotNetEcdsa(pub);
        var digest = TpmHash.Hash(hash, Encoding.ASCII.GetBytes("message"));
        var size = EccCurves.CoordinateSize(curve);

        for (var i = 0; i < 8; i++)
        {
            var signature = key.Sign(new TpmtScheme(TpmAlgId.Ecdsa, hash), digest, deterministic, SystemRandomSource.Instance);

            Assert.Equal(size, signature.SignatureR.Length);
            Assert.Equal(size, signature.SignatureS.Length);
            Assert.True(verifier.VerifyHash(digest, (byte[])[.. signature.SignatureR, .. signature.SignatureS]));
        }
    }

    [Fact]
    public void Sign_EcdsaDeterministic_Rfc6979A25P256Sha256SampleVector()
    {
        // RFC 6979 A.2.5: P-256, SHA-256, message "sample".
        var pub = CryptoTestData.EccSigning().WithUnique(new EccPoint(
            Convert.FromHexString("60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"),
            Convert.FromHexString("7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299")));
        using var sens = new TpmtSensitive(TpmAlgId.Ecc, [], [], Convert.FromHexString("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"));
        using var key = new TpmPrivateKey(pub, sens);

        var signature = key.Sign(new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256), SHA256.HashData("sample"u8), true, SystemRandomSource.Instance);

        Assert.Equal("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716", Convert.ToHexString(signature.SignatureR));
        Assert.Equal("F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8", Convert.ToHexString(signature.SignatureS));
    }

    [Fact]
    public void Sign_EcdsaOnBnP256_VerifiesWithBouncyCastle()
    {
        var template = CryptoTestData.EccSigning(TpmEccCurve.BnP256);
        var (pub, sens) = CryptoTestData.Key("ecc-sign-bn", () => template);
        using var key = new TpmPrivateKey(pub, sens);
        var curve = EccCurves.Get(TpmEccCurve.BnP256);

        var signature = key.Sign(new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256), Sha256Digest, false, SystemRandomSource.Instance);

        var verifier = new ECDsaSigner();
        verifier.Init(false, new Org.BouncyCastle.Crypto.Parameters.ECPublicKeyParameters(curve.DecodePoint((EccPoint)pub.Unique), curve.Domain));
        Assert.True(verifier.VerifySignature(Sha256Digest, new Org.BouncyCastle.Math.BigInteger(1, signature.SignatureR), new Org.BouncyCastle.Math.BigInteger(1, signature.SignatureS)));
    }

    [Theory]
    [InlineData(TpmAlgId.Ecdsa, TpmRc.Scheme)]
    [InlineData(TpmAlgId.Hmac, TpmRc.Scheme)]
    public void Sign_SchemeNotForKeyType_ThrowsScheme(TpmAlgId scheme, TpmRc expected)
    {
        var (pub, sens) = Rsa2048;
        using var key = new TpmPrivateKey(pub, sens);

        var e = Assert.Throws<TpmException>(() => key.Sign(new TpmtScheme(scheme, TpmAlgId.Sha256), Sha256Digest, false, SystemRandomSource.Instance));

        Assert.Equal(expected, e.ResponseCode);
    }

    [Fact]
    public void Sign_DigestOfWrongSize_ThrowsSize()
    {
        var (pub, sens) = Rsa2048;
        using var key = new TpmPrivateKey(pub, sens);

        var e = Assert.Throws<TpmException>(() => key.Sign(new TpmtScheme(TpmAlgId.Rsassa, TpmAlgId.Sha384), Sha256Digest, false, SystemRandomSource.Instance));

        Assert.Equal(TpmRc.Size, e.ResponseCode);
    }

    [Theory]
    [InlineData("IDENTITY")]
    [InlineData("SECRET\0")]
    [InlineData("")]
    public void RsaDecryptOaep_EncryptedWithTpmPublicCrypto_RoundTrips(string label)
    {
        var (pub, sens) = RsaStorage;
        using var key = new TpmPrivateKey(pub, sens);
        var secret = CryptoTestData.Seed(7, 32);

        var encrypted = TpmPublicCrypto.RsaEncryptOaep(pub, secret, TpmAlgId.Sha256, label, SystemRandomSource.Instance);

        Assert.Equal(256, encrypted.Length);
        Assert.Equal(secret, key.RsaDecryptOaep(encrypted, TpmAlgId.Sha256, label));
    }

    [Fact]
    public void RsaDecryptOaep_LabelIsNulTerminatedOnTheWire()
    {
        var (pub, sens) = RsaStorage;
        using var key = new TpmPrivateKey(pub, sens);
        var encrypted = TpmPublicCrypto.RsaEncryptOaep(pub, [1, 2, 3], TpmAlgId.Sha256, "DUPLICATE", SystemRandomSource.Instance);

        Assert.Equal([1, 2, 3], key.RsaDecryptOaep(encrypted, TpmAlgId.Sha256, "DUPLICATE\0"u8));
    }

    [Fact]
    public void RsaDecryptOaep_DotNetOaepWithoutLabel_Decrypts()
    {
        var (pub, sens) = RsaStorage;
        using var key = new TpmPrivateKey(pub, sens);
        using var dotNet = CryptoTestData.DotNetRsa(pub);

        var encrypted = dotNet.Encrypt([9, 8, 7], RSAEncryptionPadding.OaepSHA256);

        Assert.Equal([9, 8, 7], key.RsaDecryptOaep(encrypted, TpmAlgId.Sha256, ""));
    }

    [Fact]
    public void RsaDecryptOaep_WrongLabel_ThrowsValue()
    {
        var (pub, sens) = RsaStorage;
        using var key = new TpmPrivateKey(pub, sens);
        var encrypted = TpmPublicCrypto.RsaEncryptOaep(pub, [1], TpmAlgId.Sha256, "IDENTITY", SystemRandomSource.Instance);

        Assert.Equal(TpmRc.Value, Assert.Throws<TpmException>(() => key.RsaDecryptOaep(encrypted, TpmAlgId.Sha256, "SECRET")).ResponseCode);
    }

    [Fact]
    public void RsaDecryptOaep_TooLong_ThrowsSize()
    {
        var (pub, sens) = RsaStorage;
        using var key = new TpmPrivateKey(pub, sens);

        Assert.Equal(TpmRc.Size, Assert.Throws<TpmException>(() => key.RsaDecryptOaep(new byte[257], TpmAlgId.Sha256, "SECRET")).ResponseCode);
    }

    [Theory]
    [InlineData(TpmEccCurve.NistP256)]
    [InlineData(TpmEccCurve.NistP384)]
    [InlineData(TpmEccCurve.BnP256)]
    public void EcdhZ_BothSides_AgreeOnX(TpmEccCurve curve)
    {
        var (pubA, sensA) = CryptoTestData.Key($"ecdh-a-{curve}", () => CryptoTestData.EccStorage(curve));
        var (pubB, sensB) = CryptoTestData.Key($"ecdh-b-{curve}", () => CryptoTestData.EccStorage(curve));
        using var a = new TpmPrivateKey(pubA, sensA);
        using var b = new TpmPrivateKey(pubB, sensB);

        var zA = a.EcdhZ((EccPoint)pubB.Unique);

        Assert.Equal(EccCurves.CoordinateSize(curve), zA.Length);
        Assert.Equal(zA, b.EcdhZ((EccPoint)pubA.Unique));
    }

    [Fact]
    public void EcdhZ_PointNotOnCurve_ThrowsEccPoint()
    {
        var (pub, sens) = CryptoTestData.Key("ecdh-a-NistP256", () => CryptoTestData.EccStorage());
        using var key = new TpmPrivateKey(pub, sens);
        var point = (EccPoint)pub.Unique;
        var bad = new EccPoint(point.X, point.Y.ToArray());
        bad.Y[0] ^= 0x80;

        Assert.Equal(TpmRc.EccPoint, Assert.Throws<TpmException>(() => key.EcdhZ(bad)).ResponseCode);
    }

    [Fact]
    public void Constructor_RsaPrimeNotDividingModulus_ThrowsBinding()
    {
        var (pub, sens) = Rsa2048;
        var prime = sens.Sensitive.ToArray();
        prime[^1] ^= 2;
        using var wrong = new TpmtSensitive(TpmAlgId.Rsa, [], [], prime);

        Assert.Equal(TpmRc.Binding, Assert.Throws<TpmException>(() => new TpmPrivateKey(pub, wrong)).ResponseCode);
    }

    [Theory]
    [InlineData(TpmEccCurve.NistP256)]
    [InlineData(TpmEccCurve.BnP256)]
    public void Constructor_EccScalarOfAnotherKey_ThrowsBinding(TpmEccCurve curve)
    {
        var (pubA, _) = CryptoTestData.Key($"ecdh-a-{curve}", () => CryptoTestData.EccStorage(curve));
        var (_, sensB) = CryptoTestData.Key($"ecdh-b-{curve}", () => CryptoTestData.EccStorage(curve));

        Assert.Equal(TpmRc.Binding, Assert.Throws<TpmException>(() => new TpmPrivateKey(pubA, sensB)).ResponseCode);
    }

    [Fact]
    public void Constructor_SymmetricObject_ThrowsType()
    {
        using var sens = new TpmtSensitive(TpmAlgId.Symcipher, [], [], new byte[16]);
        var pub = new TpmtPublic(TpmAlgId.Symcipher, TpmAlgId.Sha256, TpmaObject.Decrypt, [], new SymCipherParms(TpmtSymDef.Aes128Cfb), new DigestPublicId([]));

        Assert.Equal(TpmRc.Type, Assert.Throws<TpmException>(() => new TpmPrivateKey(pub, sens)).ResponseCode);
    }

    [Fact]
    public void Sign_AfterDispose_Throws()
    {
        var (pub, sens) = Rsa2048;
        var key = new TpmPrivateKey(pub, sens);
        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.Sign(new TpmtScheme(TpmAlgId.Rsassa, TpmAlgId.Sha256), Sha256Digest, false, SystemRandomSource.Instance));
    }
}
