using System.Numerics;
using System.Security.Cryptography;
using FsCheck.Xunit;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz.Tests;

public sealed class BnP256Tests
{
    // TCG Algorithm Registry / TPM 2.0 Part 4 (ms-tpm-20-ref CurveDataBN_P256), ISO/IEC 15946-5 BN P256.
    private const string TcgP = "FFFFFFFFFFFCF0CD46E5F25EEE71A49F0CDC65FB12980A82D3292DDBAED33013";
    private const string TcgN = "FFFFFFFFFFFCF0CD46E5F25EEE71A49E0CDC65FB1299921AF62D536CD10B500D";

    // The TCG/FIDO ECDAA G2 generator P2 (x = x.a + x.b·i, y = y.a + y.b·i).
    private const string TcgP2 =
        "FE0C3350B4C96C2028560F577C28913ACE1C539A12BF843CD22616B689C09EFB" +
        "4EA66057738AC054DB5AE1C637D813B924DD78E287D03589D269ED34A37E6A2B" +
        "8FDFB9183ABA4D19D06EE4E9DC23664D1D1141858536B239EA1F7959EFF70814" +
        "FAAB1C432C742E3D03F74C15C4F2F1FF818FA77A907D71CEF316ACCA64262B78";

    private static BigInteger Hex(string hex) => BigInteger.Parse("0" + hex, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Constants_TcgBnP256_MatchTheBnPolynomialsOfU()
    {
        var u = BnP256.U;
        Assert.Equal(-Hex("6882F5C030B0A801"), u);
        Assert.Equal(Hex(TcgP), BnP256.FieldPrime);
        Assert.Equal(Hex(TcgN), BnP256.Order);
        Assert.Equal((36 * BigInteger.Pow(u, 4)) + (36 * BigInteger.Pow(u, 3)) + (24 * u * u) + (6 * u) + 1, BnP256.FieldPrime);
        Assert.Equal((36 * BigInteger.Pow(u, 4)) + (36 * BigInteger.Pow(u, 3)) + (18 * u * u) + (6 * u) + 1, BnP256.Order);
    }

    [Fact]
    public void G1Generator_TcgValue_IsOneTwoOnTheCurveOfOrderR()
    {
        var p1 = BnP256.G1Generator;
        var expected = new byte[65];
        expected[0] = 4;
        expected[32] = 1;
        expected[64] = 2;
        Assert.Equal(expected, p1.ToArray());
        Assert.Equal(p1, BnG1Point.Decode(expected));
        Assert.True(p1.Multiply(BnP256.Order - 1).Add(p1).IsIdentity);
    }

    [Fact]
    public void G2Generator_TcgValue_OnTheTwistAndInG2()
    {
        var p2 = BnP256.G2Generator;
        Assert.Equal(Convert.FromHexString(TcgP2), p2.ToArray());
        var (x, y) = p2.Affine();
        Assert.True(G2Jacobian.IsOnCurve(x, y));
        Assert.True(p2.IsInSubgroup());
        Assert.Equal(p2, BnG2Point.Decode(Convert.FromHexString(TcgP2)));
    }

    [Fact]
    public void Decode_TwistPointOutsideG2_Rejected()
    {
        // A point of E'(Fp2) whose order is not r: the twist's cofactor is 2p − r, not 1.
        for (var i = 1; ; i++)
        {
            var x = Fp2.FromBigIntegers(i, 1);
            if ((x.Square() * x) + G2Jacobian.TwistB is var rhs && rhs.Sqrt() is not Fp2 y)
            {
                continue;
            }

            var point = new BnG2Point(G2Jacobian.FromAffine(x, y));
            Assert.True(G2Jacobian.IsOnCurve(x, y));
            Assert.False(point.IsInSubgroup());
            Assert.Throws<CryptographicException>(() => BnG2Point.Decode(point.ToArray()));
            return;
        }
    }

    [Fact]
    public void Decode_G1PointOffTheCurve_Rejected()
    {
        var bad = BnP256.G1Generator.ToArray();
        bad[64] = 3;
        Assert.Throws<CryptographicException>(() => BnG1Point.Decode(bad));
    }

    [Fact]
    public void FrobeniusTwist_G2Point_EqualsMultiplicationByP()
    {
        var q = BnP256.G2Generator.Multiply(12345);
        var (x, y) = BnPairing.FrobeniusTwist(q.Affine());
        var expected = q.Multiply(BnP256.FieldPrime % BnP256.Order);
        Assert.Equal(expected, new BnG2Point(G2Jacobian.FromAffine(x, y)));
    }

    [Property(MaxTest = 100)]
    public bool FpMultiply_RandomOperands_MatchesBigInteger(ulong seed)
    {
        using var random = DeterministicRandomSource.FromSeed(seed);
        var p = BnP256.FieldPrime;
        var a = new BigInteger(random.GetBytes(40), isUnsigned: true) % p;
        var b = new BigInteger(random.GetBytes(40), isUnsigned: true) % p;
        var (fa, fb) = (Fp.FromBigInteger(a), Fp.FromBigInteger(b));
        return (fa * fb).ToBigInteger() == a * b % p
            && (fa + fb).ToBigInteger() == (a + b) % p
            && (fa - fb).ToBigInteger() == (((a - b) % p) + p) % p
            && (fa * fa.Invert()).ToBigInteger() == (a.IsZero ? 0 : 1);
    }

    [Property(MaxTest = 30)]
    public bool G1Multiply_RandomScalars_MatchesBouncyCastleAndIsLinear(ulong seed)
    {
        using var random = DeterministicRandomSource.FromSeed(seed);
        var (a, b) = (BnP256.RandomScalar(random), BnP256.RandomScalar(random));
        var p = BnP256.G1Generator.Multiply(BnP256.RandomScalar(random));
        var q = BnP256.G1Generator.Multiply(BnP256.RandomScalar(random));
        var bouncy = new BnG1Point(p.Native.Multiply(BnP256.ToBouncy(a)));
        return p.Multiply(a).Equals(bouncy)
            && p.MultiplyAdd(a, q, -b).Equals(p.Multiply(a).Add(q.Multiply(b).Negate()))
            && p.Multiply(a + b).Equals(p.Multiply(a).Add(p.Multiply(b)));
    }

    [Property(MaxTest = 20)]
    public bool Fp12Invert_RandomElement_ProductIsOne(ulong seed)
    {
        var f = BnPairing.MillerLoop(Fp.FromBigInteger(seed + 7), Fp.FromBigInteger(seed), BnP256.G2Generator.Affine());
        return (f * f.Invert()).IsOne && f.Square() == f * f && f.Frobenius().Frobenius() == f.Pow(BigInteger.Pow(BnP256.FieldPrime, 2));
    }

    [Property(MaxTest = 20)]
    public bool Fp12MulByLine_SparseLine_EqualsFullMultiplication(ulong seed)
    {
        var f = BnPairing.MillerLoop(Fp.FromBigInteger(seed + 5), Fp.FromBigInteger(seed + 9), BnP256.G2Generator.Affine());
        var (c0, c1, c3) = (Fp2.FromBigIntegers(seed, 3), Fp2.FromBigIntegers(7, seed + 1), Fp2.FromBigIntegers(seed + 2, seed));
        var line = new Fp12(new Fp6(c0, c1, Fp2.Zero), new Fp6(Fp2.Zero, c3, Fp2.Zero));
        return f.MulByLine(c0, c1, c3) == f * line;
    }

    [Property(MaxTest = 3)]
    public bool FinalExponentiation_AdditionChain_EqualsPlainExponentiation(ulong seed)
    {
        var f = BnPairing.MillerLoop(Fp.FromBigInteger(seed + 3), Fp.FromBigInteger(seed + 11), BnP256.G2Generator.Affine());
        return BnPairing.FinalExponentiation(f) == BnPairing.FinalExponentiationReference(f);
    }

    [Property(MaxTest = 6)]
    public bool Pair_RandomScalars_Bilinear(ulong seed)
    {
        using var random = DeterministicRandomSource.FromSeed(seed);
        var a = BnP256.RandomScalar(random);
        var b = BnP256.RandomScalar(random);
        var e = BnP256.Pair(BnP256.G1Generator, BnP256.G2Generator);
        var eab = BnP256.Pair(BnP256.G1Generator.Multiply(a), BnP256.G2Generator.Multiply(b));
        return eab.Equals(e.Pow(a * b)) && eab.Equals(BnP256.Pair(BnP256.G1Generator.Multiply(a * b), BnP256.G2Generator));
    }

    [Fact]
    public void Pair_SumInFirstArgument_IsProduct()
    {
        var p = BnP256.G1Generator.Multiply(77);
        var r = BnP256.G1Generator.Multiply(1001);
        var q = BnP256.G2Generator.Multiply(5);
        Assert.Equal(BnP256.Pair(p, q).Multiply(BnP256.Pair(r, q)), BnP256.Pair(p.Add(r), q));
        Assert.True(BnP256.Pair(p, q).Multiply(BnP256.Pair(p.Negate(), q)).IsOne);
    }

    [Fact]
    public void Pair_Generators_NonDegenerateOfOrderR()
    {
        var e = BnP256.Pair(BnP256.G1Generator, BnP256.G2Generator);
        Assert.False(e.IsOne);
        Assert.True(e.Pow(BnP256.Order).IsOne);
        Assert.True(BnP256.Pair(BnP256.G1Identity, BnP256.G2Generator).IsOne);
    }

    [Fact]
    public void Pair_Counter_CountsPairingsAndExponentiations()
    {
        var counter = new EcdaaOpCounter();
        var e = BnP256.Pair(BnP256.G1Generator, BnP256.G2Generator, counter);
        e.Pow(3, counter);
        BnP256.G2Generator.Multiply(3, counter);
        BnP256.G1Generator.MultiplyAdd(2, BnP256.G1Generator, 3, counter);
        Assert.Equal(new EcdaaOpCounts(2, 1, 1, 1, 1, 1, 0, 0), counter.Snapshot());
    }

    [Property(MaxTest = 4)]
    public bool PairProduct_RandomPairs_EqualsProductOfSinglePairings(ulong seed)
    {
        using var random = DeterministicRandomSource.FromSeed(seed);
        var p = BnP256.G1Generator.Multiply(BnP256.RandomScalar(random));
        var r = BnP256.G1Generator.Multiply(BnP256.RandomScalar(random));
        var q = BnP256.G2Generator.Multiply(BnP256.RandomScalar(random));
        var s = BnP256.G2Generator.Multiply(BnP256.RandomScalar(random));
        var counter = new EcdaaOpCounter();
        var product = BnP256.PairProduct([(p, q), (r, s), (BnP256.G1Identity, s), (p, BnP256.G2Identity)], counter);
        return product.Equals(BnP256.Pair(p, q).Multiply(BnP256.Pair(r, s)))
            && BnP256.PairProduct([(p, q), (p.Negate(), q)]).IsOne
            && counter.Snapshot().Pairings == 4;
    }

    [Fact]
    public void PairProduct_NoPairs_IsOne() => Assert.True(BnP256.PairProduct([]).IsOne);

    [Property(MaxTest = 5)]
    public bool MillerLoop_PreparedG2_EqualsUnprepared(ulong seed)
    {
        var (x, y) = BnP256.G1Generator.Multiply(seed + 2).AffineFp();
        var q = BnP256.G2Generator.Multiply(seed + 3);
        var unprepared = BnPairing.MillerLoop(x, y, q.Affine());
        var prepared = BnPairing.MillerLoop([(x, y, BnPairing.Prepare(q.Affine()))]);
        return prepared == unprepared
            && BnP256.Pair(BnP256.G1Generator.Multiply(seed + 2), q).Equals(new BnGtElement(BnPairing.FinalExponentiation(unprepared)));
    }

    [Fact]
    public void LoopNaf_SixUPlusTwo_NonAdjacentSignedDigitsOfItsAbsoluteValue()
    {
        var expected = BigInteger.Abs((6 * BnP256.U) + 2);
        Assert.Equal(expected, Value(BnPairing.LoopNaf));
        Assert.Equal(BigInteger.Abs(BnP256.U), Value(BnPairing.UNaf));
        Assert.Equal(1, BnPairing.LoopNaf[^1]);
        for (var i = 1; i < BnPairing.LoopNaf.Length; i++)
        {
            Assert.False(BnPairing.LoopNaf[i] != 0 && BnPairing.LoopNaf[i - 1] != 0);
        }
    }

    [Property(MaxTest = 10)]
    public bool CyclotomicSquare_CyclotomicElement_EqualsGenericSquare(ulong seed)
    {
        var f = BnPairing.MillerLoop(Fp.FromBigInteger(seed + 13), Fp.FromBigInteger(seed + 1), BnP256.G2Generator.Affine());
        var g = BnPairing.EasyPart(f);
        var exponent = new BigInteger(seed) + 12345;
        return g.CyclotomicSquare() == g.Square()
            && g.CyclotomicPow(ScalarRecoding.Wnaf(exponent, 2)) == g.Pow(exponent)
            && f.CyclotomicSquare() != f.Square(); // not in the cyclotomic subgroup: the shortcut does not apply
    }

    [Property(MaxTest = 10)]
    public bool GtPow_AnyExponent_EqualsPlainExponentiationModR(ulong seed)
    {
        var e = BnP256.Pair(BnP256.G1Generator.Multiply(seed + 1), BnP256.G2Generator);
        var k = new BigInteger(seed) * 7919;
        return e.Pow(k).Value == e.Value.Pow(k)
            && e.Pow(-k).Multiply(e.Pow(k)).IsOne
            && e.Pow(BnP256.Order + 5).Equals(e.Pow(5));
    }

    [Property(MaxTest = 200)]
    public bool Wnaf_AnyScalar_SignedDigitsSumToItWithTheWindowProperty(ulong seed, byte window)
    {
        using var random = DeterministicRandomSource.FromSeed(seed);
        var k = new BigInteger(random.GetBytes(1 + (int)(seed % 40)), isUnsigned: true);
        var w = 2 + (window % 6);
        var digits = ScalarRecoding.Wnaf(k, w);
        for (var i = 0; i < digits.Length; i++)
        {
            if (digits[i] == 0)
            {
                continue;
            }

            if (digits[i] % 2 == 0 || Math.Abs((int)digits[i]) >= 1 << (w - 1))
            {
                return false;
            }

            for (var j = i + 1; j < Math.Min(i + w, digits.Length); j++)
            {
                if (digits[j] != 0)
                {
                    return false;
                }
            }
        }

        return Value(digits) == k;
    }

    [Property(MaxTest = 20)]
    public bool Multiply_Wnaf_EqualsDoubleAndAdd(ulong seed)
    {
        using var random = DeterministicRandomSource.FromSeed(seed);
        var k = BnP256.RandomScalar(random) >> (int)(seed % 250);
        var l = BnP256.RandomScalar(random);
        var p = BnP256.G1Generator.Multiply(BnP256.RandomScalar(random)).ToJacobian();
        var p2 = BnP256.G1Generator.Multiply(BnP256.RandomScalar(random)).ToJacobian();
        var q = BnP256.G2Generator.Multiply(BnP256.RandomScalar(random)).Point;
        return p.Multiply(k).EqualsPoint(p.MultiplyDoubleAndAdd(k))
            && q.Multiply(k).EqualsPoint(q.MultiplyDoubleAndAdd(k))
            && G1Jacobian.MultiplyAdd(p, k, p2, l).EqualsPoint(p.MultiplyDoubleAndAdd(k).Add(p2.MultiplyDoubleAndAdd(l)))
            && p.Multiply(BnP256.Order).IsInfinity
            && q.Multiply(BnP256.Order).IsInfinity;
    }

    private static BigInteger Value(sbyte[] digits)
    {
        var v = BigInteger.Zero;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            v = (v * 2) + digits[i];
        }

        return v;
    }

    [Property(MaxTest = 20)]
    public bool HashToG1_AnyInput_TpmCommitFormOnTheCurve(byte[] data)
    {
        var hashed = BnP256.HashToG1("test", data);
        var x = new BigInteger(SHA256.HashData(hashed.S2), isUnsigned: true, isBigEndian: true) % BnP256.FieldPrime;
        var expected = BnG1Point.FromAffine(x, new BigInteger(hashed.Y2, isUnsigned: true, isBigEndian: true));
        return hashed.Point.Equals(expected) && !hashed.Point.IsIdentity;
    }
}
