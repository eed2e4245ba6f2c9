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

    /// <summary>k·P by double-and-add over the bits of k ≥ 0 (variable time: public scalars and benchmarks only need this).</summary>
    public G1Jacobian Multiply(BigInteger k)
    {
        if (k.Sign < 0)
        {
            return Negate().Multiply(-k);
        }

        var result = Infinity;
        var bytes = k.ToByteArray(isUnsigned: true);
        for (var i = checked((int)k.GetBitLength()) - 1; i >= 0; i--)
        {
            result = result.Double();
            if (Bit(bytes, i))
            {
                result = result.Add(this);
            }
        }

        return result;
    }

    private static bool Bit(byte[] littleEndian, int i) => i >> 3 < littleEndian.Length && ((littleEndian[i >> 3] >> (i & 7)) & 1) != 0;

    /// <summary>a·P + b·Q with shared doublings (Straus/Shamir), scalars ≥ 0.</summary>
    public static G1Jacobian MultiplyAdd(G1Jacobian p, BigInteger a, G1Jacobian q, BigInteger b)
    {
        var pq = p.Add(q);
        var result = Infinity;
        var bits = checked((int)BigInteger.Max(a.GetBitLength(), b.GetBitLength()));
        var ab = a.ToByteArray(isUnsigned: true);
        var bb = b.ToByteArray(isUnsigned: true);
        for (var i = bits - 1; i >= 0; i--)
        {
            result = result.Double();
            var (x, y) = (Bit(ab, i), Bit(bb, i));
            if (x && y)
            {
                result = result.Add(pq);
            }
            else if (x)
            {
                result = result.Add(p);
            }
            else if (y)
            {
                result = result.Add(q);
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
