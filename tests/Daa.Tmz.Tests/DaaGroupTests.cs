using System.Numerics;
using System.Security.Cryptography;
using FsCheck.Xunit;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz.Tests;

public sealed class DaaGroupTests
{
    public static TheoryData<string> Groups => new() { "ristretto255", "p256" };

    [Property(MaxTest = 40)]
    public bool Multiply_SumOfScalars_IsSumOfProducts(ulong seed, bool ristretto)
    {
        var g = ristretto ? DaaGroup.Ristretto255 : DaaGroup.P256;
        using var random = DeterministicRandomSource.FromSeed(seed);
        var a = g.RandomScalar(random);
        var b = g.RandomScalar(random);
        var p = g.Multiply(g.H, g.RandomScalar(random));
        var left = g.Multiply(p, a + b);
        var right = g.Add(g.Multiply(p, a), g.Multiply(p, b));
        return left.Equals(right);
    }

    [Property(MaxTest = 40)]
    public bool MultiplyAdd_ThreeTerms_EqualsSeparateProducts(ulong seed, bool ristretto)
    {
        var g = ristretto ? DaaGroup.Ristretto255 : DaaGroup.P256;
        using var random = DeterministicRandomSource.FromSeed(seed);
        var (a, b, c) = (g.RandomScalar(random), g.RandomScalar(random), -g.RandomScalar(random));
        var q = g.Multiply(g.Generator, g.RandomScalar(random));
        var msm = g.MultiplyAdd([(g.Generator, a), (g.H, b), (q, c)]);
        var separate = g.Add(g.Add(g.Multiply(g.Generator, a), g.Multiply(g.H, b)), g.Multiply(q, c));
        return msm.Equals(separate);
    }

    [Property(MaxTest = 40)]
    public bool Decode_CanonicalEncoding_RoundTrips(ulong seed, bool ristretto)
    {
        var g = ristretto ? DaaGroup.Ristretto255 : DaaGroup.P256;
        using var random = DeterministicRandomSource.FromSeed(seed);
        var p = g.Multiply(g.Generator, g.RandomScalar(random));
        return g.Decode(p.Encoding).Equals(p) && p.Encoding.Length == g.PointSize;
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Multiply_ByOrder_IsIdentity(string name)
    {
        var g = DaaGroup.FromName(name);
        Assert.True(g.Multiply(g.H, g.Order).IsIdentity);
        Assert.True(g.Multiply(g.Generator, g.Order - 1).Equals(g.Subtract(g.Identity, g.Generator)));
        Assert.True(g.Decode(g.Identity.Encoding).IsIdentity);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Decode_NonCanonical_Throws(string name)
    {
        var g = DaaGroup.FromName(name);
        var bytes = g.Generator.ToArray();
        bytes[^1] ^= 0xFF;
        bytes[0] = 0xFF;
        Assert.Throws<CryptographicException>(() => g.Decode(bytes));
        Assert.Throws<CryptographicException>(() => g.Decode(new byte[5]));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void HashToGroup_DomainSeparated_DifferentElements(string name)
    {
        var g = DaaGroup.FromName(name);
        var a = g.HashToGroup("A", "x"u8);
        Assert.Equal(a, g.HashToGroup("A", "x"u8));
        Assert.NotEqual(a, g.HashToGroup("B", "x"u8));
        Assert.NotEqual(a, g.HashToGroup("A", "y"u8));
        Assert.NotEqual(g.Generator, g.H);
    }

    [Fact]
    public void HashToGroup_P256_WitnessHashesToX()
    {
        var j = TmzVerifier.BasenamePoint(DaaGroup.P256, "basename"u8);
        var p = BigInteger.Parse("0FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF", System.Globalization.NumberStyles.HexNumber);
        var x = new BigInteger(SHA256.HashData(j.S2!), isUnsigned: true, isBigEndian: true) % p;
        Assert.Equal(x, new BigInteger(j.Point.Encoding[1..], isUnsigned: true, isBigEndian: true));
        Assert.Equal(0, j.Y2![^1] & 1);
        Assert.True(j.S2!.Length <= 128);
    }

    [Fact]
    public void Multiply_Counter_RecordsTermsAndAdditions()
    {
        var g = DaaGroup.P256;
        var counter = new DaaOpCounter();
        g.MultiplyAdd([(g.Generator, 2), (g.H, 3), (g.H, 4)], counter);
        g.Multiply(g.H, 5, counter);
        g.Add(g.H, g.H, counter);
        g.HashToScalar("d", [[1]], counter);
        g.HashToGroup("d", [1], counter);
        Assert.Equal(new DaaOpCounts(4, 1, 3, 1, 1, 4), counter.Snapshot());
    }

    [Fact]
    public void Multiply_CounterP256_FixedBaseOnlyWhenAllBasesAreLongLived()
    {
        var g = DaaGroup.P256;
        var counter = new DaaOpCounter();
        var fresh = g.HashToGroup("fresh", [7]);
        g.MultiplyAdd([(g.Generator, 2), (fresh, 3)], counter);   // Shamir's trick (w-NAF): no fixed-base term
        g.Multiply(fresh, 5, counter);
        g.MultiplyAdd([(g.Generator, 2), (g.H, 3)], counter);     // joint comb: both terms
        g.Multiply(g.Generator, 5, counter);
        Assert.Equal(new DaaOpCounts(6, 2, 2, 0, 0, 3), counter.Snapshot());
    }

    [Fact]
    public void Multiply_CounterRistretto255_FixedBaseOnlyForTheGenerator()
    {
        var g = DaaGroup.Ristretto255;
        var counter = new DaaOpCounter();
        g.MultiplyAdd([(g.Generator, 2), (g.H, 3)], counter);     // libsodium: base-point table for G, H variable
        g.Multiply(g.H, 5, counter);
        g.Multiply(g.Generator, 5, counter);
        Assert.Equal(new DaaOpCounts(4, 1, 1, 0, 0, 2), counter.Snapshot());
    }

    [Property(MaxTest = 40)]
    public bool Multiply_FixedBase_EqualsVariableBase(ulong seed, bool ristretto)
    {
        var g = ristretto ? DaaGroup.Ristretto255 : DaaGroup.P256;
        using var random = DeterministicRandomSource.FromSeed(seed);
        var (k, m) = (g.RandomScalar(random), g.RandomScalar(random));
        var encoding = g.Multiply(g.H, g.RandomScalar(random)).ToArray();
        var variable = g.Decode(encoding);
        var fixedBase = g.FixedBase(g.Decode(encoding));
        var other = g.FixedBase(g.Multiply(g.Generator, g.RandomScalar(random)));
        return g.Multiply(fixedBase, k).Equals(g.Multiply(variable, k))
            && g.MultiplyAdd([(fixedBase, k), (other, -m)]).Equals(g.Subtract(g.Multiply(variable, k), g.Multiply(g.Decode(other.Encoding), m)))
            && g.MultiplyAdd([(fixedBase, k), (variable, m)]).Equals(g.Multiply(variable, k + m))
            && g.MultiplyAdd([(fixedBase, k), (other, m), (g.H, k)]).Equals(g.Add(g.Add(g.Multiply(variable, k), g.Multiply(g.Decode(other.Encoding), m)), g.Multiply(g.H, k)));
    }

    [Fact]
    public void P256_Curve_IsBouncyCastleCustomSecP256R1()
    {
        var p256 = (P256Group)DaaGroup.P256;
        Assert.Equal("SecP256R1Curve", p256.Curve.GetType().Name);  // internal in BouncyCastle: the custom special-form curve, not an FpCurve
        Assert.IsNotType<Org.BouncyCastle.Math.EC.FpCurve>(p256.Curve);
        Assert.True(DaaGroup.P256.Generator.IsFixedBase);
        Assert.True(DaaGroup.P256.H.IsFixedBase);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Add_InverseOfUnencodedResult_IsIdentity(string name)
    {
        var g = DaaGroup.FromName(name);
        var p = g.Multiply(g.H, 7);
        var q = g.Multiply(g.Generator, 11);
        var sum = g.Add(p, q);
        Assert.True(g.Subtract(sum, g.Add(q, p)).IsIdentity);
        Assert.True(g.Add(p, g.Multiply(p, g.Order - 1)).IsIdentity);
        Assert.Equal(g.Decode(sum.Encoding), sum);
    }

    [Fact]
    public void FromName_Unknown_Throws() => Assert.Throws<ArgumentException>(() => DaaGroup.FromName("bn254"));
}
