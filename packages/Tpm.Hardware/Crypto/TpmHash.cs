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
    public static byte[] Hash(TpmAlgId alg, ReadOnlySpan<byte> data)
    {
        var digest = new byte[DigestSize(alg)];
        HashData(alg, data, digest);
        return digest;
    }

    /// <summary>H(data) into <paramref name="destination"/> (at least the digest size); returns the digest size.</summary>
    internal static int HashData(TpmAlgId alg, ReadOnlySpan<byte> data, Span<byte> destination) => alg switch
    {
        TpmAlgId.Sha1 => SHA1.HashData(data, destination),
        TpmAlgId.Sha256 => SHA256.HashData(data, destination),
        TpmAlgId.Sha384 => SHA384.HashData(data, destination),
        TpmAlgId.Sha512 => SHA512.HashData(data, destination),
        _ => throw new ArgumentOutOfRangeException(nameof(alg), alg, "Not a supported hash algorithm."),
    };

    /// <summary>A Name (TPM 2.0 Part 1 §16): nameAlg ‖ H_nameAlg(first ‖ second); a qualified name hashes parentQN ‖ Name.</summary>
    internal static byte[] NameOf(TpmAlgId nameAlg, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second = default)
    {
        var name = new byte[2 + DigestSize(nameAlg)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(name, (ushort)nameAlg);
        if (second.IsEmpty)
        {
            HashData(nameAlg, first, name.AsSpan(2));
        }
        else
        {
            using var h = IncrementalHash.CreateHash(Name(nameAlg));
            h.AppendData(first);
            h.AppendData(second);
            h.GetHashAndReset(name.AsSpan(2));
        }

        return name;
    }

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
