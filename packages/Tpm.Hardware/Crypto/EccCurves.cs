using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using ECCurve = System.Security.Cryptography.ECCurve;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace TrustStack.Tpm.Hardware;

/// <summary>One curve the engine implements, with its BouncyCastle and (for NIST curves) .NET forms.</summary>
internal sealed class EccCurveInfo
{
    public EccCurveInfo(TpmEccCurve id, X9ECParameters x9, ECCurve? dotNetCurve)
    {
        Id = id;
        X9 = x9;
        Domain = new ECDomainParameters(x9);
        DotNetCurve = dotNetCurve;
        CoordinateSize = (x9.Curve.FieldSize + 7) / 8;
        OrderSize = (x9.N.BitLength + 7) / 8;
    }

    /// <summary>The TPM curve identifier.</summary>
    public TpmEccCurve Id { get; }

    /// <summary>The curve as BouncyCastle X9 parameters.</summary>
    public X9ECParameters X9 { get; }

    /// <summary>The curve as BouncyCastle domain parameters.</summary>
    public ECDomainParameters Domain { get; }

    /// <summary>The .NET named curve (null for BN_P256, which .NET does not implement).</summary>
    public ECCurve? DotNetCurve { get; }

    /// <summary>Octets in a field element (an x or y coordinate).</summary>
    public int CoordinateSize { get; }

    /// <summary>Octets in a scalar modulo the group order (r, s, d).</summary>
    public int OrderSize { get; }

    /// <summary>The group order n.</summary>
    public BigInteger Order => X9.N;

    /// <summary>Decodes a TPMS_ECC_POINT, failing with TPM_RC_ECC_POINT unless it is a finite point on this curve.</summary>
    public ECPoint DecodePoint(EccPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        if (point.X.Length > CoordinateSize || point.Y.Length > CoordinateSize)
        {
            throw new TpmException(TpmRc.EccPoint, $"ECC point coordinates exceed {CoordinateSize} octets on {Id}");
        }

        var x = new BigInteger(1, point.X);
        var y = new BigInteger(1, point.Y);
        var p = X9.Curve.Field.Characteristic;
        if (x.CompareTo(p) >= 0 || y.CompareTo(p) >= 0)
        {
            throw new TpmException(TpmRc.EccPoint, $"ECC point coordinate is not a field element of {Id}");
        }

        var decoded = X9.Curve.CreatePoint(x, y);
        if (!decoded.IsValid())
        {
            throw new TpmException(TpmRc.EccPoint, $"the point is not on curve {Id}");
        }

        return decoded;
    }

    /// <summary>
    /// A private scalar in [1, n - 1] from <paramref name="random"/>: c from bitlen(n) + 64 random bits,
    /// d = (c mod (n - 1)) + 1 (FIPS 186-4 B.4.1).
    /// </summary>
    public BigInteger RandomScalar(IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var buffer = new byte[OrderSize + 8];
        random.Fill(buffer);
        var c = new BigInteger(1, buffer);
        CryptographicOperations.ZeroMemory(buffer);
        return c.Mod(Order.Subtract(BigInteger.One)).Add(BigInteger.One);
    }

    /// <summary>Encodes a scalar as <see cref="OrderSize"/> big-endian octets.</summary>
    public byte[] EncodeScalar(BigInteger scalar)
    {
        ArgumentNullException.ThrowIfNull(scalar);
        return scalar.ToByteArrayUnsigned().PadLeft(OrderSize);
    }

    /// <summary>Encodes an affine point as a TPMS_ECC_POINT with fixed-size coordinates.</summary>
    public EccPoint EncodePoint(ECPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        var normal = point.Normalize();
        return new EccPoint(
            normal.AffineXCoord.ToBigInteger().ToByteArrayUnsigned().PadLeft(CoordinateSize),
            normal.AffineYCoord.ToBigInteger().ToByteArrayUnsigned().PadLeft(CoordinateSize));
    }
}

/// <summary>The curves of the engine: NIST P-256, NIST P-384 and BN_P256 (TCG Algorithm Registry).</summary>
internal static class EccCurves
{
    private static readonly Lazy<EccCurveInfo> P256 = new(() => new EccCurveInfo(TpmEccCurve.NistP256, CustomNamedCurves.GetByName("P-256"), ECCurve.NamedCurves.nistP256));
    private static readonly Lazy<EccCurveInfo> P384 = new(() => new EccCurveInfo(TpmEccCurve.NistP384, CustomNamedCurves.GetByName("P-384"), ECCurve.NamedCurves.nistP384));
    private static readonly Lazy<EccCurveInfo> BnP256 = new(CreateBnP256);

    /// <summary>The curves <see cref="Get"/> accepts.</summary>
    public static IReadOnlyList<TpmEccCurve> Supported { get; } = [TpmEccCurve.NistP256, TpmEccCurve.NistP384, TpmEccCurve.BnP256];

    /// <summary>True for NIST P-256, NIST P-384 and BN_P256.</summary>
    public static bool IsSupported(TpmEccCurve curve) => curve is TpmEccCurve.NistP256 or TpmEccCurve.NistP384 or TpmEccCurve.BnP256;

    /// <summary>The curve's parameters (cached).</summary>
    /// <exception cref="TpmException">TPM_RC_CURVE: the curve is not implemented.</exception>
    public static EccCurveInfo Get(TpmEccCurve curve) => curve switch
    {
        TpmEccCurve.NistP256 => P256.Value,
        TpmEccCurve.NistP384 => P384.Value,
        TpmEccCurve.BnP256 => BnP256.Value,
        _ => throw new TpmException(TpmRc.Curve, $"ECC curve {curve} is not implemented"),
    };

    /// <summary>The BouncyCastle X9 parameters of <paramref name="curve"/>.</summary>
    public static X9ECParameters GetX9(TpmEccCurve curve) => Get(curve).X9;

    /// <summary>The .NET curve of a NIST curve.</summary>
    /// <exception cref="TpmException">TPM_RC_CURVE: no .NET form (BN_P256) or not implemented.</exception>
    public static ECCurve GetDotNetCurve(TpmEccCurve curve) =>
        Get(curve).DotNetCurve ?? throw new TpmException(TpmRc.Curve, $"ECC curve {curve} has no .NET implementation");

    /// <summary>Octets in a coordinate of <paramref name="curve"/>.</summary>
    public static int CoordinateSize(TpmEccCurve curve) => Get(curve).CoordinateSize;

    /// <summary>Left-pads (or, for a value with leading zero octets, trims) big-endian octets to <paramref name="size"/>.</summary>
    internal static byte[] PadLeft(this byte[] value, int size)
    {
        if (value.Length == size)
        {
            return value;
        }

        var result = new byte[size];
        if (value.Length < size)
        {
            value.CopyTo(result, size - value.Length);
        }
        else
        {
            var excess = value.Length - size;
            for (var i = 0; i < excess; i++)
            {
                if (value[i] != 0)
                {
                    throw new ArgumentException($"The value does not fit in {size} octets.", nameof(value));
                }
            }

            value.AsSpan(excess).CopyTo(result);
        }

        return result;
    }

    // TCG Algorithm Registry, TPM_ECC_BN_P256: y^2 = x^3 + 3 over F_p, G = (1, 2), cofactor 1.
    private static EccCurveInfo CreateBnP256()
    {
        var p = new BigInteger("FFFFFFFFFFFCF0CD46E5F25EEE71A49F0CDC65FB12980A82D3292DDBAED33013", 16);
        var n = new BigInteger("FFFFFFFFFFFCF0CD46E5F25EEE71A49E0CDC65FB1299921AF62D536CD10B500D", 16);
        var curve = new FpCurve(p, BigInteger.Zero, BigInteger.Three, n, BigInteger.One);
        var g = curve.CreatePoint(BigInteger.One, BigInteger.Two);
        return new EccCurveInfo(TpmEccCurve.BnP256, new X9ECParameters(curve, new X9ECPoint(g, compressed: false), n, BigInteger.One), null);
    }
}
