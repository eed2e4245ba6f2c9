using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// The TPM 2.0 key derivation functions: KDFa (SP 800-108 counter mode with HMAC, TPM 2.0 Part 1
/// §11.4.10.2) and KDFe (SP 800-56A concatenation KDF, Part 1 §11.4.10.3).
/// </summary>
/// <remarks>
/// Labels are NUL-terminated on the wire: a terminating NUL is added unless the label already ends
/// in one (an empty label contributes a single NUL), as the reference implementation does. When
/// <c>bits</c> is not a multiple of 8 the result has <c>ceil(bits / 8)</c> octets and the unused
/// high-order bits of the first octet are cleared.
/// </remarks>
public static class TpmKdf
{
    private const int MaxLabelOnStack = 128;

    /// <summary>KDFa(hash, key, label, contextU, contextV, bits).</summary>
    /// <param name="hash">The HMAC hash (SHA-1, SHA-256, SHA-384, SHA-512).</param>
    /// <param name="key">The HMAC key (a seed, session key, ...).</param>
    /// <param name="label">The label, for example <c>"STORAGE"</c>; NUL-terminated on the wire.</param>
    /// <param name="contextU">First context value (may be empty).</param>
    /// <param name="contextV">Second context value (may be empty).</param>
    /// <param name="bits">Output length in bits.</param>
    /// <returns><c>ceil(bits / 8)</c> octets.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is negative or <paramref name="hash"/> is not supported.</exception>
    public static byte[] KdfA(TpmAlgId hash, ReadOnlySpan<byte> key, string label, ReadOnlySpan<byte> contextU, ReadOnlySpan<byte> contextV, int bits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bits);
        var result = new byte[(bits + 7) / 8];
        KdfA(hash, key, label, contextU, contextV, bits, result);
        return result;
    }

    /// <summary>KDFa into <paramref name="destination"/>, which must hold exactly <c>ceil(bits / 8)</c> octets.</summary>
    /// <param name="hash">The HMAC hash.</param>
    /// <param name="key">The HMAC key.</param>
    /// <param name="label">The label; NUL-terminated on the wire.</param>
    /// <param name="contextU">First context value.</param>
    /// <param name="contextV">Second context value.</param>
    /// <param name="bits">Output length in bits.</param>
    /// <param name="destination">Receives the derived octets.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is negative or <paramref name="hash"/> is not supported.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length.</exception>
    public static void KdfA(TpmAlgId hash, ReadOnlySpan<byte> key, string label, ReadOnlySpan<byte> contextU, ReadOnlySpan<byte> contextV, int bits, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(label);
        Span<byte> buffer = stackalloc byte[MaxLabelOnStack];
        KdfA(hash, key, EncodeLabel(label, buffer), contextU, contextV, bits, destination);
    }

    /// <summary>KDFe(hash, Z, label, partyUInfo, partyVInfo, bits).</summary>
    /// <param name="hash">The hash.</param>
    /// <param name="z">The shared secret (the x coordinate of an ECDH product).</param>
    /// <param name="label">The "Use" label, for example <c>"SECRET"</c>; NUL-terminated on the wire.</param>
    /// <param name="partyUInfo">PartyUInfo (the ephemeral key's x coordinate).</param>
    /// <param name="partyVInfo">PartyVInfo (the static key's x coordinate).</param>
    /// <param name="bits">Output length in bits.</param>
    /// <returns><c>ceil(bits / 8)</c> octets.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is negative or <paramref name="hash"/> is not supported.</exception>
    public static byte[] KdfE(TpmAlgId hash, ReadOnlySpan<byte> z, string label, ReadOnlySpan<byte> partyUInfo, ReadOnlySpan<byte> partyVInfo, int bits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bits);
        var result = new byte[(bits + 7) / 8];
        KdfE(hash, z, label, partyUInfo, partyVInfo, bits, result);
        return result;
    }

    /// <summary>KDFe into <paramref name="destination"/>, which must hold exactly <c>ceil(bits / 8)</c> octets.</summary>
    /// <param name="hash">The hash.</param>
    /// <param name="z">The shared secret.</param>
    /// <param name="label">The "Use" label; NUL-terminated on the wire.</param>
    /// <param name="partyUInfo">PartyUInfo.</param>
    /// <param name="partyVInfo">PartyVInfo.</param>
    /// <param name="bits">Output length in bits.</param>
    /// <param name="destination">Receives the derived octets.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is negative or <paramref name="hash"/> is not supported.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length.</exception>
    public static void KdfE(TpmAlgId hash, ReadOnlySpan<byte> z, string label, ReadOnlySpan<byte> partyUInfo, ReadOnlySpan<byte> partyVInfo, int bits, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(label);
        Span<byte> buffer = stackalloc byte[MaxLabelOnStack];
        KdfE(hash, z, EncodeLabel(label, buffer), partyUInfo, partyVInfo, bits, destination);
    }

    /// <summary>KDFa with a label given as octets (a NUL is appended unless it ends in one): the <see cref="KdfRandomSource"/> stream, cut to <paramref name="bits"/>.</summary>
    internal static void KdfA(TpmAlgId hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> label, ReadOnlySpan<byte> contextU, ReadOnlySpan<byte> contextV, int bits, Span<byte> destination)
    {
        CheckLength(bits, destination);
        if (destination.IsEmpty)
        {
            return;
        }

        using var stream = new KdfRandomSource(hash, key, label, contextU, contextV, bits);
        stream.Fill(destination);
        MaskTop(bits, destination);
    }

    /// <summary>KDFe with a label given as octets (a NUL is appended unless it ends in one).</summary>
    internal static void KdfE(TpmAlgId hash, ReadOnlySpan<byte> z, ReadOnlySpan<byte> label, ReadOnlySpan<byte> partyUInfo, ReadOnlySpan<byte> partyVInfo, int bits, Span<byte> destination)
    {
        CheckLength(bits, destination);
        if (destination.IsEmpty)
        {
            return;
        }

        var digestSize = TpmHash.DigestSize(hash);
        using var h = IncrementalHash.CreateHash(TpmHash.Name(hash));
        Span<byte> block = stackalloc byte[64];
        block = block[..digestSize];
        Span<byte> word = stackalloc byte[4];
        var needsNul = label.IsEmpty || label[^1] != 0;
        uint counter = 0;
        for (var offset = 0; offset < destination.Length; offset += digestSize)
        {
            counter++;
            BinaryPrimitives.WriteUInt32BigEndian(word, counter);
            h.AppendData(word);
            h.AppendData(z);
            h.AppendData(label);
            if (needsNul)
            {
                h.AppendData([0]);
            }

            h.AppendData(partyUInfo);
            h.AppendData(partyVInfo);
            var take = Math.Min(digestSize, destination.Length - offset);
            if (take == digestSize)
            {
                h.GetHashAndReset(destination.Slice(offset, digestSize));
            }
            else
            {
                h.GetHashAndReset(block);
                block[..take].CopyTo(destination[offset..]);
            }
        }

        CryptographicOperations.ZeroMemory(block);
        MaskTop(bits, destination);
    }

    /// <summary>The label's wire octets (UTF-8, NUL-terminated).</summary>
    internal static byte[] LabelBytes(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (label.EndsWith('\0'))
        {
            return Encoding.UTF8.GetBytes(label);
        }

        var bytes = new byte[Encoding.UTF8.GetByteCount(label) + 1];
        Encoding.UTF8.GetBytes(label, bytes);
        return bytes;
    }

    /// <summary>UTF-8 octets of <paramref name="label"/> in <paramref name="buffer"/> when they fit, else a new array.</summary>
    private static ReadOnlySpan<byte> EncodeLabel(string label, Span<byte> buffer) =>
        Encoding.UTF8.GetByteCount(label) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(label, buffer)] : Encoding.UTF8.GetBytes(label);

    private static void CheckLength(int bits, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bits);
        if (destination.Length != (bits + 7) / 8)
        {
            throw new ArgumentException($"The destination must hold {(bits + 7) / 8} octets for {bits} bits, not {destination.Length}.", nameof(destination));
        }
    }

    private static void MaskTop(int bits, Span<byte> destination)
    {
        if (bits % 8 != 0)
        {
            destination[0] &= (byte)((1 << (bits % 8)) - 1);
        }
    }
}
