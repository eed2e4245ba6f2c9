namespace TrustStack.Tpm.Hardware.Tests;

public class SymmetricCipherTests
{
    // NIST SP 800-38A F.3.13 CFB128-AES128.Encrypt.
    private static readonly byte[] Key = Convert.FromHexString("2b7e151628aed2a6abf7158809cf4f3c");
    private static readonly byte[] Iv = Convert.FromHexString("000102030405060708090a0b0c0d0e0f");
    private static readonly byte[] Plaintext = Convert.FromHexString(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
    private static readonly byte[] Ciphertext = Convert.FromHexString(
        "3b3fd92eb72dad20333449f8e83cfb4ac8a64537a0b3a93fcde3cdad9f1ce58b26751f67a3cbb140b1808cf187a4f4dfc04b05357c5d1c0eeac4c66f9ff7f2e6");

    [Fact]
    public void CfbEncrypt_Sp800_38aF313Vector_Matches()
    {
        Assert.Equal(Ciphertext, SymmetricCipher.CfbEncrypt(Key, Iv, Plaintext));
    }

    [Fact]
    public void CfbDecrypt_Sp800_38aF314Vector_Matches()
    {
        Assert.Equal(Plaintext, SymmetricCipher.CfbDecrypt(Key, Iv, Ciphertext));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(63)]
    public void CfbEncrypt_UnalignedPrefix_IsPrefixOfFullCiphertext(int length)
    {
        // CFB is a stream mode: the encryption of a prefix is the prefix of the encryption.
        Assert.Equal(Ciphertext.AsSpan(0, length).ToArray(), SymmetricCipher.CfbEncrypt(Key, Iv, Plaintext.AsSpan(0, length)));
        Assert.Equal(Plaintext.AsSpan(0, length).ToArray(), SymmetricCipher.CfbDecrypt(Key, Iv, Ciphertext.AsSpan(0, length)));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    public void CfbInPlace_AnyLength_RoundTrips(int keySize)
    {
        var key = CryptoTestData.Seed(0x42, keySize);
        for (var length = 0; length < 70; length++)
        {
            var data = Enumerable.Range(0, length).Select(i => unchecked((byte)(i * 7))).ToArray();
            var copy = data.ToArray();

            SymmetricCipher.CfbEncryptInPlace(key, Iv, data);
            if (length > 0)
            {
                Assert.NotEqual(copy, data);
            }

            SymmetricCipher.CfbDecryptInPlace(key, Iv, data);
            Assert.Equal(copy, data);
        }
    }

    [Fact]
    public void CfbEncrypt_BadKeyLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => SymmetricCipher.CfbEncrypt(new byte[15], Iv, Plaintext));
    }

    [Fact]
    public void CfbEncrypt_BadIvLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => SymmetricCipher.CfbEncrypt(Key, new byte[8], Plaintext));
    }

    [Fact]
    public void Xor_MaskIsKdfaWithXorLabel()
    {
        var data = Convert.FromHexString("00000000000000000000");
        var newer = Convert.FromHexString("11111111");
        var older = Convert.FromHexString("2222");

        var masked = SymmetricCipher.Xor(TpmAlgId.Sha256, Key, newer, older, data);

        Assert.Equal(TpmKdf.KdfA(TpmAlgId.Sha256, Key, "XOR", newer, older, 80), masked);
    }

    [Fact]
    public void XorInPlace_Twice_RestoresData()
    {
        var data = Enumerable.Range(0, 2000).Select(i => unchecked((byte)i)).ToArray();
        var copy = data.ToArray();

        SymmetricCipher.XorInPlace(TpmAlgId.Sha1, Key, Iv, [], data);
        Assert.NotEqual(copy, data);
        SymmetricCipher.XorInPlace(TpmAlgId.Sha1, Key, Iv, [], data);

        Assert.Equal(copy, data);
    }
}
