namespace TrustStack.Daa.Tmz;

/// <summary>A DAA entity.</summary>
public enum NsEntity
{
    /// <summary>The TPM.</summary>
    Tpm,

    /// <summary>The Host.</summary>
    Host,

    /// <summary>The Issuer.</summary>
    Issuer,

    /// <summary>The Verifier.</summary>
    Verifier,
}

/// <summary>A DAA protocol phase.</summary>
public enum NsPhase
{
    /// <summary>Issuer setup.</summary>
    Setup,

    /// <summary>Join.</summary>
    Join,

    /// <summary>Sign.</summary>
    Sign,

    /// <summary>Verify.</summary>
    Verify,
}

/// <summary>A high-level operation of the model.</summary>
public enum NsOperation
{
    /// <summary>One scalar multiplication in an elliptic-curve group (w-NAF, Jacobian or extended coordinates).</summary>
    EcScalarMultiplication,

    /// <summary>One multi-scalar multiplication Σ kᵢ·Pᵢ (Straus, shared doublings) with <see cref="NsStep.Terms"/> terms.</summary>
    EcMultiScalarMultiplication,

    /// <summary>One point addition.</summary>
    EcAddition,

    /// <summary>One scalar multiplication in G2 of a pairing group (over Fp2).</summary>
    EcScalarMultiplicationG2,

    /// <summary>One hash (SHA-256) over <see cref="NsStep.Blocks"/> 64-octet blocks.</summary>
    Hash,

    /// <summary>One hash to the group (SHA-2 and a square root / Elligator map).</summary>
    HashToGroup,

    /// <summary>One modular exponentiation (sliding window, Montgomery multiplication).</summary>
    ModularExponentiation,

    /// <summary>One optimal-ate pairing on a 256-bit BN curve (Miller loop and final exponentiation).</summary>
    Pairing,

    /// <summary>
    /// One scalar multiplication of a long-lived base with a precomputed table (the group's
    /// <see cref="NsGroupArithmetic.FixedBase"/> algorithm: a fixed-point comb, or a signed-radix
    /// table of the base point).
    /// </summary>
    EcFixedBaseMultiplication,
}

/// <summary>One line of a protocol description: an entity performs <see cref="Count"/> operations in a phase.</summary>
/// <param name="Entity">The entity.</param>
/// <param name="Phase">The phase.</param>
/// <param name="Operation">The operation.</param>
/// <param name="Count">How many.</param>
/// <param name="Bits">Field/group size in bits (EC, pairing) or exponent bits (modular exponentiation).</param>
/// <param name="ModulusBits">Modulus bits (modular exponentiation only).</param>
/// <param name="Terms">Terms of a multi-scalar multiplication.</param>
/// <param name="Blocks">Hash blocks.</param>
/// <param name="What">What the operation computes.</param>
/// <param name="FixedTerms">Of a multi-scalar multiplication's terms, those on the fixed-base path (joint combs where
/// the group has multi-scalar multiplication and all terms are fixed; separate fixed-base multiplications otherwise).</param>
public sealed record NsStep(NsEntity Entity, NsPhase Phase, NsOperation Operation, int Count, int Bits, int ModulusBits = 0, int Terms = 1, int Blocks = 1, string What = "", int FixedTerms = 0);

/// <summary>A protocol described for the model.</summary>
/// <param name="Name">The protocol's name.</param>
/// <param name="Description">Parameters and sources.</param>
/// <param name="HasMultiScalarMultiplication">Whether the group back end evaluates sums of products with shared doublings.</param>
/// <param name="Steps">The operations.</param>
/// <param name="Arithmetic">The arithmetic of the implementation that runs the group (word size, limbs, reduction,
/// fixed-base and variable-base algorithms); null: Montgomery multiplication at the CPU profile's word size, w-NAF.</param>
public sealed record NsProtocol(string Name, string Description, bool HasMultiScalarMultiplication, IReadOnlyList<NsStep> Steps, NsGroupArithmetic? Arithmetic = null)
{
    /// <summary>The high-level counts of an entity in a phase, in the instrumented counters' terms.</summary>
    /// <param name="entity">The entity.</param>
    /// <param name="phase">The phase.</param>
    /// <returns>The counts.</returns>
    public DaaOpCounts Counts(NsEntity entity, NsPhase phase)
    {
        long mul = 0, msm = 0, add = 0, hash = 0, h2g = 0, fixedBase = 0;
        foreach (var s in Steps.Where(s => s.Entity == entity && s.Phase == phase))
        {
            switch (s.Operation)
            {
                case NsOperation.EcScalarMultiplication or NsOperation.EcScalarMultiplicationG2:
                    mul += s.Count;
                    break;
                case NsOperation.EcFixedBaseMultiplication:
                    mul += s.Count;
                    fixedBase += s.Count;
                    break;
                case NsOperation.EcMultiScalarMultiplication:
                    mul += (long)s.Count * s.Terms;
                    fixedBase += (long)s.Count * s.FixedTerms;
                    msm += s.Count;
                    add += (long)s.Count * (s.Terms - 1);
                    break;
                case NsOperation.EcAddition:
                    add += s.Count;
                    break;
                case NsOperation.Hash:
                    hash += s.Count;
                    break;
                case NsOperation.HashToGroup:
                    h2g += s.Count;
                    break;
            }
        }

        return new DaaOpCounts(mul, msm, add, hash, h2g, fixedBase);
    }
}

/// <summary>One row of the model's result.</summary>
/// <param name="Protocol">The protocol.</param>
/// <param name="Entity">The entity.</param>
/// <param name="Phase">The phase.</param>
/// <param name="Counts">High-level counts (EC operations, hashes).</param>
/// <param name="ModularExponentiations">Modular exponentiations.</param>
/// <param name="Pairings">Pairings.</param>
/// <param name="WordOps">The decomposition into word operations.</param>
/// <param name="Cycles">Cycles under the profile.</param>
/// <param name="Microseconds">Cycles divided by the profile's clock.</param>
public sealed record NsRow(string Protocol, NsEntity Entity, NsPhase Phase, DaaOpCounts Counts, int ModularExponentiations, int Pairings, NsWordOps WordOps, double Cycles, double Microseconds);
