using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace TrustStack.Tpm.Hardware.Tests;

public class EccCurvesTests
{
    [Theory]
    [InlineData(TpmEccCurve.NistP256, 32)]
    [InlineData(TpmEccCurve.NistP384, 48)]
    [InlineData(TpmEccCurve.BnP256, 32)]
    public void CoordinateSize_SupportedCurves_Expected(TpmEccCurve curve, int size)
    {
        Assert.Equal(size, EccCurves.CoordinateSize(curve));
        Assert.Equal(size, EccCurves.Get(curve).OrderSize);
    }

    [Theory]
    [InlineData(TpmEccCurve.NistP192)]
    [InlineData(TpmEccCurve.NistP521)]
    [InlineData(TpmEccCurve.None)]
    public void Get_UnsupportedCurve_ThrowsCurve(TpmEccCurve curve)
    {
        var e = Assert.Throws<TpmException>(() => EccCurves.Get(curve));

        Assert.Equal(TpmRc.Curve, e.ResponseCode);
    }

    [Fact]
    public void GetDotNetCurve_BnP256_ThrowsCurve()
    {
        Assert.Equal(TpmRc.Curve, Assert.Throws<TpmException>(() => EccCurves.GetDotNetCurve(TpmEccCurve.BnP256)).ResponseCode);
    }

    [Theory]
    [InlineData(TpmEccCurve.NistP256)]
    [InlineData(TpmEccCurve.NistP384)]
    public void GetX9_NistCurve_MatchesDotNetCurveParameters(TpmEccCurve curve)
    {
        using var key = System.Security.Cryptography.ECDsa.Create(EccCurves.GetDotNetCurve(curve));
        var explicitCurve = key.ExportExplicitParameters(false).Curve;
        var x9 = EccCurves.GetX9(curve);

        Assert.Equal(new BcBigInteger(1, explicitCurve.Prime), x9.Curve.Field.Characteristic);
        Assert.Equal(new BcBigInteger(1, explicitCurve.Order), x9.N);
        Assert.Equal(new BcBigInteger(1, explicitCurve.G.X), x9.G.Normalize().AffineXCoord.ToBigInteger());
    }

    [Fact]
    public void BnP256_Parameters_AreTheBarretoNaehrigCurveOfTheRegistry()
    {
        // p = 36u^4 + 36u^3 + 24u^2 + 6u + 1 and n = 36u^4 + 36u^3 + 18u^2 + 6u + 1 with
        // u = -0x6882F5C030B0A801 (recovered from p - n = 6u^2).
        var u = new BcBigInteger("6882F5C030B0A801", 16).Negate();
        BcBigInteger Poly(int c2)
        {
            var u2 = u.Multiply(u);
            return u2.Multiply(u2).Multiply(BcBigInteger.ValueOf(36))
                .Add(u2.Multiply(u).Multiply(BcBigInteger.ValueOf(36)))
                .Add(u2.Multiply(BcBigInteger.ValueOf(c2)))
                .Add(u.Multiply(BcBigInteger.ValueOf(6)))
                .Add(BcBigInteger.One);
        }

        var x9 = EccCurves.GetX9(TpmEccCurve.BnP256);

        Assert.Equal(Poly(24), x9.Curve.Field.Characteristic);
        Assert.Equal(Poly(18), x9.N);
        Assert.True(x9.N.IsProbablePrime(64));
        Assert.True(x9.Curve.Field.Characteristic.IsProbablePrime(64));
        Assert.True(x9.G.IsValid());
        Assert.True(x9.G.Multiply(x9.N).IsInfinity);
        Assert.Equal(BcBigInteger.One, x9.G.Normalize().AffineXCoord.ToBigInteger());
        Assert.Equal(BcBigInteger.Two, x9.G.Normalize().AffineYCoord.ToBigInteger());
    }

    [Fact]
    public void Get_SameCurveTwice_ReturnsCachedInstance()
    {
        Assert.Same(EccCurves.Get(TpmEccCurve.NistP256), EccCurves.Get(TpmEccCurve.NistP256));
    }

    [Theory]
    [InlineData(TpmEccCurve.NistP256)]
    [InlineData(TpmEccCurve.NistP384)]
    [InlineData(TpmEccCurve.BnP256)]
    public void DecodePoint_EncodedPoint_RoundTrips(TpmEccCurve id)
    {
        var curve = EccCurves.Get(id);
        var point = curve.Domain.G.Multiply(BcBigInteger.ValueOf(12345));

        var encoded = curve.EncodePoint(point);

        Assert.Equal(curve.CoordinateSize, encoded.X.Length);
        Assert.True(curve.DecodePoint(encoded).Equals(point.Normalize()));
    }

    [Fact]
    public void DecodePoint_PointOffCurve_ThrowsEccPoint()
    {
        var curve = EccCurves.Get(TpmEccCurve.NistP256);
        var g = curve.EncodePoint(curve.Domain.G);
        var bad = new EccPoint(g.X, g.Y.ToArray());
        bad.Y[^1] ^= 1;

        Assert.Equal(TpmRc.EccPoint, Assert.Throws<TpmException>(() => curve.DecodePoint(bad)).ResponseCode);
    }

    [Fact]
    public void DecodePoint_CoordinateTooLong_ThrowsEccPoint()
    {
        var curve = EccCurves.Get(TpmEccCurve.NistP256);

        Assert.Equal(TpmRc.EccPoint, Assert.Throws<TpmException>(() => curve.DecodePoint(new EccPoint(new byte[33], new byte[32]))).ResponseCode);
    }

    [Fact]
    public void RandomScalar_SameRandom_SameScalarInRange()
    {
        var curve = EccCurves.Get(TpmEccCurve.NistP384);
        using var a = DeterministicRandomSource.FromSeed(1);
        using var b = DeterministicRandomSource.FromSeed(1);

        var d = curve.RandomScalar(a);

        Assert.Equal(d, curve.RandomScalar(b));
        Assert.True(d.SignValue > 0 && d.CompareTo(curve.Order) < 0);
    }
}
