namespace TrustStack.Tpm.Hardware.Tests;

public class ObjectProtectionTests
{
    private static readonly byte[] ParentSeed = CryptoTestData.Seed(0x33);
    private static readonly byte[] Name = [0x00, 0x0B, .. CryptoTestData.Seed(0x44)];

    private static TpmtSensitive Sample() => new(TpmAlgId.Ecc, [1, 2, 3], [], CryptoTestData.Seed(0x55));

    [Theory]
    [InlineData(TpmAlgId.Sha256, 128)]
    [InlineData(TpmAlgId.Sha384, 256)]
    [InlineData(TpmAlgId.Sha1, 128)]
    public void Unwrap_WrappedSensitive_RoundTrips(TpmAlgId hash, ushort keyBits)
    {
        var symmetric = new TpmtSymDef(TpmAlgId.Aes, keyBits, TpmAlgId.Cfb);
        using var sensitive = Sample();

        var blob = ObjectProtection.Wrap(hash, ParentSeed, symmetric, Name, sensitive);
        using var back = ObjectProtection.Unwrap(hash, ParentSeed, symmetric, Name, blob);

        Assert.Equal(TpmHash.DigestSize(hash), (blob[0] << 8) | blob[1]);
        Assert.Equal(sensitive.SensitiveType, back.SensitiveType);
        Assert.Equal(sensitive.AuthValue, back.AuthValue);
        Assert.Equal(sensitive.SeedValue, back.SeedValue);
        Assert.Equal(sensitive.Sensitive, back.Sensitive);
    }

    [Fact]
    public void Wrap_Layout_IsIntegrityThenCfbOfSizedSensitive()
    {
        using var sensitive = Sample();
        var blob = ObjectProtection.Wrap(TpmAlgId.Sha256, ParentSeed, TpmtSymDef.Aes128Cfb, Name, sensitive);

        // Independent recomputation from the Part 1 §23 formulas.
        var symKey = TpmKdf.KdfA(TpmAlgId.Sha256, ParentSeed, "STORAGE", Name, [], 128);
        var hmacKey = TpmKdf.KdfA(TpmAlgId.Sha256, ParentSeed, "INTEGRITY", [], [], 256);
        var writer = new TpmWriter();
        var mark = writer.BeginSize16();
        sensitive.Marshal(writer);
        writer.EndSize16(mark);
        var encrypted = SymmetricCipher.CfbEncrypt(symKey, new byte[16], writer.WrittenSpan);
        var hmac = TpmHash.Hmac(TpmAlgId.Sha256, hmacKey, encrypted, Name);

        Assert.Equal([0x00, 0x20, .. hmac, .. encrypted], blob);
    }

    [Fact]
    public void Unwrap_TamperedCiphertext_ThrowsIntegrity()
    {
        using var sensitive = Sample();
        var blob = ObjectProtection.Wrap(TpmAlgId.Sha256, ParentSeed, TpmtSymDef.Aes128Cfb, Name, sensitive);
        blob[^1] ^= 1;

        var e = Assert.Throws<TpmException>(() => ObjectProtection.Unwrap(TpmAlgId.Sha256, ParentSeed, TpmtSymDef.Aes128Cfb, Name, blob));

        Assert.Equal(TpmRc.Integrity, e.ResponseCode);
    }

    [Fact]
    public void Unwrap_OtherName_ThrowsIntegrity()
    {
        using var sensitive = Sample();
        var blob = ObjectProtection.Wrap(TpmAlgId.Sha256, ParentSeed, TpmtSymDef.Aes128Cfb, Name, sensitive);
        var otherName = Name.ToArray();
        otherName[^1] ^= 1;

        Assert.Equal(TpmRc.Integrity, Assert.Throws<TpmException>(() => ObjectProtection.Unwrap(TpmAlgId.Sha256, ParentSeed, TpmtSymDef.Aes128Cfb, otherName, blob)).ResponseCode);
    }

    [Fact]
    public void Unwrap_OtherParentSeed_ThrowsIntegrity()
    {
        using var sensitive = Sample();
        var blob = ObjectProtection.Wrap(TpmAlgId.Sha256, ParentSeed, TpmtSymDef.Aes128Cfb, Name, sensitive);

        Assert.Equal(TpmRc.Integrity, Assert.Throws<TpmException>(() => ObjectProtection.Unwrap(TpmAlgId.Sha256, CryptoTestData.Seed(0x34), TpmtSymDef.Aes128Cfb, Name, blob)).ResponseCode);
    }

    [Fact]
    public void Unwrap_IntegrityOfWrongSize_ThrowsIntegrity()
    {
        using var sensitive = Sample();
        var blob = ObjectProtection.Wrap(TpmAlgId.Sha256, ParentSeed, TpmtSymDef.Aes128Cfb, Name, sensitive);
        blob[1] = 0x1F;

        Assert.Equal(TpmRc.Integrity, Assert.Throws<TpmException>(() => ObjectProtection.Unwrap(TpmAlgId.Sha256, ParentSeed, TpmtSymDef.Aes128Cfb, Name, blob)).ResponseCode);
    }

    [Fact]
    public void Unwrap_Truncated_ThrowsInsufficient()
    {
        Assert.Equal(TpmRc.Insufficient, Assert.Throws<TpmException>(() => ObjectProtection.Unwrap(TpmAlgId.Sha256, ParentSeed, TpmtSymDef.Aes128Cfb, Name, [0x00, 0x20, 1, 2])).ResponseCode);
    }

    [Fact]
    public void Unwrap_AuthenticGarbage_ThrowsSensitive()
    {
        // A correctly MACed blob whose plaintext is not a TPM2B_SENSITIVE.
        var blob = ObjectProtection.ProduceOuterWrap(TpmAlgId.Sha256, ParentSeed, TpmtSymDef.Aes128Cfb, Name, [0x00, 0x03, 0x00, 0x23, 0x00]);

        var e = Assert.Throws<TpmException>(() => ObjectProtection.Unwrap(TpmAlgId.Sha256, ParentSeed, TpmtSymDef.Aes128Cfb, Name, blob));

        Assert.Equal(TpmRc.Sensitive, e.ResponseCode);
    }

    [Fact]
    public void Wrap_NullSymmetric_ThrowsSymmetric()
    {
        using var sensitive = Sample();

        Assert.Equal(TpmRc.Symmetric, Assert.Throws<TpmException>(() => ObjectProtection.Wrap(TpmAlgId.Sha256, ParentSeed, TpmtSymDef.Null, Name, sensitive)).ResponseCode);
    }

    [Fact]
    public void UnwrapOuter_AfterProduceOuterWrap_ReturnsPlaintext()
    {
        byte[] plaintext = [0x00, 0x05, 1, 2, 3, 4, 5];

        var blob = ObjectProtection.ProduceOuterWrap(TpmAlgId.Sha384, ParentSeed, TpmtSymDef.Aes128Cfb, Name, plaintext);

        Assert.Equal(plaintext, ObjectProtection.UnwrapOuter(TpmAlgId.Sha384, ParentSeed, TpmtSymDef.Aes128Cfb, Name, blob));
    }
}
