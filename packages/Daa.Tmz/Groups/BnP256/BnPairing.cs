using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The optimal ate pairing on BN_P256 (Vercauteren 2010; the loop and the two Frobenius lines as in
/// Beuchat et al. 2010, "High-speed software implementation of the optimal ate pairing over BN curves"):
/// e(P, Q) = (f_{6u+2,Q}(P) · l_{[6u+2]Q, π(Q)}(P) · l_{[6u+2]Q+π(Q), −π²(Q)}(P))^((p¹² − 1)/r),
/// with P in G1 = E(Fp), Q in G2 ⊂ E'(Fp2). The Miller loop runs in affine twist coordinates
/// (one Fp2 inversion per step); lines are evaluated through the untwisting map
/// ψ(x', y') = (x'·w⁻², y'·w⁻³) and scaled by w³ (a factor in a proper subfield, killed by the final
/// exponentiation).
/// </summary>
internal static class BnPairing
{
    /// <summary>u = −0x6882F5C030B0A801 (the BN parameter of TPM_ECC_BN_P256).</summary>
    public static readonly BigInteger U = -BigInteger.Parse("06882F5C030B0A801", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>r, the group order.</summary>
    public static readonly BigInteger R = (36 * BigInteger.Pow(U, 4)) + (36 * BigInteger.Pow(U, 3)) + (18 * U * U) + (6 * U) + 1;

    /// <summary>|6u + 2|, the Miller loop length.</summary>
    private static readonly BigInteger LoopCount = BigInteger.Abs((6 * U) + 2);

    /// <summary>The hard part of the final exponentiation, (p⁴ − p² + 1)/r.</summary>
    private static readonly BigInteger HardExponent = (BigInteger.Pow(Fp.Modulus, 4) - BigInteger.Pow(Fp.Modulus, 2) + 1) / R;

    /// <summary>ξ^(−(p − 1)/3) and ξ^(−(p − 1)/2): the Frobenius on the M-type twist, π'(x, y) = (x̄·c1, ȳ·c2).</summary>
    private static readonly Fp2 FrobX = Fp2.Xi.Pow((Fp.Modulus - 1) / 3).Invert();
    private static readonly Fp2 FrobY = Fp2.Xi.Pow((Fp.Modulus - 1) / 2).Invert();

    /// <summary>e(P, Q); the identity of GT when either point is the identity.</summary>
    public static Fp12 Pair(Fp xp, Fp yp, bool pInfinity, G2Jacobian q) =>
        pInfinity || q.IsInfinity ? Fp12.One : FinalExponentiation(MillerLoop(xp, yp, q.ToAffine()));

    /// <summary>π'(Q): the p-power Frobenius carried to the twist.</summary>
    public static (Fp2 X, Fp2 Y) FrobeniusTwist((Fp2 X, Fp2 Y) q) => (q.X.Conjugate() * FrobX, q.Y.Conjugate() * FrobY);

    public static Fp12 MillerLoop(Fp xp, Fp yp, (Fp2 X, Fp2 Y) q)
    {
        var f = Fp12.One;
        var t = q;
        for (var i = checked((int)LoopCount.GetBitLength()) - 2; i >= 0; i--)
        {
            f = f.Square() * Tangent(ref t, xp, yp);
            if (!(LoopCount >> i).IsEven)
            {
                f *= Chord(ref t, q, xp, yp);
            }
        }

        // 6u + 2 < 0: f_{−n} = 1/(f_n·v) and the inverse is the conjugate after the final exponentiation.
        if (U.Sign < 0)
        {
            f = f.Conjugate();
            t = (t.X, -t.Y);
        }

        var q1 = FrobeniusTwist(q);
        var q2 = FrobeniusTwist(q1);
        f *= Chord(ref t, q1, xp, yp);
        f *= Chord(ref t, (q2.X, -q2.Y), xp, yp);
        return f;
    }

    /// <summary>f^((p¹² − 1)/r): the easy part (p⁶ − 1)(p² + 1), then the hard part by exponentiation.</summary>
    public static Fp12 FinalExponentiation(Fp12 f)
    {
        var f1 = f.Conjugate() * f.Invert();
        var f2 = f1.Frobenius().Frobenius() * f1;
        return f2.Pow(HardExponent);
    }

    /// <summary>The tangent at T evaluated at P (then T ← 2T).</summary>
    private static Fp12 Tangent(ref (Fp2 X, Fp2 Y) t, Fp xp, Fp yp)
    {
        var x2 = t.X.Square();
        var lambda = (x2.Double() + x2) * t.Y.Double().Invert();
        var x3 = lambda.Square() - t.X.Double();
        var y3 = (lambda * (t.X - x3)) - t.Y;
        var line = Line(lambda, t, xp, yp);
        t = (x3, y3);
        return line;
    }

    /// <summary>The line through T and Q evaluated at P (then T ← T + Q).</summary>
    private static Fp12 Chord(ref (Fp2 X, Fp2 Y) t, (Fp2 X, Fp2 Y) q, Fp xp, Fp yp)
    {
        var lambda = (q.Y - t.Y) * (q.X - t.X).Invert();
        var x3 = lambda.Square() - t.X - q.X;
        var y3 = (lambda * (t.X - x3)) - t.Y;
        var line = Line(lambda, t, xp, yp);
        t = (x3, y3);
        return line;
    }

    /// <summary>w³·l(P) = (λ·xT − yT) − λ·xP·w² + yP·w³ for slope λ through T on the twist.</summary>
    private static Fp12 Line(Fp2 lambda, (Fp2 X, Fp2 Y) t, Fp xp, Fp yp) =>
        new(new Fp6((lambda * t.X) - t.Y, -(lambda * xp), Fp2.Zero), new Fp6(Fp2.Zero, new Fp2(yp, Fp.Zero), Fp2.Zero));
}
