namespace TrustStack.Daa.Tmz;

/// <summary>Extracted DAA keys fi of compromised TPMs; a signature with W = fi·S is rejected (FIDO ECDAA v2.0 §3.6).</summary>
public sealed class EcdaaRogueList : RogueKeyList
{
    /// <summary>Whether <paramref name="w"/> = fi·<paramref name="s"/> for a listed fi (one G1 multiplication per key).</summary>
    /// <param name="w">W (or Q).</param>
    /// <param name="s">S (or P1).</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>True when listed.</returns>
    public bool Contains(BnG1Point w, BnG1Point s, EcdaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(s);
        var keys = Snapshot();

        return keys.Any(f => s.Multiply(f, counter).Equals(w));
    }
}
