using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// An element of the BN_P256 base field Fp (p = 36u⁴ + 36u³ + 24u² + 6u + 1, u = −0x6882F5C030B0A801,
/// TPM 2.0 Part 4 / ISO/IEC 15946-5): four 64-bit limbs in Montgomery form (R = 2²⁵⁶), immutable.
/// Multiplication is CIOS Montgomery multiplication; inversion and square roots go through
/// <see cref="BigInteger.ModPow"/> (rare operations).
/// </summary>
internal readonly struct Fp : IEquatable<Fp>
{
    private const ulong P0 = 0xD3292DDBAED33013UL, P1 = 0x0CDC65FB12980A82UL, P2 = 0x46E5F25EEE71A49FUL, P3 = 0xFFFFFFFFFFFCF0CDUL;

    private readonly ulong _l0, _l1, _l2, _l3;

    private Fp(ulong l0, ulong l1, ulong l2, ulong l3)
    {
        _l0 = l0;
        _l1 = l1;
        _l2 = l2;
        _l3 = l3;
    }

    /// <summary>p.</summary>
    public static BigInteger Modulus { get; } = BigInteger.Parse("0FFFFFFFFFFFCF0CD46E5F25EEE71A49F0CDC65FB12980A82D3292DDBAED33013", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>−p⁻¹ mod 2⁶⁴.</summary>
    private static readonly ulong Inv = ComputeInv();

    /// <summary>R² mod p, to enter Montgomery form.</summary>
    private static readonly Fp R2 = FromLimbs(BigInteger.ModPow(2, 512, Modulus));

    /// <summary>p − 2 (Fermat inversion) as little-endian limbs.</summary>
    private static readonly ulong[] InvertExponent = Limbs(Modulus - 2);

    /// <summary>(p + 1)/4 (square root, p ≡ 3 mod 4) as little-endian limbs.</summary>
    private static readonly ulong[] SqrtExponent = Limbs((Modulus + 1) / 4);

    /// <summary>Zero.</summary>
    public static Fp Zero => default;

    /// <summary>One (R mod p in Montgomery form).</summary>
    public static Fp One { get; } = FromBigInteger(BigInteger.One);

    /// <summary>Whether this is zero.</summary>
    public bool IsZero => (_l0 | _l1 | _l2 | _l3) == 0;

    /// <summary>Creates an element from an integer (reduced modulo p).</summary>
    public static Fp FromBigInteger(BigInteger value)
    {
        var v = value % Modulus;
        if (v.Sign < 0)
        {
            v += Modulus;
        }

        return FromLimbs(v) * R2;
    }

    /// <summary>Decodes 32 big-endian octets; null when not below p.</summary>
    public static Fp? Decode(ReadOnlySpan<byte> bytes)
    {
        var v = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        return v >= Modulus ? null : FromBigInteger(v);
    }

    public static Fp operator +(Fp a, Fp b)
    {
        unchecked
        {
            ulong c;
            var r0 = AddC(a._l0, b._l0, 0, out c);
            var r1 = AddC(a._l1, b._l1, c, out c);
            var r2 = AddC(a._l2, b._l2, c, out c);
            var r3 = AddC(a._l3, b._l3, c, out c);
            return Reduce(r0, r1, r2, r3, c);
        }
    }

    public static Fp operator -(Fp a, Fp b)
    {
        unchecked
        {
            ulong borrow;
            var r0 = SubB(a._l0, b._l0, 0, out borrow);
            var r1 = SubB(a._l1, b._l1, borrow, out borrow);
            var r2 = SubB(a._l2, b._l2, borrow, out borrow);
            var r3 = SubB(a._l3, b._l3, borrow, out borrow);
            if (borrow != 0)
            {
                ulong c;
                r0 = AddC(r0, P0, 0, out c);
                r1 = AddC(r1, P1, c, out c);
                r2 = AddC(r2, P2, c, out c);
                r3 = AddC(r3, P3, c, out _);
            }

            return new Fp(r0, r1, r2, r3);
        }
    }

    public static Fp operator -(Fp a) => Zero - a;

    public static Fp operator *(Fp a, Fp b)
    {
        unchecked
        {
            // CIOS Montgomery multiplication (Koç, Acar, Kaliski 1996), one round per limb of b.
            ulong t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
            Round(a, b._l0, ref t0, ref t1, ref t2, ref t3, ref t4);
            Round(a, b._l1, ref t0, ref t1, ref t2, ref t3, ref t4);
            Round(a, b._l2, ref t0, ref t1, ref t2, ref t3, ref t4);
            Round(a, b._l3, ref t0, ref t1, ref t2, ref t3, ref t4);
            return Reduce(t0, t1, t2, t3, t4);
        }
    }

    public static bool operator ==(Fp a, Fp b) => a.Equals(b);

    public static bool operator !=(Fp a, Fp b) => !a.Equals(b);

    public Fp Square() => this * this;

    public Fp Double() => this + this;

    /// <summary>a⁻¹ (zero maps to zero).</summary>
    public Fp Invert() => Pow(InvertExponent);

    /// <summary>a^e by left-to-right square-and-multiply in Montgomery form.</summary>
    public Fp Pow(ulong[] exponentLimbs)
    {
        var result = One;
        for (var i = exponentLimbs.Length - 1; i >= 0; i--)
        {
            for (var bit = 63; bit >= 0; bit--)
            {
                result = result.Square();
                if (((exponentLimbs[i] >> bit) & 1) != 0)
                {
                    result *= this;
                }
            }
        }

        return result;
    }

    /// <summary>A square root (p ≡ 3 mod 4: a^((p+1)/4)), or null when a is not a square.</summary>
    public Fp? Sqrt()
    {
        var r = Pow(SqrtExponent);
        return r.Square() == this ? r : null;
    }

    /// <summary>The integer in [0, p).</summary>
    public BigInteger ToBigInteger()
    {
        var n = this * new Fp(1, 0, 0, 0);
        Span<byte> bytes = stackalloc byte[32];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, n._l0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], n._l1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes[16..], n._l2);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes[24..], n._l3);
        return new BigInteger(bytes, isUnsigned: true, isBigEndian: false);
    }

    /// <summary>32 big-endian octets.</summary>
    public void WriteBigEndian(Span<byte> destination)
    {
        destination[..32].Clear();
        ToBigInteger().TryWriteBytes(destination[..32], out var written, isUnsigned: true, isBigEndian: true);
        if (written < 32)
        {
            destination[..written].CopyTo(destination[(32 - written)..]);
            destination[..(32 - written)].Clear();
        }
    }

    public bool Equals(Fp other) => _l0 == other._l0 && _l1 == other._l1 && _l2 == other._l2 && _l3 == other._l3;

    public override bool Equals(object? obj) => obj is Fp other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_l0, _l1, _l2, _l3);

    public override string ToString() => ToBigInteger().ToString("x64", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A non-negative integer below 2²⁵⁶ as four little-endian limbs.</summary>
    internal static ulong[] Limbs(BigInteger v)
    {
        var f = FromLimbs(v);
        return [f._l0, f._l1, f._l2, f._l3];
    }

    private static Fp FromLimbs(BigInteger v)
    {
        Span<byte> bytes = stackalloc byte[32];
        bytes.Clear();
        v.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false);
        return new Fp(
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Round(Fp a, ulong bi, ref ulong t0, ref ulong t1, ref ulong t2, ref ulong t3, ref ulong t4)
    {
        unchecked
        {
            ulong c;
            t0 = MulAdd(a._l0, bi, t0, 0, out c);
            t1 = MulAdd(a._l1, bi, t1, c, out c);
            t2 = MulAdd(a._l2, bi, t2, c, out c);
            t3 = MulAdd(a._l3, bi, t3, c, out c);
            t4 = AddC(t4, c, 0, out var t5);

            var m = t0 * Inv;
            MulAdd(m, P0, t0, 0, out c);
            t0 = MulAdd(m, P1, t1, c, out c);
            t1 = MulAdd(m, P2, t2, c, out c);
            t2 = MulAdd(m, P3, t3, c, out c);
            t3 = AddC(t4, c, 0, out var carry);
            t4 = t5 + carry;
        }
    }

    /// <summary>Subtracts p once when (carry, r) ≥ p.</summary>
    private static Fp Reduce(ulong r0, ulong r1, ulong r2, ulong r3, ulong carry)
    {
        unchecked
        {
            ulong borrow;
            var s0 = SubB(r0, P0, 0, out borrow);
            var s1 = SubB(r1, P1, borrow, out borrow);
            var s2 = SubB(r2, P2, borrow, out borrow);
            var s3 = SubB(r3, P3, borrow, out borrow);
            return carry != 0 || borrow == 0 ? new Fp(s0, s1, s2, s3) : new Fp(r0, r1, r2, r3);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static ulong AddC(ulong a, ulong b, ulong carryIn, out ulong carryOut)
    {
        unchecked
        {
            var s = a + b;
            var c1 = s < a ? 1UL : 0UL;
            var r = s + carryIn;
            var c2 = r < s ? 1UL : 0UL;
            carryOut = c1 | c2;
            return r;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static ulong SubB(ulong a, ulong b, ulong borrowIn, out ulong borrowOut)
    {
        unchecked
        {
            var d = a - b;
            var b1 = a < b ? 1UL : 0UL;
            var r = d - borrowIn;
            var b2 = d < borrowIn ? 1UL : 0UL;
            borrowOut = b1 | b2;
            return r;
        }
    }

    /// <summary>a·b + c + d as (hi, lo); never overflows 128 bits.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static ulong MulAdd(ulong a, ulong b, ulong c, ulong d, out ulong hi)
    {
        unchecked
        {
            hi = Math.BigMul(a, b, out var lo);
            lo += c;
            hi += lo < c ? 1UL : 0UL;
            lo += d;
            hi += lo < d ? 1UL : 0UL;
            return lo;
        }
    }

    private static ulong ComputeInv()
    {
        unchecked
        {
            // Newton iteration for p⁻¹ mod 2⁶⁴, then negate.
            ulong x = 1;
            for (var i = 0; i < 7; i++)
            {
                x *= 2 - (P0 * x);
            }

            return 0 - x;
        }
    }
}
