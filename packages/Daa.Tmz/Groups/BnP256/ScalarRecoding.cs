using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>Signed-digit recodings of non-negative integers for the BN_P256 exponentiation and scalar-multiplication loops.</summary>
internal static class ScalarRecoding
{
    /// <summary>
    /// The width-w NAF of k ≥ 0, least significant digit first: every non-zero digit is odd, of absolute
    /// value below 2^(w−1), and followed by at least w − 1 zeros; Σ dᵢ·2ⁱ = k. w = 2 is the NAF.
    /// </summary>
    public static sbyte[] Wnaf(BigInteger k, int w)
    {
        if (k.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(k), "the scalar must be non-negative");
        }

        if (w is < 2 or > 7)
        {
            throw new ArgumentOutOfRangeException(nameof(w), "the window is 2 to 7 bits");
        }

        var bytes = k.ToByteArray(isUnsigned: true);
        var length = checked((int)k.GetBitLength()) + 1;
        var digits = new sbyte[length];
        var carry = 0;
        var bit = 0;
        while (bit < length)
        {
            if (Bit(bytes, bit) == carry)
            {
                bit++;
                continue;
            }

            var now = Math.Min(w, length - bit);
            var word = Bits(bytes, bit, now) + carry;
            carry = (word >> (w - 1)) & 1;
            word -= carry << w;
            digits[bit] = checked((sbyte)word);
            bit += now;
        }

        return digits;
    }

    private static int Bit(byte[] littleEndian, int i) => i >> 3 < littleEndian.Length ? (littleEndian[i >> 3] >> (i & 7)) & 1 : 0;

    private static int Bits(byte[] littleEndian, int start, int count)
    {
        var value = 0;
        for (var j = count - 1; j >= 0; j--)
        {
            value = (value << 1) | Bit(littleEndian, start + j);
        }

        return value;
    }
}
