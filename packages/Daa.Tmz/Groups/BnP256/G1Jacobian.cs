using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// A point of G1 = E(Fp): y² = x³ + 3 in Jacobian coordinates (x = X/Z², y = Y/Z³; Z = 0 is the point
/// at infinity), on the Montgomery field of this package (BouncyCastle's generic FpCurve is an order of
/// magnitude slower for BN_P256, which it has no custom code for).
/// </summary>
internal readonly struct G1Jacobian
{
    /// <summary>b = 3.</summary>
    public static readonly Fp CurveB = Fp.FromBigInteger(3);

    public G1Jacobian(Fp x, Fp y, Fp z)
    {
        X = x;
        Y = y;
        Z = z;
    }

    public Fp X { get; }

    public Fp Y { get; }

    public Fp Z { get; }

    public static G1Jacobian Infinity => new(Fp.One, Fp.One, Fp.Zero);

    public bool IsInfinity => Z.IsZero;

    public static G1Jacobian FromAffine(Fp x, Fp y) => new(x, y, Fp.One);

    public static bool IsOnCurve(Fp x, Fp y) => y.Square() == (x.Square() * x) + CurveB;

    public (Fp X, Fp Y) ToAffine()
    {
        if (IsInfinity)
        {
            throw new InvalidOperationException("the point at infinity has no affine coordinates");
        }

        var zi = Z.Invert();
        var zi2 = zi.Square();
        return (X * zi2, Y * zi2 * zi);
    }

    public G1Jacobian Negate() => new(X, -Y, Z);

    /// <summary>dbl-2009-l (a = 0).</summary>
    public G1Jacobian Double()
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
    public G1Jacobian Add(G1Jacobian other)
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
    public G1Jacobian Multiply(BigInteger k)
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
    public G1Jacobian MultiplyDoubleAndAdd(BigInteger k)
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
    private static G1Jacobian[] OddMultiples(G1Jacobian p)
    {
        var table = new G1Jacobian[1 << (Window - 2)];
        table[0] = p;
        var twice = p.Double();
        for (var i = 1; i < table.Length; i++)
        {
            table[i] = table[i - 1].Add(twice);
        }

        return table;
    }

    private static G1Jacobian AddDigit(G1Jacobian acc, G1Jacobian[] table, sbyte digit) =>
        digit > 0 ? acc.Add(table[digit >> 1]) : digit < 0 ? acc.Add(table[-digit >> 1].Negate()) : acc;

    /// <summary>a·P + b·Q with shared doublings (interleaved w-NAF: one doubling chain, additions from both tables), scalars ≥ 0.</summary>
    public static G1Jacobian MultiplyAdd(G1Jacobian p, BigInteger a, G1Jacobian q, BigInteger b)
    {
        var tp = OddMultiples(p);
        var tq = OddMultiples(q);
        var da = ScalarRecoding.Wnaf(a, Window);
        var db = ScalarRecoding.Wnaf(b, Window);
        var result = Infinity;
        for (var i = Math.Max(da.Length, db.Length) - 1; i >= 0; i--)
        {
            result = result.Double();
            if (i < da.Length)
            {
                result = AddDigit(result, tp, da[i]);
            }

            if (i < db.Length)
            {
                result = AddDigit(result, tq, db[i]);
            }
        }

        return result;
    }

    public bool EqualsPoint(G1Jacobian other)
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
