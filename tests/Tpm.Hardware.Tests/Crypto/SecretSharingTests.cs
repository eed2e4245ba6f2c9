namespace TrustStack.Tpm.Hardware.Tests;

public class SecretSharingTests
{
    public static TheoryData<string> Keys() => ["rsa2048-storage", "ecc-storage-p256", "ecc-storage-p384"];

    private static (TpmtPublic Public, TpmtSensitive Sensitive) Key(string name) => name switch
    {
        "rsa2048-storage" => CryptoTestData.Key(name, () => CryptoTestData.RsaStorage()),
        "ecc-storage-p256" => CryptoTestData.Key(name, () => CryptoTestData.EccStorage()),
        _ => CryptoTestData.Key(name, () => CryptoTestData.EccStorage(TpmEccCurve.NistP384)),
    };

    [Theory]
    [MemberData(nameof(Keys))]
    public void Decrypt_EncryptedSeed_RoundTrips(string name)
    {
        var (pub, sens) = Key(name);
        using var key = new TpmPrivateKey(pub, sens);

        var (seed, secret) = SecretSharing.Encrypt(pub, "SECRET", SystemRandomSource.Instance);

        Assert.Equal(32, seed.Length);
        Assert.Equal(seed, SecretSharing.Decrypt(key, pub, "SECRET", secret));
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void Decrypt_OtherLabel_DoesNotRecoverSeed(string name)
    {
        var (pub, sens) = Key(name);
        using var key = new TpmPrivateKey(pub, sens);
        var (seed, secret) = SecretSharing.Encrypt(pub, "SECRET", SystemRandomSource.Instance);

        byte[]? recovered = null;
        var e = Record.Exception(() => recovered = SecretSharing.Decrypt(key, pub, "IDENTITY", secret));

        // RSA-OAEP rejects the label (TPM_RC_VALUE); ECC derives a different seed.
        Assert.True(e is TpmException { ResponseCode: TpmRc.Value } || (recovered is not null && !recovered.AsSpan().SequenceEqual(seed)));
    }

    [Fact]
    public void Encrypt_Ecc_SecretIsMarshalledEphemeralPointAndSeedIsKdfe()
    {
        var (pub, sens) = Key("ecc-storage-p256");
        using var key = new TpmPrivateKey(pub, sens);
        using var random = DeterministicRandomSource.FromSeed(1);

        var (seed, secret) = SecretSharing.Encrypt(pub, "IDENTITY", random);

        var reader = new TpmReader(secret);
        var ephemeral = EccPoint.UnmarshalPoint(ref reader);
        Assert.Equal(0, reader.Remaining);
        var z = key.EcdhZ(ephemeral);
        Assert.Equal(TpmKdf.KdfE(TpmAlgId.Sha256, z, "IDENTITY", ephemeral.X, ((EccPoint)pub.Unique).X, 256), seed);
    }

    [Fact]
    public void Decrypt_EccSecretOffCurve_ThrowsEccPoint()
    {
        var (pub, sens) = Key("ecc-storage-p256");
        using var key = new TpmPrivateKey(pub, sens);
        var writer = new TpmWriter();
        new EccPoint(CryptoTestData.Seed(1), CryptoTestData.Seed(2)).Marshal(writer);

        Assert.Equal(TpmRc.EccPoint, Assert.Throws<TpmException>(() => SecretSharing.Decrypt(key, pub, "SECRET", writer.ToArray())).ResponseCode);
    }

    [Fact]
    public void Encrypt_SigningKey_ThrowsAttributes()
    {
        var (pub, _) = CryptoTestData.Key("rsa2048-sign", () => CryptoTestData.RsaSigning());

        Assert.Equal(TpmRc.Attributes, Assert.Throws<TpmException>(() => SecretSharing.Encrypt(pub, "SECRET", SystemRandomSource.Instance)).ResponseCode);
    }

    [Fact]
    public void Encrypt_EccKeyOffCurve_ThrowsKey()
    {
        var pub = CryptoTestData.EccStorage().WithUnique(new EccPoint(CryptoTestData.Seed(1), CryptoTestData.Seed(2)));

        Assert.Equal(TpmRc.Key, Assert.Throws<TpmException>(() => SecretSharing.Encrypt(pub, "SECRET", SystemRandomSource.Instance)).ResponseCode);
    }
}
