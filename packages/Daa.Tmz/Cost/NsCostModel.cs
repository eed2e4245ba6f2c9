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

                var ops = steps.Aggregate(NsWordOps.Zero, (sum, s) => sum + (Decompose(s, protocol.HasMultiScalarMultiplication, profile.WordBits) * s.Count));
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

    /// <summary>The word operations of one occurrence of a step's operation.</summary>
    /// <param name="step">The step.</param>
    /// <param name="multiScalar">Whether the back end shares doublings in sums of products.</param>
    /// <param name="wordBits">The word size.</param>
    /// <returns>The word operations.</returns>
    public static NsWordOps Decompose(NsStep step, bool multiScalar, int wordBits)
    {
        ArgumentNullException.ThrowIfNull(step);
        var n = Math.Max(1, (Math.Max(step.Bits, 1) + wordBits - 1) / wordBits);
        var fm = FieldMultiplication(n);
        var fa = FieldAddition(n);
        var edwards = step.Bits is 255;
        var add = edwards ? (fm * 9) + (fa * 8) : (fm * 16) + (fa * 7);
        var dbl = edwards ? (fm * 8) + (fa * 6) : (fm * 8) + (fa * 8);
        var bits = step.Bits;
        var inversion = fm * bits;
        var oneMul = (dbl * bits) + (add * ((double)bits / (Window + 1))) + (add * (1 << (Window - 2))) + inversion;
        var shaBlock = new NsWordOps(0, 1950, 200, 80);
        return step.Operation switch
        {
            NsOperation.EcScalarMultiplication => oneMul,
            NsOperation.EcScalarMultiplicationG2 => oneMul * 3,
            NsOperation.EcAddition => add,
            NsOperation.EcMultiScalarMultiplication when multiScalar =>
                (dbl * bits) + (add * (step.Terms * (((double)bits / (Window + 1)) + (1 << (Window - 2))))) + inversion,
            NsOperation.EcMultiScalarMultiplication => (oneMul * step.Terms) + (add * (step.Terms - 1)),
            NsOperation.Hash => shaBlock * step.Blocks,
            NsOperation.HashToGroup => (shaBlock * (edwards ? 5 : 3)) + (fm * (2 * (bits + 12))) + add,
            NsOperation.ModularExponentiation => ModExp(step.Bits, step.ModulusBits, wordBits),
            NsOperation.Pairing => fm * (6800 + 7100),
            _ => throw new ArgumentOutOfRangeException(nameof(step), step.Operation, "unknown operation"),
        };
    }

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
