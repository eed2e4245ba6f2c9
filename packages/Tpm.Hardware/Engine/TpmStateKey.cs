using System.Security.Cryptography;
using System.Text;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// The 256-bit key that encrypts an engine's state file at rest (AES-256-GCM; see
/// <see cref="SoftwareTpmOptions.StateEncryptionKey"/>), in a pinned array zeroed on dispose.
/// A key file holds the 32 octets raw, or as 64 hexadecimal digits (what
/// <c>openssl rand -hex 32</c> writes), like swtpm's <c>--key file=...,format=binary|hex</c>.
/// </summary>
public sealed class TpmStateKey : IDisposable
{
    /// <summary>Octets in a key.</summary>
    public const int Size = 32;

    private const int KeyIdSize = 8;
    private readonly byte[] _key;
    private bool _disposed;

    private TpmStateKey(ReadOnlySpan<byte> key)
    {
        _key = GC.AllocateUninitializedArray<byte>(Size, pinned: true);
        key.CopyTo(_key);
        KeyId = ComputeKeyId(_key);
    }

    /// <summary>
    /// A public fingerprint of the key (the first 8 octets of HMAC-SHA256(key, "TrustStack TPM
    /// state key id")), stored in the encrypted file so that a wrong key is told apart from a
    /// tampered file. It reveals nothing usable about the key.
    /// </summary>
    public ReadOnlyMemory<byte> KeyId { get; }

    /// <summary>A key from 32 octets (copied).</summary>
    /// <exception cref="ArgumentException">Not 32 octets.</exception>
    public static TpmStateKey FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != Size)
        {
            throw new ArgumentException($"A state key is {Size} octets, not {key.Length}.", nameof(key));
        }

        return new TpmStateKey(key);
    }

    /// <summary>A new random key from the OS CSPRNG.</summary>
    public static TpmStateKey Generate()
    {
        Span<byte> key = stackalloc byte[Size];
        RandomNumberGenerator.Fill(key);
        try
        {
            return new TpmStateKey(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Reads a key file: 32 raw octets, or 64 hexadecimal digits (surrounding white space allowed).</summary>
    /// <param name="path">The key file; keep it owner-only (0600) and away from the state folder.</param>
    /// <exception cref="FormatException">The file holds neither form.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">This user may not read it.</exception>
    public static TpmStateKey FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var bytes = File.ReadAllBytes(path);
        try
        {
            if (bytes.Length == Size)
            {
                return new TpmStateKey(bytes);
            }

            // Hex: at most a few octets of white space around 64 digits.
            if (bytes.Length <= 2 * Size + 8)
            {
                var text = Encoding.ASCII.GetString(bytes).Trim();
                Span<byte> key = stackalloc byte[Size];
                try
                {
                    if (text.Length == 2 * Size && Convert.FromHexString(text, key, out _, out var written) == System.Buffers.OperationStatus.Done && written == Size)
                    {
                        return new TpmStateKey(key);
                    }
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(key);
                }
            }

            throw new FormatException($"State key file '{path}' holds {bytes.Length} octets: a key file holds {Size} raw octets or {2 * Size} hexadecimal digits (make one with: openssl rand -hex 32 > FILE; chmod 600 FILE).");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Copies the key out for one use; the caller zeroes <paramref name="destination"/> afterwards.</summary>
    /// <exception cref="ObjectDisposedException">The key is disposed.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not 32 octets.</exception>
    public void CopyTo(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.Length != Size)
        {
            throw new ArgumentException($"The destination must be {Size} octets.", nameof(destination));
        }

        _key.CopyTo(destination);
    }

    /// <summary>Zeroes the key.</summary>
    public void Dispose()
    {
        _disposed = true;
        CryptographicOperations.ZeroMemory(_key);
    }

    /// <summary>The key id only, never the key.</summary>
    public override string ToString() => $"TPM state key (id {Convert.ToHexStringLower(KeyId.Span)})";

    /// <summary>The key id of <paramref name="key"/>.</summary>
    internal static byte[] ComputeKeyId(ReadOnlySpan<byte> key) =>
        HMACSHA256.HashData(key, "TrustStack TPM state key id"u8)[..KeyIdSize];
}
