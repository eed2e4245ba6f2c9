using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Protected storage (TPM 2.0 Part 1 §23): the outer wrap of an object's sensitive area under its
/// parent, and the same primitive with an explicit seed (credential protection, duplication).
/// Wrap = TPM2B(outerHMAC) ‖ CFB(symKey, IV = 0, plaintext) with
/// symKey = KDFa(hash, seed, "STORAGE", name, "", keyBits),
/// hmacKey = KDFa(hash, seed, "INTEGRITY", "", "", digestBits),
/// outerHMAC = HMAC_hash(hmacKey, encrypted ‖ name).
/// </summary>
internal static class ObjectProtection
{
    private static ReadOnlySpan<byte> StorageLabel => "STORAGE\0"u8;

    private static ReadOnlySpan<byte> IntegrityLabel => "INTEGRITY\0"u8;

    /// <summary>
    /// The content of a TPM2B_PRIVATE for <paramref name="sensitive"/> under a parent with nameAlg
    /// <paramref name="parentNameAlg"/>, seedValue <paramref name="parentSeed"/> and symmetric
    /// definition <paramref name="parentSymmetric"/>.
    /// </summary>
    public static byte[] Wrap(TpmAlgId parentNameAlg, ReadOnlySpan<byte> parentSeed, TpmtSymDef parentSymmetric, ReadOnlySpan<byte> objectName, TpmtSensitive sensitive)
    {
        ArgumentNullException.ThrowIfNull(sensitive);
        var plaintext = MarshalSensitiveSized(sensitive);
        try
        {
            return ProduceOuterWrap(parentNameAlg, parentSeed, parentSymmetric, objectName, plaintext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Reverses <see cref="Wrap"/>.</summary>
    /// <exception cref="TpmException">TPM_RC_INTEGRITY (HMAC mismatch), TPM_RC_SENSITIVE (the decrypted area does not unmarshal), TPM_RC_INSUFFICIENT (truncated blob).</exception>
    public static TpmtSensitive Unwrap(TpmAlgId parentNameAlg, ReadOnlySpan<byte> parentSeed, TpmtSymDef parentSymmetric, ReadOnlySpan<byte> objectName, ReadOnlySpan<byte> privateBlob)
    {
        var plaintext = UnwrapOuter(parentNameAlg, parentSeed, parentSymmetric, objectName, privateBlob);
        try
        {
            try
            {
                var reader = new TpmReader(plaintext);
                var inner = reader.ReadSized16();
                reader.EnsureConsumed();
                var result = TpmtSensitive.Unmarshal(ref inner);
                inner.EnsureConsumed();
                return result;
            }
            catch (TpmException e)
            {
                throw new TpmException(TpmRc.Sensitive, "the decrypted sensitive area does not unmarshal", e);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>
    /// The outer wrap of <paramref name="plaintext"/> (already a TPM2B) with an explicit seed:
    /// TPM2B(HMAC) ‖ CFB(symKey, 0, plaintext).
    /// </summary>
    /// <exception cref="TpmException">TPM_RC_SYMMETRIC: the symmetric definition is not AES.</exception>
    public static byte[] ProduceOuterWrap(TpmAlgId hash, ReadOnlySpan<byte> seed, TpmtSymDef symmetric, ReadOnlySpan<byte> name, ReadOnlySpan<byte> plaintext)
    {
        ArgumentNullException.ThrowIfNull(symmetric);
        var digestSize = TpmHash.DigestSize(hash);
        var result = new byte[2 + digestSize + plaintext.Length];
        var encrypted = result.AsSpan(2 + digestSize);
        plaintext.CopyTo(encrypted);
        Encrypt(hash, seed, symmetric, name, encrypted, encrypt: true);
        BinaryPrimitives.WriteUInt16BigEndian(result, (ushort)digestSize);
        ComputeHmac(hash, seed, encrypted, name, result.AsSpan(2, digestSize));
        return result;
    }

    /// <summary>Checks and removes the outer wrap, returning the plaintext (a TPM2B).</summary>
    /// <exception cref="TpmException">TPM_RC_INTEGRITY (HMAC mismatch or wrong size), TPM_RC_INSUFFICIENT (truncated blob), TPM_RC_SYMMETRIC.</exception>
    public static byte[] UnwrapOuter(TpmAlgId hash, ReadOnlySpan<byte> seed, TpmtSymDef symmetric, ReadOnlySpan<byte> name, ReadOnlySpan<byte> blob)
    {
        ArgumentNullException.ThrowIfNull(symmetric);
        var digestSize = TpmHash.DigestSize(hash);
        if (blob.Length < 2)
        {
            throw new TpmException(TpmRc.Insufficient, "the protected blob has no integrity field");
        }

        var integritySize = BinaryPrimitives.ReadUInt16BigEndian(blob);
        if (blob.Length < 2 + integritySize)
        {
            throw new TpmException(TpmRc.Insufficient, "the protected blob is shorter than its integrity field");
        }

        if (integritySize != digestSize)
        {
            throw new TpmException(TpmRc.Integrity, $"integrity value of {integritySize} octets, expected {digestSize}");
        }

        var integrity = blob.Slice(2, digestSize);
        var encrypted = blob[(2 + digestSize)..];
        Span<byte> expected = stackalloc byte[64];
        expected = expected[..digestSize];
        ComputeHmac(hash, seed, encrypted, name, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, integrity))
        {
            throw new TpmException(TpmRc.Integrity, "the integrity HMAC does not match");
        }

        var plaintext = encrypted.ToArray();
        Encrypt(hash, seed, symmetric, name, plaintext, encrypt: false);
        return plaintext;
    }

    /// <summary>TPM2B_SENSITIVE: UINT16 size ‖ TPMT_SENSITIVE, in an array the caller zeroes.</summary>
    internal static byte[] MarshalSensitiveSized(TpmtSensitive sensitive)
    {
        ArgumentNullException.ThrowIfNull(sensitive);
        var inner = 2 + (2 + sensitive.AuthValue.Length) + (2 + sensitive.SeedValue.Length) + (2 + sensitive.Sensitive.Length);
        var bytes = new byte[2 + inner];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(span, checked((ushort)inner));
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)sensitive.SensitiveType);
        var offset = 4;
        foreach (var part in new[] { sensitive.AuthValue, sensitive.SeedValue, sensitive.Sensitive })
        {
            BinaryPrimitives.WriteUInt16BigEndian(span[offset..], checked((ushort)part.Length));
            part.CopyTo(span[(offset + 2)..]);
            offset += 2 + part.Length;
        }

        return bytes;
    }

    private static void Encrypt(TpmAlgId hash, ReadOnlySpan<byte> seed, TpmtSymDef symmetric, ReadOnlySpan<byte> name, Span<byte> data, bool encrypt)
    {
        if (symmetric.Algorithm != TpmAlgId.Aes || symmetric.KeyBits is not (128 or 192 or 256))
        {
            throw new TpmException(TpmRc.Symmetric, $"protection needs AES, not {symmetric.Algorithm}/{symmetric.KeyBits}");
        }

        Span<byte> key = stackalloc byte[symmetric.KeyBits / 8];
        TpmKdf.KdfA(hash, seed, StorageLabel, name, default, symmetric.KeyBits, key);
        Span<byte> iv = stackalloc byte[16];
        iv.Clear();
        if (encrypt)
        {
            SymmetricCipher.CfbEncryptInPlace(key, iv, data);
        }
        else
        {
            SymmetricCipher.CfbDecryptInPlace(key, iv, data);
        }

        CryptographicOperations.ZeroMemory(key);
    }

    private static void ComputeHmac(TpmAlgId hash, ReadOnlySpan<byte> seed, ReadOnlySpan<byte> encrypted, ReadOnlySpan<byte> name, Span<byte> destination)
    {
        var digestSize = TpmHash.DigestSize(hash);
        Span<byte> hmacKey = stackalloc byte[digestSize];
        TpmKdf.KdfA(hash, seed, IntegrityLabel, default, default, digestSize * 8, hmacKey);
        using var hmac = IncrementalHash.CreateHMAC(TpmHash.Name(hash), hmacKey);
        hmac.AppendData(encrypted);
        hmac.AppendData(name);
        hmac.GetHashAndReset(destination);
        CryptographicOperations.ZeroMemory(hmacKey);
    }
}
