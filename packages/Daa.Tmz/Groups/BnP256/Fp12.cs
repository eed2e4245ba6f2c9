using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// Fp12 = Fp6[w]/(w² − v): c0 + c1·w, so w⁶ = ξ. GT is the order-r subgroup of its multiplicative group.
/// </summary>
internal readonly struct Fp12 : IEquatable<Fp12>
{
    /// <summary>γᵢ = ξ^(i(p − 1)/6): w^(i·p) = γᵢ·wⁱ, the Frobenius constants.</summary>
    private static readonly Fp2[] Gamma = [.. Enumerable.Range(0, 6).Select(i => Fp2.Xi.Pow(i * (Fp.Modulus - 1) / 6))];

    public Fp12(Fp6 c0, Fp6 c1)
    {
        C0 = c0;
        C1 = c1;
    }

    public Fp6 C0 { get; }

    public Fp6 C1 { get; }

    public static Fp12 One { get; } = new(Fp6.One, Fp6.Zero);

    public bool IsOne => this == One;

    public static Fp12 operator *(Fp12 x, Fp12 y)
    {
        var v0 = x.C0 * y.C0;
        var v1 = x.C1 * y.C1;
        return new(v0 + v1.MulByV(), ((x.C0 + x.C1) * (y.C0 + y.C1)) - v0 - v1);
    }

    /// <summary>
    /// this · (c0 + c1·w² + c3·w³), the sparse line value of the Miller loop: 13 Fp2 multiplications
    /// instead of 18 (the line is (c0, c1, 0) + (0, c3, 0)·w).
    /// </summary>
    public Fp12 MulByLine(Fp2 c0, Fp2 c1, Fp2 c3)
    {
        var v0 = C0.MulBy01(c0, c1);
        var v1 = C1.MulBy1(c3);
        var sum = (C0 + C1).MulBy01(c0, c1 + c3);
        return new(v0 + v1.MulByV(), sum - v0 - v1);
    }

    public static bool operator ==(Fp12 x, Fp12 y) => x.Equals(y);

    public static bool operator !=(Fp12 x, Fp12 y) => !x.Equals(y);

    public Fp12 Square()
    {
        var v0 = C0 * C1;
        var c0 = ((C0 + C1) * (C0 + C1.MulByV())) - v0 - v0.MulByV();
        return new(c0, v0 + v0);
    }

    /// <summary>
    /// The square of an element of the cyclotomic subgroup (norm 1 over Fp6 and over Fp4; every
    /// element after the easy part of the final exponentiation, hence all of GT): Granger and Scott
    /// 2010, "Faster squaring in the cyclotomic subgroup of sixth degree extensions", §3.2 — 6 Fp2
    /// squarings instead of the 2 Fp6 multiplications of <see cref="Square"/>. Wrong for other elements.
    /// </summary>
    public Fp12 CyclotomicSquare()
    {
        // Seen over Fp4 = Fp2[s]/(s² − ξ) with s = w³: the pairs (g0, h1), (h0, g2), (g1, h2) of
        // (C0.C0, C1.C1), (C1.C0, C0.C2), (C0.C1, C1.C2); for z = a + b·s, z² = (a² + ξb²) + 2ab·s.
        var (g0, g1, g2) = (C0.C0, C0.C1, C0.C2);
        var (h0, h1, h2) = (C1.C0, C1.C1, C1.C2);
        var (a0, b0) = Fp4Square(g0, h1);
        var (a1, b1) = Fp4Square(h0, g2);
        var (a2, b2) = Fp4Square(g1, h2);
        var b2Xi = b2.MulByXi();
        return new(
            new Fp6(Triple(a0) - g0.Double(), Triple(a1) - g1.Double(), Triple(a2) - g2.Double()),
            new Fp6(Triple(b2Xi) + h0.Double(), Triple(b0) + h1.Double(), Triple(b1) + h2.Double()));

        static Fp2 Triple(Fp2 x) => x.Double() + x;

        static (Fp2 Real, Fp2 S) Fp4Square(Fp2 a, Fp2 b)
        {
            var a2 = a.Square();
            var b2 = b.Square();
            return (a2 + b2.MulByXi(), (a + b).Square() - a2 - b2);
        }
    }

    /// <summary>this^e for this in the cyclotomic subgroup (the inverse is the conjugate): signed-digit (NAF) exponent, cyclotomic squarings.</summary>
    public Fp12 CyclotomicPow(ReadOnlySpan<sbyte> naf)
    {
        var result = One;
        var inverse = Conjugate();
        var started = false;
        for (var i = naf.Length - 1; i >= 0; i--)
        {
            if (started)
            {
                result = result.CyclotomicSquare();
            }

            if (naf[i] != 0)
            {
                result = started ? result * (naf[i] > 0 ? this : inverse) : (naf[i] > 0 ? this : inverse);
                started = true;
            }
        }

        return result;
    }

    /// <summary>The conjugate c0 − c1·w = the p⁶-power Frobenius (the inverse on the cyclotomic subgroup).</summary>
    public Fp12 Conjugate() => new(C0, -C1);

    public Fp12 Invert()
    {
        var t = ((C0 * C0) - (C1 * C1).MulByV()).Invert();
        return new(C0 * t, -(C1 * t));
    }

    /// <summary>The p-power Frobenius: Σ cᵢ·wⁱ ↦ Σ conj(cᵢ)·γᵢ·wⁱ (w-exponents: C0 = 0, 2, 4; C1 = 1, 3, 5).</summary>
    public Fp12 Frobenius() => new(
        new Fp6(C0.C0.Conjugate(), C0.C1.Conjugate() * Gamma[2], C0.C2.Conjugate() * Gamma[4]),
        new Fp6(C1.C0.Conjugate() * Gamma[1], C1.C1.Conjugate() * Gamma[3], C1.C2.Conjugate() * Gamma[5]));

    public Fp12 Pow(BigInteger exponent)
    {
        if (exponent.Sign < 0)
        {
            return Invert().Pow(-exponent);
        }

        var result = One;
        var bytes = exponent.ToByteArray(isUnsigned: true);
        for (var i = checked((int)exponent.GetBitLength()) - 1; i >= 0; i--)
        {
            result = result.Square();
            if (((bytes[i >> 3] >> (i & 7)) & 1) != 0)
            {
                result *= this;
            }
        }

        return result;
    }

    /// <summary>The 12 Fp coefficients as big-endian octets (384), in tower order.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[384];
        Fp2[] parts = [C0.C0, C0.C1, C0.C2, C1.C0, C1.C1, C1.C2];
        for (var i = 0; i < 6; i++)
        {
            parts[i].A.WriteBigEndian(bytes.AsSpan(64 * i));
            parts[i].B.WriteBigEndian(bytes.AsSpan((64 * i) + 32));
        }

        return bytes;
    }

    public bool Equals(Fp12 other) => C0 == other.C0 && C1 == other.C1;

    public override bool Equals(object? obj) => obj is Fp12 other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(C0, C1);
}
