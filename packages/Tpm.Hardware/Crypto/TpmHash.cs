using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>The hash algorithms the engine implements (SHA-1, SHA-256, SHA-384, SHA-512) by TPM_ALG_ID.</summary>
public static class TpmHash
{
    /// <summary>True if <paramref name="alg"/> is a hash algorithm TrustStack implements.</summary>
    public static bool IsSupported(TpmAlgId alg) => alg is TpmAlgId.Sha1 or TpmAlgId.Sha256 or TpmAlgId.Sha384 or TpmAlgId.Sha512;

    /// <summary>Digest size in octets.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a supported hash.</exception>
    public static int DigestSize(TpmAlgId alg) => alg switch
    {
        TpmAlgId.Sha1 => 20,
        TpmAlgId.Sha256 => 32,
        TpmAlgId.Sha384 => 48,
        TpmAlgId.Sha512 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(alg), alg, "Not a supported hash algorithm."),
    };

    /// <summary>The .NET name of the hash.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a supported hash.</exception>
    public static HashAlgorithmName Name(TpmAlgId alg) => alg switch
    {
        TpmAlgId.Sha1 => HashAlgorithmName.SHA1,
        TpmAlgId.Sha256 => HashAlgorithmName.SHA256,
        TpmAlgId.Sha384 => HashAlgorithmName.SHA384,
        TpmAlgId.Sha512 => HashAlgorithmName.SHA512,
        _ => throw new ArgumentOutOfRangeException(nameof(alg), alg, "Not a supported hash algorithm."),
    };

    /// <summary>H(data).</summary>
    public static byte[] Hash(TpmAlgId alg, ReadOnlySpan<byte> data) => alg switch
    {
        TpmAlgId.Sha1 => SHA1.HashData(data),
        TpmAlgId.Sha256 => SHA256.HashData(data),
        TpmAlgId.Sha384 => SHA384.HashData(data),
        TpmAlgId.Sha512 => SHA512.HashData(data),
        _ => throw new ArgumentOutOfRangeException(nameof(alg), alg, "Not a supported hash algorithm."),
    };

    /// <summary>H(a ‖ b ‖ ...).</summary>
    public static byte[] Hash(TpmAlgId alg, params ReadOnlySpan<byte[]> parts)
    {
        using var h = IncrementalHash.CreateHash(Name(alg));
        foreach (var part in parts)
        {
            h.AppendData(part);
        }

        return h.GetHashAndReset();
    }

    /// <summary>HMAC(key, a ‖ b ‖ ...).</summary>
    public static byte[] Hmac(TpmAlgId alg, ReadOnlySpan<byte> key, params ReadOnlySpan<byte[]> parts)
    {
        using var h = IncrementalHash.CreateHMAC(Name(alg), key);
        foreach (var part in parts)
        {
            h.AppendData(part);
        }

        return h.GetHashAndReset();
    }

    /// <summary>The PCR extend operation: H(old ‖ digest).</summary>
    public static byte[] Extend(TpmAlgId alg, ReadOnlySpan<byte> oldValue, ReadOnlySpan<byte> digest)
    {
        Span<byte> buffer = stackalloc byte[oldValue.Length + digest.Length];
        oldValue.CopyTo(buffer);
        digest.CopyTo(buffer[oldValue.Length..]);
        return Hash(alg, buffer);
    }
}
