using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>Fp2 = Fp[i]/(i² + 1) (p ≡ 3 mod 4), the field of the sextic twist's coordinates.</summary>
internal readonly struct Fp2 : IEquatable<Fp2>
{
    public Fp2(Fp a, Fp b)
    {
        A = a;
        B = b;
    }

    /// <summary>The real part.</summary>
    public Fp A { get; }

    /// <summary>The coefficient of i.</summary>
    public Fp B { get; }

    public static Fp2 Zero => default;

    public static Fp2 One { get; } = new(Fp.One, Fp.Zero);

    /// <summary>ξ = 1 + i: neither a square nor a cube in Fp2; v³ = ξ builds Fp6 and the twist is y² = x³ + 3ξ.</summary>
    public static Fp2 Xi { get; } = new(Fp.One, Fp.One);

    public bool IsZero => A.IsZero && B.IsZero;

    public static Fp2 FromBigIntegers(BigInteger a, BigInteger b) => new(Fp.FromBigInteger(a), Fp.FromBigInteger(b));

    public static Fp2 operator +(Fp2 x, Fp2 y) => new(x.A + y.A, x.B + y.B);

    public static Fp2 operator -(Fp2 x, Fp2 y) => new(x.A - y.A, x.B - y.B);

    public static Fp2 operator -(Fp2 x) => new(-x.A, -x.B);

    public static Fp2 operator *(Fp2 x, Fp2 y)
    {
        // Karatsuba: 3 multiplications in Fp.
        var v0 = x.A * y.A;
        var v1 = x.B * y.B;
        return new(v0 - v1, ((x.A + x.B) * (y.A + y.B)) - v0 - v1);
    }

    public static Fp2 operator *(Fp2 x, Fp y) => new(x.A * y, x.B * y);

    public static bool operator ==(Fp2 x, Fp2 y) => x.Equals(y);

    public static bool operator !=(Fp2 x, Fp2 y) => !x.Equals(y);

    public Fp2 Square()
    {
        var ab = A * B;
        return new((A + B) * (A - B), ab + ab);
    }

    public Fp2 Double() => this + this;

    /// <summary>Multiplication by ξ = 1 + i: (a − b) + (a + b)i.</summary>
    public Fp2 MulByXi() => new(A - B, A + B);

    /// <summary>The conjugate a − bi, which is also the p-power Frobenius.</summary>
    public Fp2 Conjugate() => new(A, -B);

    public Fp2 Invert()
    {
        var t = ((A * A) + (B * B)).Invert();
        return new(A * t, -(B * t));
    }

    /// <summary>A square root (Adj and Rodríguez-Henríquez 2012, algorithm 9, p ≡ 3 mod 4), or null when there is none.</summary>
    public Fp2? Sqrt()
    {
        if (IsZero)
        {
            return this;
        }

        var a1 = Pow((Fp.Modulus - 3) / 4);
        var alpha = a1.Square() * this;
        var a0 = alpha.Conjugate() * alpha;
        var minusOne = -One;
        if (a0 == minusOne)
        {
            return null;
        }

        var x0 = a1 * this;
        var root = alpha == minusOne ? new Fp2(-x0.B, x0.A) : (One + alpha).Pow((Fp.Modulus - 1) / 2) * x0;
        return root.Square() == this ? root : null;
    }

    public Fp2 Pow(BigInteger exponent)
    {
        var result = One;
        var b = this;
        for (var e = exponent; !e.IsZero; e >>= 1)
        {
            if (!e.IsEven)
            {
                result *= b;
            }

            b = b.Square();
        }

        return result;
    }

    public bool Equals(Fp2 other) => A == other.A && B == other.B;

    public override bool Equals(object? obj) => obj is Fp2 other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(A, B);

    public override string ToString() => $"({A}, {B})";
}
