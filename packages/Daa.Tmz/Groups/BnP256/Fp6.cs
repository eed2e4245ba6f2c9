namespace TrustStack.Daa.Tmz;

/// <summary>Fp6 = Fp2[v]/(v³ − ξ): c0 + c1·v + c2·v².</summary>
internal readonly struct Fp6 : IEquatable<Fp6>
{
    public Fp6(Fp2 c0, Fp2 c1, Fp2 c2)
    {
        C0 = c0;
        C1 = c1;
        C2 = c2;
    }

    public Fp2 C0 { get; }

    public Fp2 C1 { get; }

    public Fp2 C2 { get; }

    public static Fp6 Zero => default;

    public static Fp6 One { get; } = new(Fp2.One, Fp2.Zero, Fp2.Zero);

    public bool IsZero => C0.IsZero && C1.IsZero && C2.IsZero;

    public static Fp6 operator +(Fp6 x, Fp6 y) => new(x.C0 + y.C0, x.C1 + y.C1, x.C2 + y.C2);

    public static Fp6 operator -(Fp6 x, Fp6 y) => new(x.C0 - y.C0, x.C1 - y.C1, x.C2 - y.C2);

    public static Fp6 operator -(Fp6 x) => new(-x.C0, -x.C1, -x.C2);

    public static Fp6 operator *(Fp6 x, Fp6 y)
    {
        // Karatsuba over the cubic extension (Devegili, Ó hÉigeartaigh, Scott, Dahab 2006): 6 Fp2 multiplications.
        var v0 = x.C0 * y.C0;
        var v1 = x.C1 * y.C1;
        var v2 = x.C2 * y.C2;
        var c0 = ((((x.C1 + x.C2) * (y.C1 + y.C2)) - v1 - v2).MulByXi()) + v0;
        var c1 = (((x.C0 + x.C1) * (y.C0 + y.C1)) - v0 - v1) + v2.MulByXi();
        var c2 = (((x.C0 + x.C2) * (y.C0 + y.C2)) - v0 - v2) + v1;
        return new(c0, c1, c2);
    }

    /// <summary>this · (b0 + b1·v): 5 Fp2 multiplications.</summary>
    public Fp6 MulBy01(Fp2 b0, Fp2 b1)
    {
        var v0 = C0 * b0;
        var v1 = C1 * b1;
        return new((C2 * b1).MulByXi() + v0, ((C0 + C1) * (b0 + b1)) - v0 - v1, (C2 * b0) + v1);
    }

    /// <summary>this · (b1·v): 3 Fp2 multiplications.</summary>
    public Fp6 MulBy1(Fp2 b1) => new((C2 * b1).MulByXi(), C0 * b1, C1 * b1);

    public static bool operator ==(Fp6 x, Fp6 y) => x.Equals(y);

    public static bool operator !=(Fp6 x, Fp6 y) => !x.Equals(y);

    public Fp6 Square() => this * this;

    /// <summary>Multiplication by v: (ξ·c2, c0, c1).</summary>
    public Fp6 MulByV() => new(C2.MulByXi(), C0, C1);

    public Fp6 Invert()
    {
        var t0 = C0.Square() - (C1 * C2).MulByXi();
        var t1 = C2.Square().MulByXi() - (C0 * C1);
        var t2 = C1.Square() - (C0 * C2);
        var inv = ((C0 * t0) + (C2 * t1).MulByXi() + (C1 * t2).MulByXi()).Invert();
        return new(t0 * inv, t1 * inv, t2 * inv);
    }

    public bool Equals(Fp6 other) => C0 == other.C0 && C1 == other.C1 && C2 == other.C2;

    public override bool Equals(object? obj) => obj is Fp6 other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(C0, C1, C2);
}
