using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware.Tests;

public class KeyGeneratorTests
{
    private static readonly byte[] HierarchySeed = CryptoTestData.Seed(0x11, 64);

    [Theory]
    [InlineData(1024)]
    [InlineData(2048)]
    public void CreateOrdinary_Rsa_ModulusOfKeySizeAndUsableKey(ushort bits)
    {
        using var random = DeterministicRandomSource.FromSeed(bits);

        var (pub, sens) = KeyGenerator.CreateOrdinary(CryptoTestData.RsaSigning(bits), TpmsSensitiveCreate.Empty, random);

        Assert.Equal(bits / 8, ((RsaPublicId)pub.Unique).Modulus.Length);
        Assert.Equal(bits / 16, sens.Sensitive.Length);
        Assert.Empty(sens.SeedValue);
        using var key = new TpmPrivateKey(pub, sens);
        var digest = SHA256.HashData([1]);
        using var verifier = CryptoTestData.DotNetRsa(pub);
        Assert.True(verifier.VerifyHash(digest, key.Sign(new TpmtScheme(TpmAlgId.Rsassa, TpmAlgId.Sha256), digest, false, random).RsaSignature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void CreateOrdinary_RsaStorageKey_KeepsDigestSizedSeed()
    {
        var (pub, sens) = CryptoTestData.Key("rsa2048-storage", () => CryptoTestData.RsaStorage());

        Assert.Equal(32, sens.SeedValue.Length);
        Assert.Equal(TpmAlgId.Rsa, sens.SensitiveType);
        Assert.Equal(256, ((RsaPublicId)pub.Unique).Modulus.Length);
    }

    [Theory]
    [InlineData(TpmEccCurve.NistP256)]
    [InlineData(TpmEccCurve.NistP384)]
    [InlineData(TpmEccCurve.BnP256)]
    public void CreateOrdinary_Ecc_PointOnCurveMatchingScalar(TpmEccCurve curve)
    {
        using var random = DeterministicRandomSource.FromSeed(4);

        var (pub, sens) = KeyGenerator.CreateOrdinary(CryptoTestData.EccStorage(curve), new TpmsSensitiveCreate([1, 2], []), random);

        var info = EccCurves.Get(curve);
        var point = (EccPoint)pub.Unique;
        Assert.Equal(info.CoordinateSize, point.X.Length);
        Assert.True(info.DecodePoint(point).Equals(info.Domain.G.Multiply(new Org.BouncyCastle.Math.BigInteger(1, sens.Sensitive)).Normalize()));
        Assert.Equal([1, 2], sens.AuthValue);
        Assert.Equal(32, sens.SeedValue.Length);
    }

    [Fact]
    public void CreateOrdinary_SealedData_UniqueIsHashOfSeedAndData()
    {
        var template = new TpmtPublic(TpmAlgId.Keyedhash, TpmAlgId.Sha256, TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.UserWithAuth, [], new KeyedHashParms(TpmtScheme.Null), new DigestPublicId([]));
        using var random = DeterministicRandomSource.FromSeed(5);

        var (pub, sens) = KeyGenerator.CreateOrdinary(template, new TpmsSensitiveCreate([], "secret"u8.ToArray()), random);

        Assert.Equal("secret"u8.ToArray(), sens.Sensitive);
        Assert.Equal(SHA256.HashData([.. sens.SeedValue, .. sens.Sensitive]), ((DigestPublicId)pub.Unique).Digest);
    }

    [Fact]
    public void CreateOrdinary_HmacKey_GeneratesDigestSizedKey()
    {
        var template = new TpmtPublic(TpmAlgId.Keyedhash, TpmAlgId.Sha256, CryptoTestData.SigningAttributes, [], new KeyedHashParms(new TpmtScheme(TpmAlgId.Hmac, TpmAlgId.Sha384)), new DigestPublicId([]));
        using var random = DeterministicRandomSource.FromSeed(6);

        var (pub, sens) = KeyGenerator.CreateOrdinary(template, TpmsSensitiveCreate.Empty, random);

        Assert.Equal(48, sens.Sensitive.Length);
        Assert.Equal(32, ((DigestPublicId)pub.Unique).Digest.Length);
    }

    [Theory]
    [InlineData(128)]
    [InlineData(256)]
    public void CreateOrdinary_SymCipherParent_UniqueIsHmacOfSeed(ushort bits)
    {
        var template = new TpmtPublic(TpmAlgId.Symcipher, TpmAlgId.Sha256, CryptoTestData.StorageAttributes, [], new SymCipherParms(new TpmtSymDef(TpmAlgId.Aes, bits, TpmAlgId.Cfb)), new DigestPublicId([]));
        using var random = DeterministicRandomSource.FromSeed(7);

        var (pub, sens) = KeyGenerator.CreateOrdinary(template, TpmsSensitiveCreate.Empty, random);

        Assert.Equal(bits / 8, sens.Sensitive.Length);
        Assert.Equal(HMACSHA256.HashData(sens.SeedValue, sens.Sensitive), ((DigestPublicId)pub.Unique).Digest);
    }

    [Fact]
    public void CreateOrdinary_SymCipherWithKeyOfWrongSize_ThrowsKeySize()
    {
        var template = new TpmtPublic(TpmAlgId.Symcipher, TpmAlgId.Sha256, TpmaObject.UserWithAuth | TpmaObject.Decrypt | TpmaObject.Sign, [], new SymCipherParms(TpmtSymDef.Aes128Cfb), new DigestPublicId([]));

        var e = Assert.Throws<TpmException>(() => KeyGenerator.CreateOrdinary(template, new TpmsSensitiveCreate([], new byte[15]), SystemRandomSource.Instance));

        Assert.Equal(TpmRc.KeySize, e.ResponseCode);
    }

    [Fact]
    public void CreatePrimary_SameInputs_SameKey()
    {
        var template = CryptoTestData.RsaStorage();

        var (pubA, sensA) = KeyGenerator.CreatePrimary(null, HierarchySeed, template, TpmsSensitiveCreate.Empty);
        var (pubB, sensB) = KeyGenerator.CreatePrimary(null, HierarchySeed, template, TpmsSensitiveCreate.Empty);

        Assert.Equal(pubA.ToBytes(), pubB.ToBytes());
        Assert.Equal(sensA.Sensitive, sensB.Sensitive);
        Assert.Equal(sensA.SeedValue, sensB.SeedValue);
    }

    [Theory]
    [InlineData(TpmEccCurve.NistP256)]
    [InlineData(TpmEccCurve.NistP384)]
    [InlineData(TpmEccCurve.BnP256)]
    public void CreatePrimary_Ecc_DeterministicAndUniqueSensitive(TpmEccCurve curve)
    {
        var template = CryptoTestData.EccStorage(curve);

        var a = KeyGenerator.CreatePrimary(null, HierarchySeed, template, TpmsSensitiveCreate.Empty);
        var b = KeyGenerator.CreatePrimary(null, HierarchySeed, template, TpmsSensitiveCreate.Empty);
        var c = KeyGenerator.CreatePrimary(null, HierarchySeed, template.WithUnique(new EccPoint([1], [])), TpmsSensitiveCreate.Empty);

        Assert.Equal(a.Public.ToBytes(), b.Public.ToBytes());
        Assert.NotEqual(a.Public.ToBytes(), c.Public.ToBytes());
    }

    [Fact]
    public void CreatePrimary_DifferentUnique_DifferentKey()
    {
        var template = CryptoTestData.RsaStorage();
        var other = template.WithUnique(new RsaPublicId("my unique"u8.ToArray()));

        var (pubA, _) = KeyGenerator.CreatePrimary(null, HierarchySeed, template, TpmsSensitiveCreate.Empty);
        var (pubB, _) = KeyGenerator.CreatePrimary(null, HierarchySeed, other, TpmsSensitiveCreate.Empty);

        Assert.NotEqual(((RsaPublicId)pubA.Unique).Modulus, ((RsaPublicId)pubB.Unique).Modulus);
    }

    [Fact]
    public void CreatePrimary_DifferentSeed_DifferentKey()
    {
        var template = CryptoTestData.EccStorage();

        var (pubA, _) = KeyGenerator.CreatePrimary(null, HierarchySeed, template, TpmsSensitiveCreate.Empty);
        var (pubB, _) = KeyGenerator.CreatePrimary(null, CryptoTestData.Seed(0x12, 64), template, TpmsSensitiveCreate.Empty);

        Assert.NotEqual(pubA.ToBytes(), pubB.ToBytes());
    }

    [Fact]
    public void CreatePrimary_DifferentSensitiveData_DifferentKey()
    {
        var template = CryptoTestData.EccStorage();

        var (pubA, _) = KeyGenerator.CreatePrimary(null, HierarchySeed, template, TpmsSensitiveCreate.Empty);
        var (pubB, _) = KeyGenerator.CreatePrimary(null, HierarchySeed, template, new TpmsSensitiveCreate([], [1]));

        Assert.NotEqual(pubA.ToBytes(), pubB.ToBytes());
    }

    [Fact]
    public void CreatePrimary_AuthValue_DoesNotChangeKey()
    {
        var template = CryptoTestData.EccStorage();

        var (pubA, _) = KeyGenerator.CreatePrimary(null, HierarchySeed, template, TpmsSensitiveCreate.Empty);
        var (pubB, sensB) = KeyGenerator.CreatePrimary(null, HierarchySeed, template, new TpmsSensitiveCreate([1, 2, 3, 0, 0], []));

        Assert.Equal(pubA.ToBytes(), pubB.ToBytes());
        Assert.Equal([1, 2, 3], sensB.AuthValue);
    }

    [Fact]
    public void CreatePrimary_Rsa2048_DifferentSeeds_GiveDistinctValidModuli()
    {
        // Speed is measured by RsaPrimaryKeyBenchmarks; here: each seed yields its own modulus,
        // whose stored prime divides it into two 1024-bit factors.
        var moduli = new HashSet<string>();
        for (byte i = 0; i < 3; i++)
        {
            var (pub, sens) = KeyGenerator.CreatePrimary(null, CryptoTestData.Seed(i, 32), CryptoTestData.RsaStorage(), TpmsSensitiveCreate.Empty);
            using (sens)
            {
                var modulus = ((RsaPublicId)pub.Unique).Modulus;
                var n = new System.Numerics.BigInteger(modulus, isUnsigned: true, isBigEndian: true);
                var p = new System.Numerics.BigInteger(sens.Sensitive, isUnsigned: true, isBigEndian: true);
                Assert.Equal(128, sens.Sensitive.Length);
                Assert.True(System.Numerics.BigInteger.Remainder(n, p).IsZero);
                Assert.Equal(1024, (int)(n / p).GetBitLength());
                Assert.True(moduli.Add(Convert.ToHexString(modulus)));
            }
        }
    }

    public static TheoryData<string, TpmtPublic, TpmRc> InvalidTemplates()
    {
        var rsa = CryptoTestData.RsaStorage();
        var ecc = CryptoTestData.EccSigning();
        var rsaParms = (RsaParms)rsa.Parameters;
        var eccParms = (EccParms)ecc.Parameters;
        return new TheoryData<string, TpmtPublic, TpmRc>
        {
            { "rsa4096", rsa with { Parameters = rsaParms with { KeyBits = 4096 } }, TpmRc.Value },
            { "even exponent", rsa with { Parameters = rsaParms with { Exponent = 4 } }, TpmRc.Range },
            { "curve p521", ecc with { Parameters = eccParms with { Curve = TpmEccCurve.NistP521 } }, TpmRc.Curve },
            { "nameAlg sm3", rsa with { NameAlg = TpmAlgId.Sm3256 }, TpmRc.Hash },
            { "nameAlg null", rsa with { NameAlg = TpmAlgId.Null }, TpmRc.Hash },
            { "scheme hash null", ecc with { Parameters = eccParms with { Scheme = new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sm3256) } }, TpmRc.Hash },
            { "schnorr", ecc with { Parameters = eccParms with { Scheme = new TpmtScheme(TpmAlgId.Ecschnorr, TpmAlgId.Sha256) } }, TpmRc.Scheme },
            { "ecc kdf", ecc with { Parameters = eccParms with { Kdf = new TpmtScheme(TpmAlgId.Kdf1Sp800108, TpmAlgId.Sha256) } }, TpmRc.Kdf },
            { "aes192 storage", rsa with { Parameters = new RsaParms(new TpmtSymDef(TpmAlgId.Aes, 192, TpmAlgId.Cfb), rsaParms.Scheme, rsaParms.KeyBits, rsaParms.Exponent) }, TpmRc.Value },
            { "camellia storage", rsa with { Parameters = new RsaParms(new TpmtSymDef(TpmAlgId.Camellia, 128, TpmAlgId.Cfb), rsaParms.Scheme, rsaParms.KeyBits, rsaParms.Exponent) }, TpmRc.Symmetric },
            { "storage without symmetric", rsa with { Parameters = new RsaParms(TpmtSymDef.Null, rsaParms.Scheme, rsaParms.KeyBits, rsaParms.Exponent) }, TpmRc.Symmetric },
            { "storage with CBC", rsa with { Parameters = new RsaParms(new TpmtSymDef(TpmAlgId.Aes, 128, TpmAlgId.Cbc), rsaParms.Scheme, rsaParms.KeyBits, rsaParms.Exponent) }, TpmRc.Mode },
            { "restricted sign and decrypt", rsa with { ObjectAttributes = rsa.ObjectAttributes | TpmaObject.Sign }, TpmRc.Attributes },
            { "neither sign nor decrypt", ecc with { ObjectAttributes = ecc.ObjectAttributes & ~TpmaObject.Sign }, TpmRc.Attributes },
            { "fixedTPM without fixedParent", ecc with { ObjectAttributes = ecc.ObjectAttributes & ~TpmaObject.FixedParent }, TpmRc.Attributes },
            { "no sensitiveDataOrigin", ecc with { ObjectAttributes = ecc.ObjectAttributes & ~TpmaObject.SensitiveDataOrigin }, TpmRc.Attributes },
            { "encryptedDuplication with fixedTPM", ecc with { ObjectAttributes = ecc.ObjectAttributes | TpmaObject.EncryptedDuplication }, TpmRc.Attributes },
            { "authPolicy wrong size", ecc with { AuthPolicy = new byte[20] }, TpmRc.Size },
            { "restricted decrypt with scheme", rsa with { Parameters = rsaParms with { Scheme = new TpmtScheme(TpmAlgId.Oaep, TpmAlgId.Sha256) } }, TpmRc.Scheme },
            { "signing key with decrypt scheme", ecc with { Parameters = eccParms with { Scheme = new TpmtScheme(TpmAlgId.Ecdh, TpmAlgId.Sha256) } }, TpmRc.Scheme },
            { "signing key with symmetric", ecc with { Parameters = new EccParms(TpmtSymDef.Aes128Cfb, eccParms.Scheme, eccParms.Curve, eccParms.Kdf) }, TpmRc.Symmetric },
            { "mismatched parameters", rsa with { Type = TpmAlgId.Ecc }, TpmRc.Type },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidTemplates))]
    public void CreateOrdinary_InvalidTemplate_ThrowsTpmCode(string name, TpmtPublic template, TpmRc expected)
    {
        var e = Assert.Throws<TpmException>(() => KeyGenerator.CreateOrdinary(template, TpmsSensitiveCreate.Empty, SystemRandomSource.Instance));

        Assert.True(expected == e.ResponseCode, $"{name}: expected {expected}, got {e.ResponseCode} ({e.Message})");
    }

    [Fact]
    public void CreateOrdinary_AuthValueLongerThanDigest_ThrowsSize()
    {
        // Trailing zeros do not count (they trim away); a non-zero 33rd octet does.
        var (_, sens) = KeyGenerator.CreateOrdinary(CryptoTestData.EccSigning(), new TpmsSensitiveCreate([1, .. new byte[40]], []), SystemRandomSource.Instance);
        Assert.Equal([1], sens.AuthValue);

        var e = Assert.Throws<TpmException>(() => KeyGenerator.CreateOrdinary(CryptoTestData.EccSigning(), new TpmsSensitiveCreate([.. new byte[32], 1], []), SystemRandomSource.Instance));

        Assert.Equal(TpmRc.Size, e.ResponseCode);
    }

    [Fact]
    public void CreateOrdinary_DataWithSensitiveDataOrigin_ThrowsAttributes()
    {
        var e = Assert.Throws<TpmException>(() => KeyGenerator.CreateOrdinary(CryptoTestData.EccSigning(), new TpmsSensitiveCreate([], [1]), SystemRandomSource.Instance));

        Assert.Equal(TpmRc.Attributes, e.ResponseCode);
    }

    [Fact]
    public void CreateOrdinary_NonDuplicableStorageKeyWithOtherNameAlg_ThrowsHash()
    {
        var parent = CryptoTestData.RsaStorage();
        var child = CryptoTestData.EccStorage() with { NameAlg = TpmAlgId.Sha384 };

        var e = Assert.Throws<TpmException>(() => KeyGenerator.CreateOrdinary(child, TpmsSensitiveCreate.Empty, SystemRandomSource.Instance, parent));

        Assert.Equal(TpmRc.Hash, e.ResponseCode);
    }
}
