namespace TrustStack.Daa.Tmz;

/// <summary>
/// The normalized-statistics cost model (book ch. 10): each protocol's high-level operations,
/// per entity and phase, decomposed into word multiplications, additions, reads and writes for
/// named algorithms and a word size, then converted to cycles by a <see cref="NsCpuProfile"/>.
/// </summary>
/// <remarks>
/// Algorithms: field multiplication = Montgomery multiplication (CIOS: 2n²+n word multiplications,
/// 4n²+4n+2 additions, 4n²+2n reads, 2n²+2n writes for n words); field addition = add and conditional
/// subtract; Weierstrass points in Jacobian coordinates (add 16, double 8 field multiplications),
/// Edwards/ristretto points in extended coordinates (add 9, double 8); scalar multiplication =
/// w-NAF (w = 4) plus one inversion (Fermat, ≈ bits multiplications); multi-scalar multiplication
/// = Straus with shared doublings; modular exponentiation = sliding window (w = 5); pairing =
/// optimal ate on a 256-bit BN curve, ≈ 6,800 (Miller loop) + 7,100 (final exponentiation) Fp
/// multiplications, rough figures in the range the literature reports; G2 arithmetic over Fp2
/// ≈ 3 Fp multiplications per Fp2 multiplication (Karatsuba); SHA-256 block ≈ 1,950 word
/// additions/logic operations, 200 reads, 80 writes.
/// A protocol whose group carries an <see cref="NsGroupArithmetic"/> is evaluated at that
/// implementation's word size, limbs and reduction (not the profile's word size), with its named
/// fixed-base algorithm (<see cref="NsOperation.EcFixedBaseMultiplication"/>: a comb with a
/// constant-time table scan per tooth, or a signed-radix base table; two long-lived bases together
/// as a joint comb), its variable-base algorithm and window, mixed additions for table entries
/// (Jacobian + affine 11, extended Edwards + Niels 7 field multiplications), and, for an API that
/// takes and returns canonical encodings (libsodium's ristretto255), one inverse square root
/// (≈ bits multiplications) per decoded input and encoded result.
/// </remarks>
public static class NsCostModel
{
    private const int Window = 4;

    /// <summary>Evaluates a protocol: one row per entity and phase that has operations.</summary>
    /// <param name="protocol">The protocol.</param>
    /// <param name="profile">The CPU profile.</param>
    /// <returns>The rows.</returns>
    public static IReadOnlyList<NsRow> Evaluate(NsProtocol protocol, NsCpuProfile profile)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(profile);
        var rows = new List<NsRow>();
        foreach (var phase in Enum.GetValues<NsPhase>())
        {
            foreach (var entity in Enum.GetValues<NsEntity>())
            {
                var steps = protocol.Steps.Where(s => s.Entity == entity && s.Phase == phase).ToList();
                if (steps.Count == 0)
                {
                    continue;
                }

                var ops = steps.Aggregate(NsWordOps.Zero, (sum, s) => sum + (Decompose(s, protocol.HasMultiScalarMultiplication, profile.WordBits, protocol.Arithmetic) * s.Count));
                var cycles = profile.Cycles(ops);
                rows.Add(new NsRow(
                    protocol.Name,
                    entity,
                    phase,
                    protocol.Counts(entity, phase),
                    steps.Where(s => s.Operation == NsOperation.ModularExponentiation).Sum(s => s.Count),
                    steps.Where(s => s.Operation == NsOperation.Pairing).Sum(s => s.Count),
                    ops,
                    cycles,
                    cycles / (profile.ClockGHz * 1000)));
            }
        }

        return rows;
    }

    /// <summary>The word operations of one occurrence of a step's operation (Montgomery multiplication at <paramref name="wordBits"/>, w-NAF).</summary>
    /// <param name="step">The step.</param>
    /// <param name="multiScalar">Whether the back end shares doublings in sums of products.</param>
    /// <param name="wordBits">The word size.</param>
    /// <returns>The word operations.</returns>
    public static NsWordOps Decompose(NsStep step, bool multiScalar, int wordBits) => Decompose(step, multiScalar, wordBits, null);

    /// <summary>The word operations of one occurrence of a step's operation under a group implementation's arithmetic.</summary>
    /// <param name="step">The step.</param>
    /// <param name="multiScalar">Whether the back end shares doublings in sums of products.</param>
    /// <param name="wordBits">The CPU profile's word size (used when <paramref name="arithmetic"/> is null).</param>
    /// <param name="arithmetic">The implementation's arithmetic, or null for Montgomery multiplication at <paramref name="wordBits"/> and w-NAF (w = 4).</param>
    /// <returns>The word operations.</returns>
    public static NsWordOps Decompose(NsStep step, bool multiScalar, int wordBits, NsGroupArithmetic? arithmetic)
    {
        ArgumentNullException.ThrowIfNull(step);
        var n = arithmetic?.Limbs ?? Math.Max(1, (Math.Max(step.Bits, 1) + wordBits - 1) / wordBits);
        var fm = FieldMultiplication(n, arithmetic?.Reduction ?? NsFieldReduction.Montgomery);
        var fa = FieldAddition(n);
        var edwards = step.Bits is 255;
        var add = edwards ? (fm * 9) + (fa * 8) : (fm * 16) + (fa * 7);
        var dbl = edwards ? (fm * 8) + (fa * 6) : (fm * 8) + (fa * 8);

        // Mixed addition of a table entry (affine / precomputed Niels form) and affine + affine.
        var madd = edwards ? (fm * 7) + (fa * 6) : (fm * 11) + (fa * 7);
        var aadd = (fm * 6) + (fa * 7);
        var bits = step.Bits;
        var inversion = fm * bits;
        var encoded = arithmetic?.EncodedInterface ?? false;

        // Constant-time table scan: every entry's coordinates read and masked in (2 word operations each).
        NsWordOps Scan(double entries, int coordinates) => new(0, 2.0 * entries * coordinates * n, entries * coordinates * n, coordinates * n);

        NsWordOps VariableCore()
        {
            var w = arithmetic?.VariableBaseWidth ?? Window;
            if (arithmetic?.VariableBase is NsVariableBaseAlgorithm.SignedFixedWindow)
            {
                var windows = (bits + w - 1) / w;
                return (dbl * bits) + (add * windows) + (add * ((1 << (w - 1)) - 1)) + (Scan(1 << (w - 1), 4) * windows);
            }

            return (dbl * bits) + (add * ((double)bits / (w + 1))) + (add * (1 << (w - 2)));
        }

        NsWordOps FixedCore()
        {
            var w = arithmetic?.FixedBaseWidth ?? Window;
            var d = (bits + w - 1) / w;
            return arithmetic?.FixedBase is NsFixedBaseAlgorithm.SignedRadixTable
                ? (madd * d) + (dbl * w) + (Scan(1 << (w - 1), 3) * d)
                : (dbl * d) + (madd * d) + (Scan(1 << w, 2) * d) + add;
        }

        // Two long-lived bases in one comb: per tooth a doubling, the two entries added (affine + affine,
        // variable-time lookups) and the sum added in; both offsets at the end.
        NsWordOps JointCombCore()
        {
            var w = arithmetic?.FixedBaseWidth ?? Window;
            var d = (bits + w - 1) / w;
            return (dbl * d) + (aadd * d) + (add * d) + (new NsWordOps(0, 0, 4.0 * n, 0) * d) + (add * 2);
        }

        // A result: one inversion to normalize (projective API) or decode the input and encode the
        // result (encoded API: an inverse square root each).
        var variableMul = VariableCore() + (inversion * (encoded ? 2 : 1));
        var fixedMul = FixedCore() + inversion;
        var addition = encoded ? add + (inversion * 3) : add;
        var shaBlock = new NsWordOps(0, 1950, 200, 80);
        return step.Operation switch
        {
            NsOperation.EcScalarMultiplication => variableMul,
            NsOperation.EcFixedBaseMultiplication => fixedMul,
            NsOperation.EcScalarMultiplicationG2 => variableMul * 3,
            NsOperation.EcAddition => addition,
            NsOperation.EcMultiScalarMultiplication when multiScalar && step.FixedTerms == step.Terms && step.Terms > 1 =>
                (JointCombCore() * (step.Terms / 2)) + (step.Terms % 2 == 1 ? FixedCore() + add : NsWordOps.Zero) + (add * ((step.Terms / 2) - 1)) + inversion,
            NsOperation.EcMultiScalarMultiplication when multiScalar =>
                (dbl * bits) + (add * (step.Terms * (((double)bits / ((arithmetic?.VariableBaseWidth ?? Window) + 1)) + (1 << ((arithmetic?.VariableBaseWidth ?? Window) - 2))))) + inversion,
            NsOperation.EcMultiScalarMultiplication => (fixedMul * step.FixedTerms) + (variableMul * (step.Terms - step.FixedTerms)) + (addition * (step.Terms - 1)),
            NsOperation.Hash => shaBlock * step.Blocks,
            NsOperation.HashToGroup => (shaBlock * (edwards ? 5 : 3)) + (fm * (2 * (bits + 12))) + add + (encoded ? inversion : NsWordOps.Zero),
            NsOperation.ModularExponentiation => ModExp(step.Bits, step.ModulusBits, wordBits),
            NsOperation.Pairing => fm * (6800 + 7100),
            _ => throw new ArgumentOutOfRangeException(nameof(step), step.Operation, "unknown operation"),
        };
    }

    private static NsWordOps FieldMultiplication(int n, NsFieldReduction reduction) => reduction switch
    {
        // Operand scanning with the double-length product in memory (BouncyCastle's Nat256.Mul), then
        // a Solinas reduction: signed sums of the product's words.
        NsFieldReduction.Solinas => new((double)n * n, (2.0 * n * n) + (10 * n), ((double)n * n) + (4 * n), ((double)n * n) + (3 * n)),

        // Schoolbook product held in registers, 19·limb precomputed, one carry chain (libsodium fe25519_mul).
        NsFieldReduction.PseudoMersenne => new(((double)n * n) + n, (2.0 * n * n) + (3 * n), 2.0 * n, n),
        _ => FieldMultiplication(n),
    };

    private static NsWordOps FieldMultiplication(int n) => new((2.0 * n * n) + n, (4.0 * n * n) + (4 * n) + 2, (4.0 * n * n) + (2 * n), (2.0 * n * n) + (2 * n));

    private static NsWordOps FieldAddition(int n) => new(0, 2.0 * n, 3.0 * n, n);

    private static NsWordOps ModExp(int exponentBits, int modulusBits, int wordBits)
    {
        var n = (modulusBits + wordBits - 1) / wordBits;
        const int w = 5;
        var multiplications = exponentBits + ((double)exponentBits / (w + 1)) + (1 << (w - 1));
        return FieldMultiplication(n) * multiplications;
    }
}
