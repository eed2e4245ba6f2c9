using System.Numerics;

namespace TrustStack.Tpm.Hardware.Tests;

public class RsaPrimesTests
{
    [Theory]
    [InlineData("170141183460469231731687303715884105727")] // 2^127 - 1
    [InlineData("6864797660130609714981900799081393217269435300143305409394463459185543183397656052122559640661454554977296311391480858037121987999716643812574028291115057151")] // 2^521 - 1
    [InlineData("65537")]
    [InlineData("3")]
    public void IsProbablePrime_KnownPrime_True(string value)
    {
        using var random = DeterministicRandomSource.FromSeed(1);

        Assert.True(RsaPrimes.IsProbablePrime(BigInteger.Parse(value), 10, random));
    }

    [Theory]
    [InlineData("561")] // Carmichael
    [InlineData("41041")] // Carmichael
    [InlineData("3825123056546413051")] // strong pseudoprime to bases 2..23
    [InlineData("340282366920938463463374607431768211457")] // 2^128 + 1 = 59649589127497217 · 5704689200685129054721
    [InlineData("1")]
    [InlineData("1000000000000000000000000000000000000")]
    public void IsProbablePrime_Composite_False(string value)
    {
        using var random = DeterministicRandomSource.FromSeed(1);

        Assert.False(RsaPrimes.IsProbablePrime(BigInteger.Parse(value), 10, random));
    }

    [Fact]
    public void Montgomery_ModPow_MatchesBigIntegerModPow()
    {
        using var random = DeterministicRandomSource.FromSeed(99);
        foreach (var bits in new[] { 64, 65, 127, 512, 1000, 1024 })
        {
            for (var i = 0; i < 5; i++)
            {
                var modulus = RandomOdd(random, bits);
                var b = RandomBelow(random, modulus);
                var e = RandomOdd(random, bits);
                var mont = new RsaPrimes.Montgomery(modulus);
                var result = mont.NewValue();

                mont.ModPow(b, e.ToByteArray(isUnsigned: true, isBigEndian: true), result);

                Assert.Equal(BigInteger.ModPow(b, e, modulus), mont.FromMontgomery(result));
            }
        }
    }

    [Fact]
    public void Montgomery_StrongTestBase2_MatchesBigIntegerReference()
    {
        using var random = DeterministicRandomSource.FromSeed(17);
        foreach (var bits in new[] { 64, 65, 127, 512, 1000, 1024 })
        {
            for (var i = 0; i < 20; i++)
            {
                var w = i % 4 == 0 && bits % 8 == 0 ? RsaPrimes.GeneratePrime(bits, 65537, random) : RandomOdd(random, bits);
                var mont = new RsaPrimes.Montgomery(w);

                Assert.Equal(IsStrongProbablePrime(w, 2), mont.IsStrongProbablePrimeBase2());
            }
        }
    }

    [Theory]
    [InlineData("2047")] // 23 · 89, the smallest strong pseudoprime to base 2
    [InlineData("3825123056546413051")] // strong pseudoprime to bases 2..23
    [InlineData("340282366920938463463374607431768211457")] // 2^128 + 1 (a Fermat number)
    public void Montgomery_StrongTestBase2_StrongPseudoprime_PassesButRandomBasesReject(string value)
    {
        var w = BigInteger.Parse(value);
        using var random = DeterministicRandomSource.FromSeed(1);

        Assert.True(new RsaPrimes.Montgomery(w).IsStrongProbablePrimeBase2());
        Assert.False(RsaPrimes.IsProbablePrime(w, 10, random));
    }

    [Fact]
    public void GeneratePrime_ExponentThree_PMinusOneIsCoprimeToIt()
    {
        using var random = DeterministicRandomSource.FromSeed(23);
        for (var i = 0; i < 5; i++)
        {
            var p = RsaPrimes.GeneratePrime(512, 3, random);

            Assert.NotEqual(BigInteger.Zero, (p - 1) % 3);
        }
    }

    [Fact]
    public void GeneratePrime_SameRandom_SamePrimeOfExactSize()
    {
        using var a = DeterministicRandomSource.FromSeed(5);
        using var b = DeterministicRandomSource.FromSeed(5);
        using var check = DeterministicRandomSource.FromSeed(6);

        var p = RsaPrimes.GeneratePrime(512, 65537, a);

        Assert.Equal(p, RsaPrimes.GeneratePrime(512, 65537, b));
        Assert.Equal(512, p.GetBitLength());
        Assert.True(RsaPrimes.IsProbablePrime(p, 20, check));
        Assert.NotEqual(BigInteger.Zero, (p - 1) % 65537);
    }

    [Fact]
    public void GeneratePair_Rsa2048_ModulusHasExactSizeAndDistinctPrimes()
    {
        using var random = DeterministicRandomSource.FromSeed(8);

        var (p, q) = RsaPrimes.GeneratePair(2048, 65537, random);

        Assert.Equal(2048, (p * q).GetBitLength());
        Assert.NotEqual(p, q);
    }

    [Fact]
    public void GeneratePair_BadKeySize_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RsaPrimes.GeneratePair(1000, 65537, SystemRandomSource.Instance));
    }

    private static BigInteger RandomOdd(IRandomSource random, int bits)
    {
        var bytes = random.GetBytes((bits + 7) / 8);
        var value = new BigInteger(bytes, isUnsigned: true) & ((BigInteger.One << bits) - 1);
        return value | (BigInteger.One << (bits - 1)) | BigInteger.One;
    }

    private static bool IsStrongProbablePrime(BigInteger w, BigInteger b)
    {
        var m = w - 1;
        var a = 0;
        while (m.IsEven)
        {
            m >>= 1;
            a++;
        }

        var x = BigInteger.ModPow(b, m, w);
        if (x.IsOne || x == w - 1)
        {
            return true;
        }

        for (var j = 1; j < a; j++)
        {
            x = x * x % w;
            if (x == w - 1)
            {
                return true;
            }
        }

        return false;
    }

    private static BigInteger RandomBelow(IRandomSource random, BigInteger bound)
    {
        var bytes = random.GetBytes(bound.GetByteCount(isUnsigned: true) + 8);
        return new BigInteger(bytes, isUnsigned: true) % bound;
    }
}
