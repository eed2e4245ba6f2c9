using System.Security.Cryptography;
using FsCheck;
using FsCheck.Xunit;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

public sealed class TpmSignatureVerifierTests
{
    private static readonly byte[] Message = "TPMS_ATTEST stand-in"u8.ToArray();
    private static readonly RSA Rsa = RSA.Create(2048);
    private static readonly ECDsa P256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly ECDsa P384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);

    private static TpmtPublic RsaKey => TpmPublicKeys.FromRsa(Rsa);

    [Fact]
    public void Verify_Rsassa_IsValid()
    {
        var digest = SHA256.HashData(Message);
        var signature = TpmtSignature.Rsa(TpmAlgId.Rsassa, TpmAlgId.Sha256, Rsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        Assert.True(TpmSignatureVerifier.Verify(RsaKey, digest, signature));
    }

    [Fact]
    public void Verify_RsassaOverOtherDigest_IsInvalid()
    {
        var signature = TpmtSignature.Rsa(TpmAlgId.Rsassa, TpmAlgId.Sha256, Rsa.SignData(Message, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        Assert.False(TpmSignatureVerifier.Verify(RsaKey, SHA256.HashData("other"u8), signature));
    }

    [Fact]
    public void Verify_RsapssSaltEqualsDigestSize_IsValid()
    {
        var digest = SHA256.HashData(Message);
        var signature = TpmtSignature.Rsa(TpmAlgId.Rsapss, TpmAlgId.Sha256, Rsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pss));

        Assert.True(TpmSignatureVerifier.Verify(RsaKey, digest, signature));
    }

    [Fact]
    public void Verify_RsapssMaximumSalt_IsValid()
    {
        // Older TPMs use the largest salt that fits: emLen - hLen - 2 = 256 - 32 - 2 octets.
        var digest = SHA256.HashData(Message);
        var signature = TpmtSignature.Rsa(TpmAlgId.Rsapss, TpmAlgId.Sha256, SignPss(digest, 256 - 32 - 2));

        Assert.True(TpmSignatureVerifier.Verify(RsaKey, digest, signature));
    }

    [Fact]
    public void Check_RsapssOtherSaltLength_IsInvalidAndSaysWhichSaltsWereTried()
    {
        var digest = SHA256.HashData(Message);
        var signature = TpmtSignature.Rsa(TpmAlgId.Rsapss, TpmAlgId.Sha256, SignPss(digest, 10));

        var result = TpmSignatureVerifier.Check(RsaKey, digest, signature);

        Assert.False(result.IsValid);
        Assert.Contains("salt", result.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_RsaSignatureOfWrongLength_IsInvalid()
    {
        var digest = SHA256.HashData(Message);
        var signature = TpmtSignature.Rsa(TpmAlgId.Rsassa, TpmAlgId.Sha256, Rsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)[1..]);

        Assert.False(TpmSignatureVerifier.Check(RsaKey, digest, signature).IsValid);
    }

    [Theory]
    [InlineData(TpmAlgId.Sha1)]
    [InlineData(TpmAlgId.Sha256)]
    [InlineData(TpmAlgId.Sha384)]
    public void VerifyMessage_EcdsaP256_HashesWithTheSignatureHash(TpmAlgId hash)
    {
        var signature = EcdsaSignature(P256, TpmHash.Hash(hash, Message), hash);

        Assert.True(TpmSignatureVerifier.VerifyMessage(TpmPublicKeys.FromECDsa(P256), Message, signature));
        Assert.False(TpmSignatureVerifier.VerifyMessage(TpmPublicKeys.FromECDsa(P256), [.. Message, 0], signature));
    }

    [Fact]
    public void Verify_EcdsaP384_IsValid()
    {
        var digest = SHA384.HashData(Message);

        Assert.True(TpmSignatureVerifier.Verify(TpmPublicKeys.FromECDsa(P384), digest, EcdsaSignature(P384, digest, TpmAlgId.Sha384)));
    }

    [Fact]
    public void Verify_EcdsaWithRAndSStrippedOrZeroPrefixed_IsValid()
    {
        // r and s are big-endian integers: a TPM may send them shorter, a tool with a sign octet.
        var digest = SHA256.HashData(Message);
        var signature = EcdsaSignature(P256, digest, TpmAlgId.Sha256);
        var key = TpmPublicKeys.FromECDsa(P256);

        var prefixed = signature with { SignatureR = [0, .. signature.SignatureR], SignatureS = [0, .. signature.SignatureS] };
        var stripped = signature with { SignatureR = signature.SignatureR.SkipWhile(b => b == 0).ToArray() };

        Assert.True(TpmSignatureVerifier.Verify(key, digest, prefixed));
        Assert.True(TpmSignatureVerifier.Verify(key, digest, stripped));
    }

    [Fact]
    public void Check_EcdsaWithRsaKey_IsInvalidWithReason()
    {
        var digest = SHA256.HashData(Message);

        var result = TpmSignatureVerifier.Check(RsaKey, digest, EcdsaSignature(P256, digest, TpmAlgId.Sha256));

        Assert.False(result.IsValid);
        Assert.Contains("ECC key", result.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_Hmac_IsInvalidBecauseTheKeyIsSecret()
    {
        var digest = SHA256.HashData(Message);
        var hmac = new TpmtSignature(TpmAlgId.Hmac, TpmAlgId.Sha256, HMACSHA256.HashData(new byte[32], Message), [], []);

        var result = TpmSignatureVerifier.Check(RsaKey, digest, hmac);

        Assert.False(result.IsValid);
        Assert.Contains("secret key", result.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_DigestOfWrongSize_IsInvalid()
    {
        var digest = SHA256.HashData(Message);
        var signature = EcdsaSignature(P256, digest, TpmAlgId.Sha256);

        var result = TpmSignatureVerifier.Check(TpmPublicKeys.FromECDsa(P256), digest[..20], signature);

        Assert.False(result.IsValid);
        Assert.Contains("20 octets", result.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_Ecdaa_IsUnsupported()
    {
        var digest = SHA256.HashData(Message);
        var signature = EcdsaSignature(P256, digest, TpmAlgId.Sha256) with { SigAlg = TpmAlgId.Ecdaa };

        Assert.Contains("not supported", TpmSignatureVerifier.Check(TpmPublicKeys.FromECDsa(P256), digest, signature).FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseSignature_TssForm_RoundTrips()
    {
        var signature = EcdsaSignature(P256, SHA256.HashData(Message), TpmAlgId.Sha256);

        var parsed = TpmSignatureVerifier.ParseSignature(signature.ToBytes(), TpmPublicKeys.FromECDsa(P256), TpmAlgId.Sha1);

        Assert.Equal(signature.ToBytes(), parsed.ToBytes());
    }

    [Fact]
    public void ParseSignature_PlainDerEcdsa_TakesTheGivenHash()
    {
        var digest = SHA384.HashData(Message);
        var der = P256.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);

        var parsed = TpmSignatureVerifier.ParseSignature(der, TpmPublicKeys.FromECDsa(P256), TpmAlgId.Sha384);

        Assert.Equal(TpmAlgId.Ecdsa, parsed.SigAlg);
        Assert.Equal(TpmAlgId.Sha384, parsed.Hash);
        Assert.True(TpmSignatureVerifier.Verify(TpmPublicKeys.FromECDsa(P256), digest, parsed));
    }

    [Fact]
    public void ParseSignature_PlainRsa_UsesTheKeyScheme()
    {
        var digest = SHA256.HashData(Message);
        var raw = Rsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
        var pssKey = TpmPublicKeys.FromRsa(Rsa, scheme: new TpmtScheme(TpmAlgId.Rsapss, TpmAlgId.Sha256));

        var parsed = TpmSignatureVerifier.ParseSignature(raw, pssKey, TpmAlgId.Sha256);
        var parsedNullScheme = TpmSignatureVerifier.ParseSignature(raw, RsaKey, TpmAlgId.Sha256);

        Assert.Equal(TpmAlgId.Rsapss, parsed.SigAlg);
        Assert.True(TpmSignatureVerifier.Verify(pssKey, digest, parsed));
        Assert.Equal(TpmAlgId.Rsassa, parsedNullScheme.SigAlg);
    }

    [Fact]
    public void ParseSignature_GarbageForEccKey_ThrowsFormatException()
    {
        Assert.Throws<FormatException>(() => TpmSignatureVerifier.ParseSignature([0x30, 0x03, 0x02, 0x01], TpmPublicKeys.FromECDsa(P256), TpmAlgId.Sha256));
    }

    [Fact]
    public void ParseSignature_WrongLengthForRsaKey_ThrowsFormatException()
    {
        Assert.Throws<FormatException>(() => TpmSignatureVerifier.ParseSignature(new byte[100], RsaKey, TpmAlgId.Sha256));
    }

    [Property(MaxTest = 200)]
    public bool Check_AnyFlippedBitInEcdsaSignature_IsInvalidAndDoesNotThrow(NonNegativeInt position, byte mask)
    {
        var digest = SHA256.HashData(Message);
        var signature = EcdsaSignature(P256, digest, TpmAlgId.Sha256);
        var bytes = signature.ToBytes();
        var at = 6 + (position.Get % (bytes.Length - 6)); // past SigAlg, Hash and the size of r
        var flip = mask == 0 ? (byte)1 : mask;
        bytes[at] ^= flip;
        if (at == 6 + signature.SignatureR.Length || at == 7 + signature.SignatureR.Length)
        {
            return true; // the size of s: no longer a TPMT_SIGNATURE, nothing to verify
        }

        var reader = new TpmReader(bytes);
        var tampered = TpmtSignature.Unmarshal(ref reader);
        return !TpmSignatureVerifier.Check(TpmPublicKeys.FromECDsa(P256), digest, tampered).IsValid;
    }

    [Property(MaxTest = 100)]
    public void ParseSignature_AnyOctets_ReturnsOrThrowsFormatException(byte[] bytes)
    {
        foreach (var key in new[] { TpmPublicKeys.FromECDsa(P256), RsaKey })
        {
            try
            {
                var parsed = TpmSignatureVerifier.ParseSignature(bytes, key, TpmAlgId.Sha256);
                Assert.False(TpmSignatureVerifier.Verify(key, SHA256.HashData(Message), parsed));
            }
            catch (FormatException)
            {
                // The one typed error.
            }
        }
    }

    [Fact]
    public void Verify_EcdsaKeysBeyondTheKeyCacheCapacity_EachVerifiesOnlyItsOwnSignatures()
    {
        // The imported-key cache is keyed by curve and point: a cached key never verifies another key's
        // signature, and overflowing the cache (which empties it) changes no answer.
        var digest = SHA256.HashData(Message);
        var keys = Enumerable.Range(0, EcdsaKeyCache.Capacity + 2).Select(_ => ECDsa.Create(ECCurve.NamedCurves.nistP256)).ToArray();
        try
        {
            var signatures = keys.Select(k => EcdsaSignature(k, digest, TpmAlgId.Sha256)).ToArray();
            for (var round = 0; round < 2; round++)
            {
                for (var i = 0; i < keys.Length; i++)
                {
                    var key = TpmPublicKeys.FromECDsa(keys[i]);
                    Assert.True(TpmSignatureVerifier.Verify(key, digest, signatures[i]), $"key {i} round {round}");
                    Assert.False(TpmSignatureVerifier.Verify(key, digest, signatures[(i + 1) % keys.Length]), $"key {i} with the next key's signature, round {round}");
                }
            }
        }
        finally
        {
            foreach (var k in keys)
            {
                k.Dispose();
            }
        }
    }

    private static TpmtSignature EcdsaSignature(ECDsa key, byte[] digest, TpmAlgId hash)
    {
        var ieee = key.SignHash(digest);
        var half = ieee.Length / 2;
        return TpmtSignature.Ecc(TpmAlgId.Ecdsa, hash, ieee[..half], ieee[half..]);
    }

    private static byte[] SignPss(byte[] digest, int saltLength)
    {
        var p = Rsa.ExportParameters(true);
        var key = new RsaPrivateCrtKeyParameters(
            new BigInteger(1, p.Modulus), new BigInteger(1, p.Exponent), new BigInteger(1, p.D), new BigInteger(1, p.P),
            new BigInteger(1, p.Q), new BigInteger(1, p.DP), new BigInteger(1, p.DQ), new BigInteger(1, p.InverseQ));
        var signer = PssSigner.CreateRawSigner(new RsaBlindedEngine(), new Sha256Digest(), new Sha256Digest(), saltLength, PssSigner.TrailerImplicit);
        signer.Init(true, new ParametersWithRandom(key, new SecureRandom()));
        signer.BlockUpdate(digest, 0, digest.Length);
        return signer.GenerateSignature();
    }
}
