namespace TrustStack.Daa.Tmz;

/// <summary>Extracted DAA keys fi of compromised TPMs; a signature with N = fi·J is rejected.</summary>
public sealed class TmzRogueList : RogueKeyList
{
    /// <summary>Whether <paramref name="n"/> = fi·<paramref name="j"/> for a listed fi (one scalar multiplication per key).</summary>
    /// <param name="n">N.</param>
    /// <param name="j">J.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>True when listed.</returns>
    public bool Contains(DaaPoint n, DaaPoint j, DaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(n);
        ArgumentNullException.ThrowIfNull(j);
        foreach (var f in Snapshot())
        {
            if (j.Group.Multiply(j, f, counter).FixedTimeEquals(n))
            {
                return true;
            }
        }

        return false;
    }
}
