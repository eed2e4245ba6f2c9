using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// The at-rest format of one vTPM: <c>"TSVTPMS1" ‖ version(u16) ‖ VM UUID (16, big-endian) ‖
/// nonce(12) ‖ AES-256-GCM(engine state image) ‖ tag(16)</c>. The header (magic, version, UUID)
/// is the associated data, so a file moved to another VM's name, or edited, does not open.
/// </summary>
internal static class VTpmStateCodec
{
    private static readonly byte[] s_magic = "TSVTPMS1"u8.ToArray();
    private const ushort Version = 1;
    private const int HeaderSize = 8 + 2 + 16;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public static byte[] Encrypt(ReadOnlySpan<byte> key, Guid vmId, ReadOnlySpan<byte> image, IRandomSource random)
    {
        var blob = new byte[HeaderSize + NonceSize + image.Length + TagSize];
        WriteHeader(blob, vmId);
        var nonce = blob.AsSpan(HeaderSize, NonceSize);
        random.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, image, blob.AsSpan(HeaderSize + NonceSize, image.Length), blob.AsSpan(blob.Length - TagSize), blob.AsSpan(0, HeaderSize));
        return blob;
    }

    /// <summary>Decrypts a blob; the caller zeroes the result.</summary>
    /// <exception cref="VTpmStateException">Not a vTPM state file, of another VM, or tampered.</exception>
    public static byte[] Decrypt(ReadOnlySpan<byte> key, Guid vmId, ReadOnlySpan<byte> blob, string source)
    {
        if (blob.Length < HeaderSize + NonceSize + TagSize || !blob[..8].SequenceEqual(s_magic))
        {
            throw new VTpmStateException(source, "not a TrustStack vTPM state file (bad magic or truncated)");
        }

        Span<byte> expected = stackalloc byte[HeaderSize];
        WriteHeader(expected, vmId);
        if (!blob[..HeaderSize].SequenceEqual(expected))
        {
            var version = (ushort)((blob[8] << 8) | blob[9]);
            throw new VTpmStateException(source, version != Version
                ? $"version {version} is not supported (expected {Version})"
                : $"it belongs to VM {new Guid(blob.Slice(10, 16), bigEndian: true)}, not {vmId}");
        }

        var image = new byte[blob.Length - HeaderSize - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(blob.Slice(HeaderSize, NonceSize), blob.Slice(HeaderSize + NonceSize, image.Length), blob[^TagSize..], image, blob[..HeaderSize]);
            return image;
        }
        catch (AuthenticationTagMismatchException e)
        {
            CryptographicOperations.ZeroMemory(image);
            throw new VTpmStateException(source, "authentication failed (the file was altered, or sealed under another state key)", e);
        }
    }

    private static void WriteHeader(Span<byte> destination, Guid vmId)
    {
        s_magic.CopyTo(destination);
        destination[8] = 0;
        destination[9] = (byte)Version;
        vmId.TryWriteBytes(destination.Slice(10, 16), bigEndian: true, out _);
    }
}
