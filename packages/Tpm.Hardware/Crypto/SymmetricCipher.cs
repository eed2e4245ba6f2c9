using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// The symmetric transforms a TPM applies to its own structures: AES in CFB mode with a 128-bit
/// feedback register (TPM 2.0 Part 1 §11.4.6.2; data need not be block aligned, the last partial
/// block is XORed with a truncated key stream) and XOR obfuscation (Part 1 §11.4.6.3).
/// </summary>
internal static class SymmetricCipher
{
    private const int BlockSize = 16;

    private static ReadOnlySpan<byte> XorLabel => "XOR\0"u8;

    /// <summary>AES-CFB encryption into a new array.</summary>
    public static byte[] CfbEncrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> plaintext)
    {
        var result = plaintext.ToArray();
        CfbEncryptInPlace(key, iv, result);
        return result;
    }

    /// <summary>AES-CFB decryption into a new array.</summary>
    public static byte[] CfbDecrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> ciphertext)
    {
        var result = ciphertext.ToArray();
        CfbDecryptInPlace(key, iv, result);
        return result;
    }

    /// <summary>AES-CFB encryption of <paramref name="data"/> in place.</summary>
    /// <exception cref="ArgumentException">The key is not 16, 24 or 32 octets or the IV not 16.</exception>
    public static void CfbEncryptInPlace(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, Span<byte> data) => Cfb(key, iv, data, encrypt: true);

    /// <summary>AES-CFB decryption of <paramref name="data"/> in place.</summary>
    /// <exception cref="ArgumentException">The key is not 16, 24 or 32 octets or the IV not 16.</exception>
    public static void CfbDecryptInPlace(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, Span<byte> data) => Cfb(key, iv, data, encrypt: false);

    /// <summary>
    /// XOR obfuscation in place: data ^= KDFa(hash, key, "XOR", contextU, contextV, 8 * data.Length)
    /// (Part 1 §11.4.6.3; for parameter encryption contextU = nonceNewer, contextV = nonceOlder).
    /// </summary>
    public static void XorInPlace(TpmAlgId hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> contextU, ReadOnlySpan<byte> contextV, Span<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        var mask = data.Length <= 1024 ? stackalloc byte[data.Length] : new byte[data.Length];
        TpmKdf.KdfA(hash, key, XorLabel, contextU, contextV, checked(data.Length * 8), mask);
        for (var i = 0; i < data.Length; i++)
        {
            data[i] ^= mask[i];
        }

        CryptographicOperations.ZeroMemory(mask);
    }

    /// <summary>XOR obfuscation into a new array.</summary>
    public static byte[] Xor(TpmAlgId hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> contextU, ReadOnlySpan<byte> contextV, ReadOnlySpan<byte> data)
    {
        var result = data.ToArray();
        XorInPlace(hash, key, contextU, contextV, result);
        return result;
    }

    private static void Cfb(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, Span<byte> data, bool encrypt)
    {
        if (key.Length is not (16 or 24 or 32))
        {
            throw new ArgumentException($"An AES key has 16, 24 or 32 octets, not {key.Length}.", nameof(key));
        }

        if (iv.Length != BlockSize)
        {
            throw new ArgumentException($"The CFB IV has 16 octets, not {iv.Length}.", nameof(iv));
        }

        if (data.IsEmpty)
        {
            return;
        }

        using var aes = Aes.Create();
        aes.SetKey(key);
        var full = data.Length - (data.Length % BlockSize);
        Span<byte> register = stackalloc byte[BlockSize];
        if (full == 0)
        {
            iv.CopyTo(register);
        }
        else if (encrypt)
        {
            aes.EncryptCfb(data[..full], iv, data[..full], PaddingMode.None, 128);
            data.Slice(full - BlockSize, BlockSize).CopyTo(register);
        }
        else
        {
            // The next feedback is the last full ciphertext block: keep it before decrypting over it.
            data.Slice(full - BlockSize, BlockSize).CopyTo(register);
            aes.DecryptCfb(data[..full], iv, data[..full], PaddingMode.None, 128);
        }

        var tail = data[full..];
        if (!tail.IsEmpty)
        {
            // CFB's last, partial block: ciphertext = plaintext ^ leftmost(E(register)).
            Span<byte> stream = stackalloc byte[BlockSize];
            aes.EncryptEcb(register, stream, PaddingMode.None);
            for (var i = 0; i < tail.Length; i++)
            {
                tail[i] ^= stream[i];
            }

            CryptographicOperations.ZeroMemory(stream);
        }
    }
}
