namespace TrustStack.Daa.Tmz;

/// <summary>
/// Counts the high-level operations one ECDAA entity performs: G1 and G2 scalar multiplications,
/// pairings, GT exponentiations, additions and hashes (the instrumented side of the NS validation,
/// like <see cref="DaaOpCounter"/> for TMZ-DAA). Not thread-safe; each entity owns one.
/// </summary>
public sealed class EcdaaOpCounter
{
    private long _g1, _g1Msm, _g1Add, _g2, _pairings, _gtExp, _hashes, _h2g;

    /// <summary>The current counts.</summary>
    /// <returns>The counts.</returns>
    public EcdaaOpCounts Snapshot() => new(_g1, _g1Msm, _g1Add, _g2, _pairings, _gtExp, _hashes, _h2g);

    /// <summary>Sets every count to zero.</summary>
    public void Reset() => _g1 = _g1Msm = _g1Add = _g2 = _pairings = _gtExp = _hashes = _h2g = 0;

    internal void G1Mul(int terms)
    {
        _g1 += terms;
        if (terms > 1)
        {
            _g1Msm++;
        }
    }

    internal void G1Add() => _g1Add++;

    internal void G2Mul() => _g2++;

    internal void Pairing() => _pairings++;

    internal void GtExp() => _gtExp++;

    internal void Hash() => _hashes++;

    internal void HashToGroup() => _h2g++;
}

/// <summary>ECDAA operation counts of one entity (see <see cref="EcdaaOpCounter"/>).</summary>
/// <param name="G1Multiplications">G1 scalar multiplications (each term of a multi-scalar multiplication once).</param>
/// <param name="G1MultiScalarMultiplications">G1 multi-scalar multiplication calls.</param>
/// <param name="G1Additions">G1 additions (including those combining the terms of a sum).</param>
/// <param name="G2Multiplications">G2 scalar multiplications.</param>
/// <param name="Pairings">Pairings.</param>
/// <param name="GtExponentiations">GT exponentiations.</param>
/// <param name="Hashes">Hash evaluations.</param>
/// <param name="HashesToGroup">Hashes to G1.</param>
public sealed record EcdaaOpCounts(long G1Multiplications, long G1MultiScalarMultiplications, long G1Additions, long G2Multiplications, long Pairings, long GtExponentiations, long Hashes, long HashesToGroup)
{
    /// <summary>
    /// The counts an NS protocol description states for an entity and phase, in these terms
    /// (G1 = <see cref="NsOperation.EcScalarMultiplication"/> and multi-scalar terms, G2 =
    /// <see cref="NsOperation.EcScalarMultiplicationG2"/>, <see cref="NsOperation.Pairing"/>).
    /// </summary>
    /// <param name="protocol">The description (<see cref="NsProtocols.Ecdaa"/>).</param>
    /// <param name="entity">The entity.</param>
    /// <param name="phase">The phase.</param>
    /// <returns>The counts.</returns>
    public static EcdaaOpCounts FromModel(NsProtocol protocol, NsEntity entity, NsPhase phase)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        long g1 = 0, msm = 0, add = 0, g2 = 0, pairings = 0, hashes = 0, h2g = 0;
        foreach (var s in protocol.Steps.Where(s => s.Entity == entity && s.Phase == phase))
        {
            switch (s.Operation)
            {
                case NsOperation.EcScalarMultiplication:
                    g1 += s.Count;
                    break;
                case NsOperation.EcMultiScalarMultiplication:
                    g1 += (long)s.Count * s.Terms;
                    msm += s.Count;
                    add += (long)s.Count * (s.Terms - 1);
                    break;
                case NsOperation.EcAddition:
                    add += s.Count;
                    break;
                case NsOperation.EcScalarMultiplicationG2:
                    g2 += s.Count;
                    break;
                case NsOperation.Pairing:
                    pairings += s.Count;
                    break;
                case NsOperation.Hash:
                    hashes += s.Count;
                    break;
                case NsOperation.HashToGroup:
                    h2g += s.Count;
                    break;
            }
        }

        return new(g1, msm, add, g2, pairings, 0, hashes, h2g);
    }
}
