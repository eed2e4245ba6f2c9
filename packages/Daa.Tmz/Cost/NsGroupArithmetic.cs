namespace TrustStack.Daa.Tmz;

/// <summary>How a field multiplication reduces its double-length product.</summary>
public enum NsFieldReduction
{
    /// <summary>Montgomery multiplication (CIOS): 2n² + n word multiplications for n words.</summary>
    Montgomery,

    /// <summary>
    /// Schoolbook product (n² word multiplications) and a Solinas reduction for a generalized-Mersenne
    /// prime (NIST P-256): additions and subtractions of the product's words only.
    /// </summary>
    Solinas,

    /// <summary>
    /// Schoolbook product in an unsaturated radix (2^255 − 19 in radix 2^51: 5 limbs in 64-bit words),
    /// the high limbs folded with one multiplication by 19 each, then a carry chain.
    /// </summary>
    PseudoMersenne,
}

/// <summary>The algorithm for a scalar multiplication of a long-lived base with a precomputed table.</summary>
public enum NsFixedBaseAlgorithm
{
    /// <summary>
    /// Fixed-point comb (Lim–Lee) of width w: 2^w affine entries, d = ⌈bits/w⌉ teeth; per tooth one
    /// doubling, one mixed addition and a constant-time scan of the whole table; one final addition
    /// of the table's offset. Two bases together (a joint comb): per tooth one doubling, one addition
    /// of the two (variable-time) entries and one general addition.
    /// </summary>
    Comb,

    /// <summary>
    /// Signed radix-2^w digits against a table of 2^(w−1) multiples of the base at every w-th power
    /// (libsodium's <c>ge25519_scalarmult_base</c>, w = 4): ⌈bits/w⌉ mixed additions, each after a
    /// constant-time scan of its 2^(w−1) entries, and w doublings in all.
    /// </summary>
    SignedRadixTable,
}

/// <summary>The algorithm for a scalar multiplication of a point seen for the first time.</summary>
public enum NsVariableBaseAlgorithm
{
    /// <summary>w-NAF of width w: bits doublings, bits/(w + 1) additions, 2^(w−2) precomputed points.</summary>
    WNaf,

    /// <summary>
    /// Signed fixed window of width w (libsodium's <c>ge25519_scalarmult</c>, w = 4): bits doublings,
    /// ⌈bits/w⌉ additions each after a constant-time scan of 2^(w−1) cached points, 2^(w−1) − 1
    /// precomputation additions.
    /// </summary>
    SignedFixedWindow,
}

/// <summary>
/// The arithmetic of the implementation that runs a group, as the normalized-statistics model
/// evaluates it: word size and limbs of the field, the reduction, the fixed-base and variable-base
/// scalar multiplication algorithms with their window widths, and whether every call crosses the
/// library's interface in canonical encoding. Named algorithms and parameters read from the
/// implementations (BouncyCastle 2.7.0's <c>SecP256R1Field</c>/<c>Nat256</c>,
/// <c>FixedPointUtilities</c>, <c>WNafL2RMultiplier</c>; libsodium's <c>fe25519</c> (radix 2^51),
/// <c>ge25519_scalarmult_base</c>, <c>ge25519_scalarmult</c>, <c>ristretto255_frombytes</c>/<c>tobytes</c>),
/// never fitted to timings.
/// </summary>
/// <param name="Implementation">The library and its field code.</param>
/// <param name="WordBits">The word size the field arithmetic computes on.</param>
/// <param name="Limbs">Words (limbs) of a field element.</param>
/// <param name="Reduction">The field multiplication's reduction.</param>
/// <param name="FixedBase">The fixed-base algorithm.</param>
/// <param name="FixedBaseWidth">Its width w.</param>
/// <param name="VariableBase">The variable-base algorithm.</param>
/// <param name="VariableBaseWidth">Its width w.</param>
/// <param name="EncodedInterface">
/// Whether every call decodes its input elements and encodes its result (libsodium's ristretto255
/// API: one inverse square root, ≈ bits field squarings, per decoding and per encoding) instead of
/// keeping projective coordinates until an encoding is needed (one inversion per result).
/// </param>
public sealed record NsGroupArithmetic(
    string Implementation,
    int WordBits,
    int Limbs,
    NsFieldReduction Reduction,
    NsFixedBaseAlgorithm FixedBase,
    int FixedBaseWidth,
    NsVariableBaseAlgorithm VariableBase,
    int VariableBaseWidth,
    bool EncodedInterface)
{
    /// <summary>
    /// P-256 in BouncyCastle 2.7.0: SecP256R1Field on 8 × 32-bit words (Nat256 schoolbook product,
    /// Solinas reduction), Jacobian coordinates; fixed-point comb of width 6 (2^6 entries, 43 teeth);
    /// w-NAF of width 5 (<c>WNafUtilities.GetWindowSize(256)</c>) for other points.
    /// </summary>
    public static NsGroupArithmetic BouncyCastleP256 { get; } = new(
        "BouncyCastle 2.7.0 SecP256R1 (Nat256, 8 × 32-bit words)", 32, 8, NsFieldReduction.Solinas, NsFixedBaseAlgorithm.Comb, 6, NsVariableBaseAlgorithm.WNaf, 5, false);

    /// <summary>
    /// ristretto255 in libsodium: fe25519 in radix 2^51 (5 limbs in 64-bit words), extended Edwards
    /// coordinates; the base point G through a signed radix-16 table (64 mixed additions, 4
    /// doublings); other points by a signed 4-bit fixed window; every call decodes and encodes.
    /// </summary>
    public static NsGroupArithmetic LibsodiumRistretto255 { get; } = new(
        "libsodium ristretto255 (fe25519, 5 × 51-bit limbs in 64-bit words)", 64, 5, NsFieldReduction.PseudoMersenne, NsFixedBaseAlgorithm.SignedRadixTable, 4, NsVariableBaseAlgorithm.SignedFixedWindow, 4, true);
}
