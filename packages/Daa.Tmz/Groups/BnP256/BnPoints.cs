using System.Numerics;
using System.Security.Cryptography;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// A point of G1 = E(Fp): y² = x³ + 3 on BN_P256, immutable; encoded as 0x04 ‖ x ‖ y (65 octets, SEC1
/// uncompressed, as FIDO ECDAA's ECPoint2) or the single octet 0x00 for the identity.
/// </summary>
public sealed class BnG1Point : IEquatable<BnG1Point>
{
    private readonly byte[] _encoding;

    internal BnG1Point(BcPoint point)
    {
        Native = point.Normalize();
        _encoding = Native.IsInfinity ? [0] : Native.GetEncoded(compressed: false);
    }

    /// <summary>Whether this is the identity.</summary>
    public bool IsIdentity => Native.IsInfinity;

    /// <summary>The canonical encoding.</summary>
    public ReadOnlySpan<byte> Encoding => _encoding;

    internal BcPoint Native { get; }

    /// <summary>The point (x, y), checked to be on the curve (cofactor 1: every point is in G1).</summary>
    /// <param name="x">x.</param>
    /// <param name="y">y.</param>
    /// <returns>The point.</returns>
    /// <exception cref="CryptographicException">Not a point of the curve.</exception>
    public static BnG1Point FromAffine(BigInteger x, BigInteger y)
    {
        if (x.Sign < 0 || y.Sign < 0 || x >= BnP256.FieldPrime || y >= BnP256.FieldPrime)
        {
            throw new CryptographicException("a coordinate is not a field element");
        }

        var point = BnP256.Curve.CreatePoint(BnP256.ToBouncyField(x), BnP256.ToBouncyField(y));
        if (!point.IsValid())
        {
            throw new CryptographicException("the point is not on BN_P256");
        }

        return new BnG1Point(point);
    }

    /// <summary>Decodes the canonical encoding (65 octets or 0x00), rejecting points not on the curve.</summary>
    /// <param name="encoding">The encoding.</param>
    /// <returns>The point.</returns>
    /// <exception cref="CryptographicException">Malformed or not on the curve.</exception>
    public static BnG1Point Decode(ReadOnlySpan<byte> encoding)
    {
        if (encoding.Length == 1 && encoding[0] == 0)
        {
            return BnP256.G1Identity;
        }

        if (encoding.Length != 65 || encoding[0] != 4)
        {
            throw new CryptographicException("a BN_P256 G1 point is 0x04 ‖ x ‖ y (65 octets) or 0x00");
        }

        return FromAffine(new BigInteger(encoding[1..33], isUnsigned: true, isBigEndian: true), new BigInteger(encoding[33..], isUnsigned: true, isBigEndian: true));
    }

    /// <summary>k·P (w-NAF in BouncyCastle).</summary>
    /// <param name="scalar">k (reduced mod r).</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>The product.</returns>
    public BnG1Point Multiply(BigInteger scalar, EcdaaOpCounter? counter = null)
    {
        counter?.G1Mul(1);
        var k = BnP256.Reduce(scalar);
        return k.IsZero || IsIdentity ? BnP256.G1Identity : FromJacobian(ToJacobian().Multiply(k));
    }

    /// <summary>a·P + b·Q with shared doublings (one two-term multi-scalar multiplication).</summary>
    /// <param name="a">a.</param>
    /// <param name="q">Q.</param>
    /// <param name="b">b.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>The sum.</returns>
    public BnG1Point MultiplyAdd(BigInteger a, BnG1Point q, BigInteger b, EcdaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(q);
        counter?.G1Mul(2);
        counter?.G1Add();
        return FromJacobian(G1Jacobian.MultiplyAdd(ToJacobian(), BnP256.Reduce(a), q.ToJacobian(), BnP256.Reduce(b)));
    }

    /// <summary>P + Q.</summary>
    /// <param name="other">Q.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>The sum.</returns>
    public BnG1Point Add(BnG1Point other, EcdaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(other);
        counter?.G1Add();
        return new BnG1Point(Native.Add(other.Native));
    }

    /// <summary>−P.</summary>
    /// <returns>The negation.</returns>
    public BnG1Point Negate() => new(Native.Negate());

    /// <summary>A copy of the encoding.</summary>
    /// <returns>The encoding.</returns>
    public byte[] ToArray() => (byte[])_encoding.Clone();

    /// <inheritdoc/>
    public bool Equals(BnG1Point? other) => other is not null && _encoding.AsSpan().SequenceEqual(other._encoding);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as BnG1Point);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(_encoding);
        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => $"G1:{Convert.ToHexStringLower(_encoding)}";

    internal G1Jacobian ToJacobian()
    {
        if (IsIdentity)
        {
            return G1Jacobian.Infinity;
        }

        var (x, y) = AffineFp();
        return G1Jacobian.FromAffine(x, y);
    }

    internal static BnG1Point FromJacobian(G1Jacobian point)
    {
        if (point.IsInfinity)
        {
            return BnP256.G1Identity;
        }

        var (x, y) = point.ToAffine();
        return new BnG1Point(BnP256.Curve.CreatePoint(BnP256.ToBouncyField(x.ToBigInteger()), BnP256.ToBouncyField(y.ToBigInteger())));
    }

    internal (Fp X, Fp Y) AffineFp() => (
        Fp.FromBigInteger(new BigInteger(Native.AffineXCoord.GetEncoded(), isUnsigned: true, isBigEndian: true)),
        Fp.FromBigInteger(new BigInteger(Native.AffineYCoord.GetEncoded(), isUnsigned: true, isBigEndian: true)));
}

/// <summary>
/// A point of G2 ⊂ E'(Fp2): y² = x³ + 3(1 + i), immutable; encoded as x.a ‖ x.b ‖ y.a ‖ y.b
/// (128 octets, x = x.a + x.b·i, as FIDO ECDAA's ECPoint4 without a prefix) or 0x00 for the identity.
/// </summary>
public sealed class BnG2Point : IEquatable<BnG2Point>
{
    private byte[]? _encoding;
    private G2Prepared? _prepared;

    internal BnG2Point(G2Jacobian point)
    {
        if (point.IsInfinity)
        {
            Point = G2Jacobian.Infinity;
        }
        else
        {
            var (x, y) = point.ToAffine();
            Point = G2Jacobian.FromAffine(x, y);
        }
    }

    /// <summary>Whether this is the identity.</summary>
    public bool IsIdentity => Point.IsInfinity;

    /// <summary>The canonical encoding.</summary>
    public ReadOnlySpan<byte> Encoding => _encoding ??= Encode();

    internal G2Jacobian Point { get; }

    /// <summary>The Miller-loop lines of this point, computed on first use and kept (issuer keys and P2 are paired again and again).</summary>
    internal G2Prepared Prepared => _prepared ??= BnPairing.Prepare(Point.ToAffine());

    /// <summary>Decodes the canonical encoding, checking the point is on the twist and in the order-r subgroup.</summary>
    /// <param name="encoding">The encoding.</param>
    /// <returns>The point.</returns>
    /// <exception cref="CryptographicException">Malformed, not on the twist or not in G2.</exception>
    public static BnG2Point Decode(ReadOnlySpan<byte> encoding)
    {
        if (encoding.Length == 1 && encoding[0] == 0)
        {
            return BnP256.G2Identity;
        }

        if (encoding.Length != 128)
        {
            throw new CryptographicException("a BN_P256 G2 point is x.a ‖ x.b ‖ y.a ‖ y.b (128 octets) or 0x00");
        }

        static Fp Part(ReadOnlySpan<byte> e, int i) => Fp.Decode(e.Slice(32 * i, 32)) ?? throw new CryptographicException("a coordinate is not a field element");
        var x = new Fp2(Part(encoding, 0), Part(encoding, 1));
        var y = new Fp2(Part(encoding, 2), Part(encoding, 3));
        if (!G2Jacobian.IsOnCurve(x, y))
        {
            throw new CryptographicException("the point is not on the BN_P256 twist");
        }

        var point = new BnG2Point(G2Jacobian.FromAffine(x, y));
        if (!point.IsInSubgroup())
        {
            throw new CryptographicException("the point is not in G2 (order r)");
        }

        return point;
    }

    /// <summary>Whether r·Q is the identity (the twist's cofactor is not 1, so a decoded point needs this check).</summary>
    /// <returns>True when Q is in G2.</returns>
    public bool IsInSubgroup() => Point.Multiply(BnP256.Order).IsInfinity;

    /// <summary>k·Q.</summary>
    /// <param name="scalar">k (reduced mod r).</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>The product.</returns>
    public BnG2Point Multiply(BigInteger scalar, EcdaaOpCounter? counter = null)
    {
        counter?.G2Mul();
        return new BnG2Point(Point.Multiply(BnP256.Reduce(scalar)));
    }

    /// <summary>Q + R.</summary>
    /// <param name="other">R.</param>
    /// <returns>The sum.</returns>
    public BnG2Point Add(BnG2Point other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new BnG2Point(Point.Add(other.Point));
    }

    /// <summary>−Q.</summary>
    /// <returns>The negation.</returns>
    public BnG2Point Negate() => new(Point.Negate());

    /// <summary>A copy of the encoding.</summary>
    /// <returns>The encoding.</returns>
    public byte[] ToArray() => Encoding.ToArray();

    /// <inheritdoc/>
    public bool Equals(BnG2Point? other) => other is not null && Point.EqualsPoint(other.Point);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as BnG2Point);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(Encoding);
        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => $"G2:{Convert.ToHexStringLower(Encoding)}";

    internal (Fp2 X, Fp2 Y) Affine() => Point.ToAffine();

    private byte[] Encode()
    {
        if (IsIdentity)
        {
            return [0];
        }

        var (x, y) = Point.ToAffine();
        var bytes = new byte[128];
        x.A.WriteBigEndian(bytes);
        x.B.WriteBigEndian(bytes.AsSpan(32));
        y.A.WriteBigEndian(bytes.AsSpan(64));
        y.B.WriteBigEndian(bytes.AsSpan(96));
        return bytes;
    }
}

/// <summary>An element of GT ⊂ Fp12* (order r), immutable; encoded as its 12 Fp coefficients (384 octets).</summary>
public sealed class BnGtElement : IEquatable<BnGtElement>
{
    internal BnGtElement(Fp12 value)
    {
        Value = value;
    }

    /// <summary>The identity 1.</summary>
    public static BnGtElement One { get; } = new(Fp12.One);

    /// <summary>Whether this is 1.</summary>
    public bool IsOne => Value.IsOne;

    internal Fp12 Value { get; }

    /// <summary>The product.</summary>
    /// <param name="other">The other factor.</param>
    /// <returns>this · other.</returns>
    public BnGtElement Multiply(BnGtElement other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(Value * other.Value);
    }

    /// <summary>this^k (k reduced mod r; NAF of k with cyclotomic squarings, GT being in the cyclotomic subgroup).</summary>
    /// <param name="exponent">k.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>The power.</returns>
    public BnGtElement Pow(BigInteger exponent, EcdaaOpCounter? counter = null)
    {
        counter?.GtExp();
        return new(Value.CyclotomicPow(ScalarRecoding.Wnaf(BnP256.Reduce(exponent), 2)));
    }

    /// <summary>The 384-octet encoding.</summary>
    /// <returns>The encoding.</returns>
    public byte[] ToArray() => Value.Encode();

    /// <inheritdoc/>
    public bool Equals(BnGtElement? other) => other is not null && Value == other.Value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as BnGtElement);

    /// <inheritdoc/>
    public override int GetHashCode() => Value.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => $"GT:{Convert.ToHexStringLower(ToArray().AsSpan(0, 16))}…";
}
