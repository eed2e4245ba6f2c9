using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The optimal ate pairing on BN_P256 (Vercauteren 2010; the loop and the two Frobenius lines as in
/// Beuchat et al. 2010, "High-speed software implementation of the optimal ate pairing over BN curves"):
/// e(P, Q) = (f_{6u+2,Q}(P) · l_{[6u+2]Q, π(Q)}(P) · l_{[6u+2]Q+π(Q), −π²(Q)}(P))^((p¹² − 1)/r),
/// with P in G1 = E(Fp), Q in G2 ⊂ E'(Fp2). The Miller loop keeps T in Jacobian twist coordinates
/// (no inversion); lines are evaluated through the untwisting map
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
        var t = G2Jacobian.FromAffine(q.X, q.Y);
        for (var i = checked((int)LoopCount.GetBitLength()) - 2; i >= 0; i--)
        {
            f = Tangent(f.Square(), ref t, xp, yp);
            if (!(LoopCount >> i).IsEven)
            {
                f = Chord(f, ref t, q, xp, yp);
            }
        }

        // 6u + 2 < 0: f_{−n} = 1/(f_n·v) and the inverse is the conjugate after the final exponentiation.
        if (U.Sign < 0)
        {
            f = f.Conjugate();
            t = t.Negate();
        }

        var q1 = FrobeniusTwist(q);
        var q2 = FrobeniusTwist(q1);
        f = Chord(f, ref t, q1, xp, yp);
        f = Chord(f, ref t, (q2.X, -q2.Y), xp, yp);
        return f;
    }

    /// <summary>
    /// f times the tangent at T = (X, Y, Z) (Jacobian) evaluated at P, then T ← 2T. With λ = 3X²/(2YZ) the affine
    /// line (λ·xT − yT) − λ·xP·w² + yP·w³ is scaled by 2YZ³ ∈ Fp2 (killed by the final exponentiation):
    /// (3X³ − 2Y²) − 3X²Z²·xP·w² + 2YZ³·yP·w³. No inversion.
    /// </summary>
    private static Fp12 Tangent(Fp12 f, ref G2Jacobian t, Fp xp, Fp yp)
    {
        var x2 = t.X.Square();
        var x2Times3 = x2.Double() + x2;
        var y2 = t.Y.Square();
        var z2 = t.Z.Square();
        var c0 = (x2Times3 * t.X) - y2.Double();
        var c1 = -(x2Times3 * z2 * xp);
        var c3 = (t.Y * t.Z * z2).Double() * yp;
        t = t.Double();
        return f.MulByLine(c0, c1, c3);
    }

    /// <summary>
    /// f times the line through T (Jacobian) and affine Q evaluated at P, then T ← T + Q. With N = yQ·Z³ − Y and
    /// D = (xQ·Z² − X)·Z the slope is N/D; the line through Q scaled by D is (N·xQ − D·yQ) − N·xP·w² + D·yP·w³.
    /// </summary>
    private static Fp12 Chord(Fp12 f, ref G2Jacobian t, (Fp2 X, Fp2 Y) q, Fp xp, Fp yp)
    {
        var z2 = t.Z.Square();
        var n = (q.Y * z2 * t.Z) - t.Y;
        var d = ((q.X * z2) - t.X) * t.Z;
        var result = f.MulByLine((n * q.X) - (d * q.Y), -(n * xp), d * yp);
        t = t.Add(G2Jacobian.FromAffine(q.X, q.Y));
        return result;
    }

    /// <summary>
    /// f^((p¹² − 1)/r): the easy part (p⁶ − 1)(p² + 1), then the hard part (p⁴ − p² + 1)/r with
    /// exponentiations by u and Frobenius maps (Scott, Benger, Charlemagne, Dominguez Perez, Kachisa 2009,
    /// "On the final exponentiation for calculating pairings on ordinary elliptic curves", §5: the vectorial
    /// addition chain for λ₃ = 1, λ₂ = 6u² + 1, λ₁ = −36u³ − 18u² − 12u + 1, λ₀ = −36u³ − 30u² − 18u − 2).
    /// After the easy part f is in the cyclotomic subgroup, where the inverse is the conjugate.
    /// </summary>
    public static Fp12 FinalExponentiation(Fp12 f)
    {
        var f1 = f.Conjugate() * f.Invert();
        f = f1.Frobenius().Frobenius() * f1;

        var fx = PowU(f);
        var fx2 = PowU(fx);
        var fx3 = PowU(fx2);
        var fp = f.Frobenius();
        var fp2 = fp.Frobenius();
        var fp3 = fp2.Frobenius();
        var y0 = fp * fp2 * fp3;
        var y1 = f.Conjugate();
        var y2 = fx2.Frobenius().Frobenius();
        var y3 = fx.Frobenius().Conjugate();
        var y4 = (fx * fx2.Frobenius()).Conjugate();
        var y5 = fx2.Conjugate();
        var y6 = (fx3 * fx3.Frobenius()).Conjugate();

        var t0 = y6.Square() * y4 * y5;
        var t1 = y3 * y5 * t0;
        t0 *= y2;
        t1 = (t1.Square() * t0).Square();
        t0 = t1 * y1;
        t1 *= y0;
        t0 = t0.Square();
        return t0 * t1;
    }

    /// <summary>The hard part by plain exponentiation (the reference <see cref="FinalExponentiation"/> is tested against).</summary>
    public static Fp12 FinalExponentiationReference(Fp12 f)
    {
        var f1 = f.Conjugate() * f.Invert();
        var f2 = f1.Frobenius().Frobenius() * f1;
        return f2.Pow(HardExponent);
    }

    /// <summary>f^u for f in the cyclotomic subgroup (u &lt; 0: the conjugate of f^|u|).</summary>
    private static Fp12 PowU(Fp12 f)
    {
        var r = f.Pow(BigInteger.Abs(U));
        return U.Sign < 0 ? r.Conjugate() : r;
    }
}
