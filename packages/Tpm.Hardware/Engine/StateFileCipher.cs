using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// The encrypted form of an engine's state file: <c>"TSTPMSE1" ‖ version (u16, 1) ‖ key id (8) ‖
/// nonce (12) ‖ AES-256-GCM(state image) ‖ tag (16)</c>. The header — magic, version and key id —
/// is the associated data, so an edited header does not open either; the key id (see
/// <see cref="TpmStateKey.KeyId"/>) tells a wrong key apart from an altered file. The plaintext is
/// the ordinary state image (<c>TSTPMST1</c>, with its own SHA-256), as in VTpm.Core's vTPM files.
/// </summary>
internal static class StateFileCipher
{
    public const int HeaderSize = 8 + 2 + KeyIdSize;
    private const ushort Version = 1;
    private const int KeyIdSize = 8;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] s_magic = "TSTPMSE1"u8.ToArray();

    /// <summary>True when <paramref name="file"/> starts with the encrypted form's magic.</summary>
    public static bool IsEncrypted(ReadOnlySpan<byte> file) => file.StartsWith(s_magic);

    /// <summary>Encrypts a state image under <paramref name="key"/>.</summary>
    public static byte[] Encrypt(ITpmSecret key, ReadOnlySpan<byte> keyId, ReadOnlySpan<byte> image)
    {
        var blob = new byte[HeaderSize + NonceSize + image.Length + TagSize];
        WriteHeader(blob, keyId);
        var nonce = blob.AsSpan(HeaderSize, NonceSize);

        // From the OS CSPRNG, not the engine's randomness source: a seeded engine would repeat
        // the same nonces on every run under the same key, and GCM with a repeated nonce leaks
        // the XOR of two states and lets tags be forged. (It also keeps the engine's random
        // stream, and so deterministic transcripts, the same with and without encryption.)
        RandomNumberGenerator.Fill(nonce);
        var k = key.Reveal();
        try
        {
            using var aes = new AesGcm(k, TagSize);
            aes.Encrypt(nonce, image, blob.AsSpan(HeaderSize + NonceSize, image.Length), blob.AsSpan(blob.Length - TagSize), blob.AsSpan(0, HeaderSize));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(k);
        }

        return blob;
    }

    /// <summary>Decrypts an encrypted state file; the caller zeroes the result.</summary>
    /// <exception cref="TpmStateException">Truncated, of another version, under another key, or altered.</exception>
    public static byte[] Decrypt(ITpmSecret key, ReadOnlySpan<byte> keyId, ReadOnlySpan<byte> blob, string source)
    {
        if (blob.Length < HeaderSize + NonceSize + TagSize || !IsEncrypted(blob))
        {
            throw new TpmStateException(source, "the encrypted state file is truncated");
        }

        var version = BinaryPrimitives.ReadUInt16BigEndian(blob[8..]);
        if (version != Version)
        {
            throw new TpmStateException(source, $"encrypted state format version {version} is not supported (expected {Version})");
        }

        var fileKeyId = blob.Slice(10, KeyIdSize);
        if (!CryptographicOperations.FixedTimeEquals(fileKeyId, keyId))
        {
            throw new TpmStateException(source, $"it is encrypted under another key (key id {Convert.ToHexStringLower(fileKeyId)}; the key given has id {Convert.ToHexStringLower(keyId)})");
        }

        var image = new byte[blob.Length - HeaderSize - NonceSize - TagSize];
        var k = key.Reveal();
        try
        {
            using var aes = new AesGcm(k, TagSize);
            aes.Decrypt(blob.Slice(HeaderSize, NonceSize), blob.Slice(HeaderSize + NonceSize, image.Length), blob[^TagSize..], image, blob[..HeaderSize]);
            return image;
        }
        catch (AuthenticationTagMismatchException e)
        {
            CryptographicOperations.ZeroMemory(image);
            throw new TpmStateException(source, "authentication failed: the encrypted state file was altered or truncated (AES-256-GCM tag mismatch)", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(k);
        }
    }

    private static void WriteHeader(Span<byte> destination, ReadOnlySpan<byte> keyId)
    {
        s_magic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], Version);
        keyId.CopyTo(destination[10..]);
    }
}
