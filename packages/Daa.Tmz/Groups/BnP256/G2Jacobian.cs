using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// A point of the sextic twist E'(Fp2): y² = x³ + 3ξ (ξ = 1 + i, an M-type twist) in Jacobian
/// coordinates (x = X/Z², y = Y/Z³; Z = 0 is the point at infinity).
/// </summary>
internal readonly struct G2Jacobian
{
    /// <summary>b' = 3ξ.</summary>
    public static readonly Fp2 TwistB = Fp2.Xi * Fp.FromBigInteger(3);

    public G2Jacobian(Fp2 x, Fp2 y, Fp2 z)
    {
        X = x;
        Y = y;
        Z = z;
    }

    public Fp2 X { get; }

    public Fp2 Y { get; }

    public Fp2 Z { get; }

    public static G2Jacobian Infinity => new(Fp2.One, Fp2.One, Fp2.Zero);

    public bool IsInfinity => Z.IsZero;

    public static G2Jacobian FromAffine(Fp2 x, Fp2 y) => new(x, y, Fp2.One);

    public static bool IsOnCurve(Fp2 x, Fp2 y) => y.Square() == (x.Square() * x) + TwistB;

    public (Fp2 X, Fp2 Y) ToAffine()
    {
        if (IsInfinity)
        {
            throw new InvalidOperationException("the point at infinity has no affine coordinates");
        }

        var zi = Z.Invert();
        var zi2 = zi.Square();
        return (X * zi2, Y * zi2 * zi);
    }

    public G2Jacobian Negate() => new(X, -Y, Z);

    /// <summary>dbl-2009-l (a = 0).</summary>
    public G2Jacobian Double()
    {
        if (IsInfinity)
        {
            return this;
        }

        var a = X.Square();
        var b = Y.Square();
        var c = b.Square();
        var d = ((X + b).Square() - a - c).Double();
        var e = a.Double() + a;
        var f = e.Square();
        var x3 = f - d.Double();
        var c8 = c.Double().Double().Double();
        var y3 = (e * (d - x3)) - c8;
        var z3 = (Y * Z).Double();
        return new(x3, y3, z3);
    }

    /// <summary>add-2007-bl, with the doubling and inverse cases.</summary>
    public G2Jacobian Add(G2Jacobian other)
    {
        if (IsInfinity)
        {
            return other;
        }

        if (other.IsInfinity)
        {
            return this;
        }

        var z1z1 = Z.Square();
        var z2z2 = other.Z.Square();
        var u1 = X * z2z2;
        var u2 = other.X * z1z1;
        var s1 = Y * other.Z * z2z2;
        var s2 = other.Y * Z * z1z1;
        var h = u2 - u1;
        var rr = (s2 - s1).Double();
        if (h.IsZero)
        {
            return rr.IsZero ? Double() : Infinity;
        }

        var i = h.Double().Square();
        var j = h * i;
        var v = u1 * i;
        var x3 = rr.Square() - j - v.Double();
        var y3 = (rr * (v - x3)) - (s1 * j).Double();
        var z3 = ((Z + other.Z).Square() - z1z1 - z2z2) * h;
        return new(x3, y3, z3);
    }

    /// <summary>The window of the w-NAF scalar multiplication: 8 odd multiples P, 3P, …, 15P.</summary>
    private const int Window = 5;

    /// <summary>k·P by w-NAF (w = 5: about 256 doublings and 43 additions; variable time: public scalars and benchmarks only need this).</summary>
    public G2Jacobian Multiply(BigInteger k)
    {
        if (k.Sign < 0)
        {
            return Negate().Multiply(-k);
        }

        var table = OddMultiples(this);
        var digits = ScalarRecoding.Wnaf(k, Window);
        var result = Infinity;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            result = result.Double();
            result = AddDigit(result, table, digits[i]);
        }

        return result;
    }

    /// <summary>k·P by plain double-and-add over the bits of k ≥ 0 (the reference the w-NAF is tested against).</summary>
    public G2Jacobian MultiplyDoubleAndAdd(BigInteger k)
    {
        var result = Infinity;
        var bytes = k.ToByteArray(isUnsigned: true);
        for (var i = checked((int)k.GetBitLength()) - 1; i >= 0; i--)
        {
            result = result.Double();
            if (((bytes[i >> 3] >> (i & 7)) & 1) != 0)
            {
                result = result.Add(this);
            }
        }

        return result;
    }

    /// <summary>P, 3P, 5P, …, (2^(w−1) − 1)P.</summary>
    private static G2Jacobian[] OddMultiples(G2Jacobian p)
    {
        var table = new G2Jacobian[1 << (Window - 2)];
        table[0] = p;
        var twice = p.Double();
        for (var i = 1; i < table.Length; i++)
        {
            table[i] = table[i - 1].Add(twice);
        }

        return table;
    }

    private static G2Jacobian AddDigit(G2Jacobian acc, G2Jacobian[] table, sbyte digit) =>
        digit > 0 ? acc.Add(table[digit >> 1]) : digit < 0 ? acc.Add(table[-digit >> 1].Negate()) : acc;

    public bool EqualsPoint(G2Jacobian other)
    {
        if (IsInfinity || other.IsInfinity)
        {
            return IsInfinity && other.IsInfinity;
        }

        var z1z1 = Z.Square();
        var z2z2 = other.Z.Square();
        return X * z2z2 == other.X * z1z1 && Y * other.Z * z2z2 == other.Y * Z * z1z1;
    }
}
