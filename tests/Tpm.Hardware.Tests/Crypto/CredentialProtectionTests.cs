using TrustStack.Tests.Shared;

namespace TrustStack.Tpm.Hardware.Tests;

public class CredentialProtectionTests
{
    private static readonly byte[] ObjectName = [0x00, 0x0B, .. CryptoTestData.Seed(0x77)];
    private static readonly byte[] Credential = "sixteen octets!!"u8.ToArray();

    public static TheoryData<string> EkKinds() => ["rsa", "ecc"];

    private static (TpmtPublic Public, TpmtSensitive Sensitive) Ek(string kind) => kind == "rsa"
        ? CryptoTestData.Key("ek-rsa", CryptoTestData.RsaEk)
        : CryptoTestData.Key("ek-ecc", CryptoTestData.EccEk);

    [Theory]
    [MemberData(nameof(EkKinds))]
    public void ActivateCredential_MadeCredential_RecoversCredential(string kind)
    {
        var (pub, sens) = Ek(kind);
        using var key = new TpmPrivateKey(pub, sens);

        var (blob, secret) = CredentialProtection.MakeCredential(pub, Credential, ObjectName, SystemRandomSource.Instance);

        Assert.Equal(Credential, CredentialProtection.ActivateCredential(key, pub, blob, secret, ObjectName));
    }

    [Theory]
    [MemberData(nameof(EkKinds))]
    public void ActivateCredential_TamperedBlob_ThrowsIntegrity(string kind)
    {
        var (pub, sens) = Ek(kind);
        using var key = new TpmPrivateKey(pub, sens);
        var (blob, secret) = CredentialProtection.MakeCredential(pub, Credential, ObjectName, SystemRandomSource.Instance);
        blob[^3] ^= 0x40;

        var e = Assert.Throws<TpmException>(() => CredentialProtection.ActivateCredential(key, pub, blob, secret, ObjectName));

        Assert.Equal(TpmRc.Integrity, e.ResponseCode);
    }

    [Fact]
    public void ActivateCredential_OtherObjectName_ThrowsIntegrity()
    {
        // The attack MakeCredential binds against: presenting the credential for a different key.
        var (pub, sens) = Ek("ecc");
        using var key = new TpmPrivateKey(pub, sens);
        var (blob, secret) = CredentialProtection.MakeCredential(pub, Credential, ObjectName, SystemRandomSource.Instance);
        byte[] otherName = [0x00, 0x0B, .. CryptoTestData.Seed(0x78)];

        Assert.Equal(TpmRc.Integrity, Assert.Throws<TpmException>(() => CredentialProtection.ActivateCredential(key, pub, blob, secret, otherName)).ResponseCode);
    }

    [Fact]
    public void ActivateCredential_SecretForAnotherKey_Fails()
    {
        var (rsaPub, rsaSens) = Ek("rsa");
        var (otherPub, _) = CryptoTestData.Key("rsa2048-storage", () => CryptoTestData.RsaStorage());
        using var key = new TpmPrivateKey(rsaPub, rsaSens);
        var (blob, secret) = CredentialProtection.MakeCredential(otherPub, Credential, ObjectName, SystemRandomSource.Instance);

        var e = Assert.Throws<TpmException>(() => CredentialProtection.ActivateCredential(key, rsaPub, blob, secret, ObjectName));

        Assert.True(e.ResponseCode is TpmRc.Value or TpmRc.Integrity, e.Message);
    }

    [Fact]
    public void MakeCredential_CredentialLongerThanDigest_ThrowsSize()
    {
        var (pub, _) = Ek("ecc");

        Assert.Equal(TpmRc.Size, Assert.Throws<TpmException>(() => CredentialProtection.MakeCredential(pub, new byte[33], ObjectName, SystemRandomSource.Instance)).ResponseCode);
    }

    [Fact]
    public void MakeCredential_SigningKey_ThrowsType()
    {
        var (pub, _) = CryptoTestData.Key("rsa2048-sign", () => CryptoTestData.RsaSigning());

        Assert.Equal(TpmRc.Type, Assert.Throws<TpmException>(() => CredentialProtection.MakeCredential(pub, Credential, ObjectName, SystemRandomSource.Instance)).ResponseCode);
    }

    [Theory]
    [MemberData(nameof(EkKinds))]
    public void ActivateCredential_BlobFromTpm2Makecredential_RecoversSecret(string kind)
    {
        // Interop with tpm2-tools: tpm2_makecredential runs offline (--tcti none) on a TPM2B_PUBLIC.
        var (pub, sens) = Ek(kind);
        using var key = new TpmPrivateKey(pub, sens);
        var dir = Directory.CreateTempSubdirectory("truststack-makecredential-");
        try
        {
            var pubPath = Path.Combine(dir.FullName, "ek.pub");
            var secretPath = Path.Combine(dir.FullName, "secret.bin");
            var outPath = Path.Combine(dir.FullName, "cred.out");
            var writer = new TpmWriter();
            pub.MarshalSized(writer);
            File.WriteAllBytes(pubPath, writer.ToArray());
            File.WriteAllBytes(secretPath, Credential);

            PeerTools.RunChecked("tpm2_makecredential", ["--tcti", "none", "-u", pubPath, "-s", secretPath, "-n", Convert.ToHexString(ObjectName).ToLowerInvariant(), "-o", outPath]);

            var file = File.ReadAllBytes(outPath);
            var reader = new TpmReader(file);
            Assert.Equal(0xBADCC0DEu, reader.ReadU32());
            Assert.Equal(1u, reader.ReadU32());
            var blob = reader.ReadTpm2b();
            var secret = reader.ReadTpm2b();
            Assert.Equal(0, reader.Remaining);
            Assert.Equal(Credential, CredentialProtection.ActivateCredential(key, pub, blob, secret, ObjectName));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
