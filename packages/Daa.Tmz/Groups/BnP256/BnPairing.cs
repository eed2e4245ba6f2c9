using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The optimal ate pairing on BN_P256 (Vercauteren 2010; the loop and the two Frobenius lines as in
/// Beuchat et al. 2010, "High-speed software implementation of the optimal ate pairing over BN curves"):
/// e(P, Q) = (f_{6u+2,Q}(P) · l_{[6u+2]Q, π(Q)}(P) · l_{[6u+2]Q+π(Q), −π²(Q)}(P))^((p¹² − 1)/r),
/// with P in G1 = E(Fp), Q in G2 ⊂ E'(Fp2). The Miller loop keeps T in Jacobian twist coordinates
/// (no inversion); lines are evaluated through the untwisting map
/// ψ(x', y') = (x'·w⁻², y'·w⁻³) and scaled by w³ (a factor in a proper subfield, killed by the final
/// exponentiation). The loop runs over the NAF of |6u + 2|; for a fixed Q the lines are computed once
/// (<see cref="Prepare"/>) and a product of pairings shares the squarings and one final exponentiation
/// (<see cref="PairProduct"/>). The hard part uses cyclotomic squarings and the NAF of |u|.
/// </summary>
internal static class BnPairing
{
    /// <summary>u = −0x6882F5C030B0A801 (the BN parameter of TPM_ECC_BN_P256).</summary>
    public static readonly BigInteger U = -BigInteger.Parse("06882F5C030B0A801", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>r, the group order.</summary>
    public static readonly BigInteger R = (36 * BigInteger.Pow(U, 4)) + (36 * BigInteger.Pow(U, 3)) + (18 * U * U) + (6 * U) + 1;

    /// <summary>|6u + 2|, the Miller loop length.</summary>
    private static readonly BigInteger LoopCount = BigInteger.Abs((6 * U) + 2);

    /// <summary>The NAF of |6u + 2| (least significant digit first): 22 non-zero digits against 28 one bits in binary.</summary>
    internal static readonly sbyte[] LoopNaf = Trim(ScalarRecoding.Wnaf(LoopCount, 2));

    /// <summary>The NAF of |u|, the exponent of the three exponentiations of the hard part.</summary>
    internal static readonly sbyte[] UNaf = Trim(ScalarRecoding.Wnaf(BigInteger.Abs(U), 2));

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

    /// <summary>f_{6u+2,Q}(P) times the two Frobenius lines, with T and the lines computed on the fly (the unprepared reference).</summary>
    public static Fp12 MillerLoop(Fp xp, Fp yp, (Fp2 X, Fp2 Y) q)
    {
        var f = Fp12.One;
        var t = G2Jacobian.FromAffine(q.X, q.Y);
        var minusQ = (q.X, -q.Y);
        for (var i = LoopNaf.Length - 2; i >= 0; i--)
        {
            f = Evaluate(f.Square(), Tangent(ref t), xp, yp);
            if (LoopNaf[i] != 0)
            {
                f = Evaluate(f, Chord(ref t, LoopNaf[i] > 0 ? q : minusQ), xp, yp);
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
        f = Evaluate(f, Chord(ref t, q1), xp, yp);
        f = Evaluate(f, Chord(ref t, (q2.X, -q2.Y)), xp, yp);
        return f;
    }

    /// <summary>
    /// The line coefficients of the Miller loop of a fixed Q, in the order <see cref="MillerLoop(ReadOnlySpan{ValueTuple{Fp, Fp, G2Prepared}})"/>
    /// consumes them: each line is a + b·xP·w² + c·yP·w³, so evaluating it at P costs 4 Fp multiplications.
    /// </summary>
    public static G2Prepared Prepare((Fp2 X, Fp2 Y) q)
    {
        var lines = new List<Line>(LoopNaf.Length * 2);
        var t = G2Jacobian.FromAffine(q.X, q.Y);
        var minusQ = (q.X, -q.Y);
        for (var i = LoopNaf.Length - 2; i >= 0; i--)
        {
            lines.Add(Tangent(ref t));
            if (LoopNaf[i] != 0)
            {
                lines.Add(Chord(ref t, LoopNaf[i] > 0 ? q : minusQ));
            }
        }

        if (U.Sign < 0)
        {
            t = t.Negate();
        }

        var q1 = FrobeniusTwist(q);
        var q2 = FrobeniusTwist(q1);
        lines.Add(Chord(ref t, q1));
        lines.Add(Chord(ref t, (q2.X, -q2.Y)));
        return new G2Prepared([.. lines]);
    }

    /// <summary>
    /// Π f_{6u+2,Qᵢ}(Pᵢ) (with the Frobenius lines) for prepared Qᵢ: one Fp12 squaring per step shared by all
    /// pairs, one sparse multiplication per line and pair. Pairs with P = O contribute 1 and must be left out.
    /// </summary>
    public static Fp12 MillerLoop(ReadOnlySpan<(Fp X, Fp Y, G2Prepared Q)> pairs)
    {
        var f = Fp12.One;
        var k = 0;
        for (var i = LoopNaf.Length - 2; i >= 0; i--)
        {
            if (i != LoopNaf.Length - 2)
            {
                f = f.Square();
            }

            foreach (var (x, y, q) in pairs)
            {
                f = Evaluate(f, q.Lines[k], x, y);
            }

            k++;
            if (LoopNaf[i] != 0)
            {
                foreach (var (x, y, q) in pairs)
                {
                    f = Evaluate(f, q.Lines[k], x, y);
                }

                k++;
            }
        }

        if (U.Sign < 0)
        {
            f = f.Conjugate();
        }

        for (var j = 0; j < 2; j++, k++)
        {
            foreach (var (x, y, q) in pairs)
            {
                f = Evaluate(f, q.Lines[k], x, y);
            }
        }

        return f;
    }

    /// <summary>Π e(Pᵢ, Qᵢ) with one final exponentiation; pairs with an identity are skipped (they contribute 1).</summary>
    public static Fp12 PairProduct(ReadOnlySpan<(Fp X, Fp Y, G2Prepared Q)> pairs) =>
        pairs.IsEmpty ? Fp12.One : FinalExponentiation(MillerLoop(pairs));

    private static Fp12 Evaluate(Fp12 f, Line line, Fp xp, Fp yp) => f.MulByLine(line.A, line.B * xp, line.C * yp);

    /// <summary>
    /// The tangent at T = (X, Y, Z) (Jacobian), then T ← 2T. With λ = 3X²/(2YZ) the affine line
    /// (λ·xT − yT) − λ·xP·w² + yP·w³ is scaled by 2YZ³ ∈ Fp2 (killed by the final exponentiation):
    /// (3X³ − 2Y²) − 3X²Z²·xP·w² + 2YZ³·yP·w³. No inversion.
    /// </summary>
    private static Line Tangent(ref G2Jacobian t)
    {
        var x2 = t.X.Square();
        var x2Times3 = x2.Double() + x2;
        var y2 = t.Y.Square();
        var z2 = t.Z.Square();
        var line = new Line((x2Times3 * t.X) - y2.Double(), -(x2Times3 * z2), (t.Y * t.Z * z2).Double());
        t = t.Double();
        return line;
    }

    /// <summary>
    /// The line through T (Jacobian) and affine Q, then T ← T + Q. With N = yQ·Z³ − Y and D = (xQ·Z² − X)·Z the
    /// slope is N/D; the line through Q scaled by D is (N·xQ − D·yQ) − N·xP·w² + D·yP·w³.
    /// </summary>
    private static Line Chord(ref G2Jacobian t, (Fp2 X, Fp2 Y) q)
    {
        var z2 = t.Z.Square();
        var n = (q.Y * z2 * t.Z) - t.Y;
        var d = ((q.X * z2) - t.X) * t.Z;
        var line = new Line((n * q.X) - (d * q.Y), -n, d);
        t = t.Add(G2Jacobian.FromAffine(q.X, q.Y));
        return line;
    }

    private static sbyte[] Trim(sbyte[] digits)
    {
        var n = digits.Length;
        while (n > 1 && digits[n - 1] == 0)
        {
            n--;
        }

        return digits[..n];
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
        f = EasyPart(f);

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

        var t0 = y6.CyclotomicSquare() * y4 * y5;
        var t1 = y3 * y5 * t0;
        t0 *= y2;
        t1 = (t1.CyclotomicSquare() * t0).CyclotomicSquare();
        t0 = t1 * y1;
        t1 *= y0;
        t0 = t0.CyclotomicSquare();
        return t0 * t1;
    }

    /// <summary>The hard part by plain exponentiation (the reference <see cref="FinalExponentiation"/> is tested against).</summary>
    public static Fp12 FinalExponentiationReference(Fp12 f)
    {
        var f1 = f.Conjugate() * f.Invert();
        var f2 = f1.Frobenius().Frobenius() * f1;
        return f2.Pow(HardExponent);
    }

    /// <summary>f^u for f in the cyclotomic subgroup (u &lt; 0: the conjugate of f^|u|): NAF of |u|, cyclotomic squarings.</summary>
    private static Fp12 PowU(Fp12 f)
    {
        var r = f.CyclotomicPow(UNaf);
        return U.Sign < 0 ? r.Conjugate() : r;
    }

    /// <summary>The easy part (p⁶ − 1)(p² + 1): its result is in the cyclotomic subgroup.</summary>
    internal static Fp12 EasyPart(Fp12 f)
    {
        var f1 = f.Conjugate() * f.Invert();
        return f1.Frobenius().Frobenius() * f1;
    }

    /// <summary>One line of a Miller loop: a + b·xP·w² + c·yP·w³.</summary>
    internal readonly record struct Line(Fp2 A, Fp2 B, Fp2 C);
}

/// <summary>A G2 point prepared for pairings: the line coefficients of its Miller loop (computed once, reused by every pairing with it).</summary>
internal sealed class G2Prepared
{
    public G2Prepared(BnPairing.Line[] lines)
    {
        Lines = lines;
    }

    public BnPairing.Line[] Lines { get; }
}
