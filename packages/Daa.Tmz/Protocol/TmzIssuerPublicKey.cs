using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>The issuer's public key X0 = x0·G + x0~·H, X1 = x1·H, with a proof of knowledge of (x0, x0~, x1).</summary>
/// <param name="Group">The group.</param>
/// <param name="X0">X0.</param>
/// <param name="X1">X1.</param>
/// <param name="Proof">The proof of knowledge (challenge and responses).</param>
public sealed record TmzIssuerPublicKey(DaaGroup Group, DaaPoint X0, DaaPoint X1, TmzIssuerProof Proof)
{
    internal const string SetupDomain = "TMZ-DAA/issuer-key";

    /// <summary>Checks the proof of knowledge (A0' = s0·G + s0~·H − c·X0, A1' = s1·H − c·X1).</summary>
    /// <param name="counter">Optional counter.</param>
    /// <returns>True when the key is well formed and the proof verifies.</returns>
    public bool VerifyProof(DaaOpCounter? counter = null)
    {
        if (X0.IsIdentity || X1.IsIdentity)
        {
            return false;
        }

        var g = Group;
        var a0 = g.MultiplyAdd([(g.Generator, Proof.S0), (g.H, Proof.S0Tilde), (X0, -Proof.C)], counter);
        var a1 = g.MultiplyAdd([(g.H, Proof.S1), (X1, -Proof.C)], counter);
        return SetupChallenge(a0, a1, counter) == g.Reduce(Proof.C);
    }

    /// <summary>The encoded public parameters every challenge hashes: group name, G, H, X0, X1.</summary>
    internal IEnumerable<byte[]> Parameters() => [System.Text.Encoding.UTF8.GetBytes(Group.Name), Group.Generator.ToArray(), Group.H.ToArray(), X0.ToArray(), X1.ToArray()];

    internal BigInteger SetupChallenge(DaaPoint a0, DaaPoint a1, DaaOpCounter? counter) =>
        Group.HashToScalar(SetupDomain, [.. Parameters(), a0.ToArray(), a1.ToArray()], counter);
}
