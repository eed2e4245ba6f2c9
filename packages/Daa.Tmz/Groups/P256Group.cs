using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Math.EC.Multiplier;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// NIST P-256 through BouncyCastle's custom curve (SecP256R1Curve: special-form field arithmetic
/// on 8 × 32-bit words, Jacobian coordinates).
/// </summary>
/// <remarks>
/// Speed, all with BouncyCastle's own tools: long-lived bases (G, H, the issuer's key, a host's
/// credential; <see cref="DaaPoint.IsFixedBase"/>) are multiplied with a fixed-point comb whose
/// table is built once and cached in the point; any other point with the curve's w-NAF
/// multiplier (w-NAF, w = 5); a sum whose bases are all long-lived with joint combs over their
/// tables (pairs; a last odd one by its comb), any other sum of two products with Shamir's trick
/// (<c>ECAlgorithms.SumOfTwoMultiplies</c>) and a longer one with interleaved w-NAF
/// (<c>ECAlgorithms.SumOfMultiplies</c>). The choice depends only on the bases' flags, so the
/// counter (<see cref="DaaOpCounter.FixedBaseMultiplications"/>) records the path really taken. Results stay in Jacobian coordinates until
/// their encoding is needed (one field inversion then).
/// </remarks>
internal sealed class P256Group : DaaGroup
{
    private readonly X9ECParameters _x9 = CustomNamedCurves.GetByName("P-256");
    private readonly FixedPointCombMultiplier _comb = new();
    private readonly DaaPoint _generator;
    private readonly DaaPoint _identity;
    private readonly BigInteger _order;

    public P256Group()
    {
        _order = ToNumerics(_x9.N);
        _identity = new DaaPoint(this, [0], _x9.Curve.Infinity);
        _generator = WrapAffine(_x9.G);
        _generator.IsFixedBase = true;
    }

    /// <summary>The BouncyCastle curve (the custom SecP256R1Curve).</summary>
    internal Org.BouncyCastle.Math.EC.ECCurve Curve => _x9.Curve;

    public override string Name => "p256";

    public override BigInteger Order => _order;

    public override int PointSize => 33;

    public override int FieldBits => 256;

    public override DaaPoint Generator => _generator;

    public override DaaPoint Identity => _identity;

    /// <summary>The field prime p.</summary>
    internal BigInteger FieldPrime => ToNumerics(_x9.Curve.Field.Characteristic);

    public override DaaPoint Decode(ReadOnlySpan<byte> encoding)
    {
        if (encoding.Length == 1 && encoding[0] == 0)
        {
            return _identity;
        }

        if (encoding.Length != 33 || encoding[0] is not (2 or 3))
        {
            throw new CryptographicException("a P-256 element is SEC1 compressed (33 octets) or the single octet 0 for the identity");
        }

        BcPoint point;
        try
        {
            point = _x9.Curve.DecodePoint(encoding.ToArray());
        }
        catch (ArgumentException e)
        {
            throw new CryptographicException("not a P-256 point", e);
        }

        return WrapAffine(point);
    }

    /// <summary>The element with affine coordinates (x, y), as a TPM returns it; throws unless on the curve.</summary>
    internal DaaPoint FromAffine(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        var p = _x9.Curve.Field.Characteristic;
        var bx = new BcBigInteger(1, x.ToArray());
        var by = new BcBigInteger(1, y.ToArray());
        if (bx.CompareTo(p) >= 0 || by.CompareTo(p) >= 0)
        {
            throw new CryptographicException("coordinate is not a field element");
        }

        var point = _x9.Curve.CreatePoint(bx, by);
        if (!point.IsValid())
        {
            throw new CryptographicException("the point is not on P-256");
        }

        return WrapAffine(point);
    }

    /// <summary>The affine coordinates (32 octets each, big-endian) of a finite element.</summary>
    internal (byte[] X, byte[] Y) ToAffine(DaaPoint point)
    {
        var p = Native(point).Normalize();
        if (p.IsInfinity)
        {
            throw new ArgumentException("the identity has no affine coordinates", nameof(point));
        }

        return (p.AffineXCoord.GetEncoded(), p.AffineYCoord.GetEncoded());
    }

    public override byte[] EncodeScalar(BigInteger scalar)
    {
        var bytes = new byte[32];
        Reduce(scalar).TryWriteBytes(bytes, out var written, isUnsigned: true, isBigEndian: true);
        if (written < 32)
        {
            bytes.AsSpan(0, written).CopyTo(bytes.AsSpan(32 - written));
            bytes.AsSpan(0, 32 - written).Clear();
        }

        return bytes;
    }

    internal override bool IsIdentityEncoding(ReadOnlySpan<byte> encoding) => encoding.Length == 1 && encoding[0] == 0;

    internal override byte[] EncodeNative(object native) => ((BcPoint)native).Normalize().GetEncoded(compressed: true);

    /// <summary>
    /// Try-and-increment in the form TPM2_Commit accepts: s2 = SHA-256(len ‖ domain ‖ len ‖ data) ‖ i
    /// (UINT32 big-endian), x = SHA-256(s2) mod p, the first i for which x³ − 3x + b is a square; y
    /// is the even root.
    /// </summary>
    internal override HashedPoint HashToGroupWithWitness(string domain, ReadOnlySpan<byte> data, DaaOpCounter? counter)
    {
        ArgumentNullException.ThrowIfNull(domain);
        counter?.HashToGroup();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendPrefixed(hash, System.Text.Encoding.UTF8.GetBytes(domain));
        AppendPrefixed(hash, data);
        var seed = hash.GetHashAndReset();
        var s2 = new byte[seed.Length + 4];
        seed.CopyTo(s2, 0);
        var p = _x9.Curve.Field.Characteristic;
        for (uint i = 0; ; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(s2.AsSpan(seed.Length), i);
            var x = new BcBigInteger(1, SHA256.HashData(s2)).Mod(p);
            var fx = _x9.Curve.FromBigInteger(x);
            var rhs = fx.Square().Add(_x9.Curve.A).Multiply(fx).Add(_x9.Curve.B);
            var root = rhs.Sqrt();
            if (root is null)
            {
                continue;
            }

            var y = root.ToBigInteger();
            if (y.TestBit(0))
            {
                y = p.Subtract(y);
            }

            var point = _x9.Curve.CreatePoint(x, y);
            if (point.IsInfinity || !point.IsValid())
            {
                continue;
            }

            var y2 = _x9.Curve.FromBigInteger(y).GetEncoded();
            return new HashedPoint(WrapAffine(point), (byte[])s2.Clone(), y2);
        }
    }

    private protected override DaaPoint MultiplyCore(DaaPoint point, BigInteger scalar)
    {
        if (scalar.IsZero || point.IsIdentity)
        {
            return _identity;
        }

        var k = ToBouncy(scalar);
        var native = Native(point);
        return Wrap(point.IsFixedBase ? _comb.Multiply(native, k) : native.Multiply(k));
    }

    /// <summary>Long-lived bases (<see cref="DaaPoint.IsFixedBase"/>) are multiplied with the fixed-point comb.</summary>
    internal override bool TakesFixedBasePath(DaaPoint point) => point.IsFixedBase && !point.IsIdentity;

    /// <summary>A sum takes the fixed-base path (joint combs) when all its bases are long-lived, else none of its terms does.</summary>
    internal override int FixedBaseTerms(DaaPoint[] points) => points.All(TakesFixedBasePath) ? points.Length : 0;

    private protected override DaaPoint MultiplyAddCore(DaaPoint[] points, BigInteger[] scalars)
    {
        var ps = new BcPoint[points.Length];
        var ks = new BcBigInteger[points.Length];
        for (var i = 0; i < points.Length; i++)
        {
            ps[i] = Native(points[i]);
            ks[i] = ToBouncy(scalars[i]);
        }

        if (FixedBaseTerms(points) == points.Length)
        {
            // Long-lived bases only: pairs by a joint comb over both tables, a last one by its comb.
            var sum = ps.Length % 2 == 1 ? _comb.Multiply(ps[^1], ks[^1]) : _x9.Curve.Infinity;
            for (var i = 0; i + 1 < ps.Length; i += 2)
            {
                sum = sum.Add(JointComb(ps[i], ks[i], ps[i + 1], ks[i + 1]));
            }

            return Wrap(sum);
        }

        // Shamir's trick with w-NAF for two terms, interleaved w-NAF for more.
        return Wrap(ps.Length == 2 ? ECAlgorithms.SumOfTwoMultiplies(ps[0], ks[0], ps[1], ks[1]) : ECAlgorithms.SumOfMultiplies(ps, ks));
    }

    /// <summary>
    /// k·P + l·Q with the fixed-point comb tables of both bases (BouncyCastle's
    /// <c>FixedPointUtilities</c>: width w = 6, 2^w affine entries, d = ⌈256/w⌉ = 43 teeth): per
    /// column one doubling, one addition of the two table entries and one addition into the
    /// accumulator; the tables' offsets are added at the end. Variable-time table lookups, as in
    /// BouncyCastle's own joint comb and the Shamir/w-NAF path these sums took before; some of these
    /// sums carry secret scalars (the issuer's key and proof nonces, the host's kz, kr), see the README's Limits.
    /// </summary>
    private BcPoint JointComb(BcPoint p, BcBigInteger k, BcPoint q, BcBigInteger l)
    {
        var infoP = FixedPointUtilities.Precompute(p);
        var infoQ = FixedPointUtilities.Precompute(q);
        if (infoP.Width != infoQ.Width)
        {
            return _comb.Multiply(p, k).Add(_comb.Multiply(q, l));
        }

        var width = infoP.Width;
        var size = FixedPointUtilities.GetCombSize(_x9.Curve);
        var d = (size + width - 1) / width;
        var top = (d * width) - 1;
        var r = _x9.Curve.Infinity;
        for (var i = 0; i < d; i++)
        {
            int indexK = 0, indexL = 0;
            for (var j = top - i; j >= 0; j -= d)
            {
                indexK = (indexK << 1) | (k.TestBit(j) ? 1 : 0);
                indexL = (indexL << 1) | (l.TestBit(j) ? 1 : 0);
            }

            var t = infoP.LookupTable.LookupVar(indexK).Add(infoQ.LookupTable.LookupVar(indexL));
            r = r.TwicePlus(t);
        }

        return r.Add(infoP.Offset).Add(infoQ.Offset);
    }

    private protected override DaaPoint AddCore(DaaPoint left, DaaPoint right, bool negateRight)
    {
        var r = Native(right);
        return Wrap(Native(left).Add(negateRight ? r.Negate() : r));
    }

    private static BcPoint Native(DaaPoint point) => (BcPoint)point.Native!;

    private static BcBigInteger ToBouncy(BigInteger value)
    {
        // A reduced scalar fits 32 octets: no intermediate arrays beyond the stack buffer.
        Span<byte> bytes = stackalloc byte[32];
        return value.TryWriteBytes(bytes, out var written, isUnsigned: true, isBigEndian: true)
            ? new BcBigInteger(1, bytes[..written])
            : new BcBigInteger(1, value.ToByteArray(isUnsigned: true, isBigEndian: true));
    }

    private static BigInteger ToNumerics(BcBigInteger value) => new(value.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true);

    /// <summary>A result in any coordinates; normalized and encoded only when its encoding is needed.</summary>
    private DaaPoint Wrap(BcPoint point) => point.IsInfinity ? _identity : new DaaPoint(this, point);

    /// <summary>A point that is already affine (decoded, hashed to the curve): encoded now, no inversion.</summary>
    private DaaPoint WrapAffine(BcPoint point)
    {
        var normalized = point.Normalize();
        return normalized.IsInfinity ? _identity : new DaaPoint(this, normalized.GetEncoded(compressed: true), normalized);
    }
}
