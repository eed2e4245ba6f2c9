namespace TrustStack.Daa.Tmz;

/// <summary>
/// Counts the high-level group operations one protocol entity performs (the instrumented side of
/// the normalized-statistics validation). Each entity owns its counter; it is not thread-safe.
/// </summary>
public sealed class DaaOpCounter
{
    /// <summary>Scalar multiplications (each term of a multi-scalar multiplication counts once).</summary>
    public long ScalarMultiplications { get; private set; }

    /// <summary>
    /// Of <see cref="ScalarMultiplications"/>, those the back end computed on its fixed-base path
    /// (a precomputed table of a long-lived base: P-256's fixed-point comb, joint comb for two such
    /// bases; ristretto255's libsodium base-point table for G).
    /// </summary>
    public long FixedBaseMultiplications { get; private set; }

    /// <summary>Multi-scalar multiplications (calls that computed a sum of two or more products at once).</summary>
    public long MultiScalarMultiplications { get; private set; }

    /// <summary>Point additions and subtractions (including those combining the terms of a sum).</summary>
    public long PointAdditions { get; private set; }

    /// <summary>Hash-to-scalar and other hash evaluations.</summary>
    public long Hashes { get; private set; }

    /// <summary>Hash-to-group evaluations.</summary>
    public long HashesToGroup { get; private set; }

    /// <summary>The current counts as an immutable record.</summary>
    /// <returns>The counts.</returns>
    public DaaOpCounts Snapshot() => new(ScalarMultiplications, MultiScalarMultiplications, PointAdditions, Hashes, HashesToGroup, FixedBaseMultiplications);

    /// <summary>Sets every count to zero.</summary>
    public void Reset()
    {
        ScalarMultiplications = 0;
        MultiScalarMultiplications = 0;
        PointAdditions = 0;
        Hashes = 0;
        HashesToGroup = 0;
        FixedBaseMultiplications = 0;
    }

    internal void Mul(int terms, int fixedBase)
    {
        ScalarMultiplications += terms;
        FixedBaseMultiplications += fixedBase;
        if (terms > 1)
        {
            MultiScalarMultiplications++;
        }
    }

    internal void Add(int count = 1) => PointAdditions += count;

    internal void Hash() => Hashes++;

    internal void HashToGroup() => HashesToGroup++;
}

/// <summary>Operation counts of one entity (see <see cref="DaaOpCounter"/>).</summary>
/// <param name="ScalarMultiplications">Scalar multiplications.</param>
/// <param name="MultiScalarMultiplications">Multi-scalar multiplication calls.</param>
/// <param name="PointAdditions">Point additions and subtractions.</param>
/// <param name="Hashes">Hash evaluations.</param>
/// <param name="HashesToGroup">Hash-to-group evaluations.</param>
/// <param name="FixedBaseMultiplications">Of the scalar multiplications, those on the back end's fixed-base path.</param>
public sealed record DaaOpCounts(long ScalarMultiplications, long MultiScalarMultiplications, long PointAdditions, long Hashes, long HashesToGroup, long FixedBaseMultiplications)
{
    /// <summary>No operations.</summary>
    public static DaaOpCounts Zero { get; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>The difference of two snapshots.</summary>
    /// <param name="left">The later snapshot.</param>
    /// <param name="right">The earlier snapshot.</param>
    /// <returns>The operations between them.</returns>
    public static DaaOpCounts operator -(DaaOpCounts left, DaaOpCounts right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new(left.ScalarMultiplications - right.ScalarMultiplications, left.MultiScalarMultiplications - right.MultiScalarMultiplications, left.PointAdditions - right.PointAdditions, left.Hashes - right.Hashes, left.HashesToGroup - right.HashesToGroup, left.FixedBaseMultiplications - right.FixedBaseMultiplications);
    }

    /// <summary>The sum of two count records.</summary>
    /// <param name="left">One record.</param>
    /// <param name="right">The other.</param>
    /// <returns>The sum.</returns>
    public static DaaOpCounts operator +(DaaOpCounts left, DaaOpCounts right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new(left.ScalarMultiplications + right.ScalarMultiplications, left.MultiScalarMultiplications + right.MultiScalarMultiplications, left.PointAdditions + right.PointAdditions, left.Hashes + right.Hashes, left.HashesToGroup + right.HashesToGroup, left.FixedBaseMultiplications + right.FixedBaseMultiplications);
    }

    /// <summary>Named subtraction (CA2225).</summary>
    /// <param name="left">The later snapshot.</param>
    /// <param name="right">The earlier snapshot.</param>
    /// <returns>The difference.</returns>
    public static DaaOpCounts Subtract(DaaOpCounts left, DaaOpCounts right) => left - right;

    /// <summary>Named addition (CA2225).</summary>
    /// <param name="left">One record.</param>
    /// <param name="right">The other.</param>
    /// <returns>The sum.</returns>
    public static DaaOpCounts Add(DaaOpCounts left, DaaOpCounts right) => left + right;
}
