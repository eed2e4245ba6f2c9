using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>Extracted DAA keys fi of compromised TPMs; a signature with W = fi·S is rejected (FIDO ECDAA v2.0 §3.6).</summary>
public sealed class EcdaaRogueList
{
    private readonly List<BigInteger> _keys = [];
    private readonly Lock _lock = new();

    /// <summary>The number of listed keys.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _keys.Count;
            }
        }
    }

    /// <summary>Lists an extracted key.</summary>
    /// <param name="f">The key.</param>
    public void Add(BigInteger f)
    {
        lock (_lock)
        {
            _keys.Add(f);
        }
    }

    /// <summary>Whether <paramref name="w"/> = fi·<paramref name="s"/> for a listed fi (one G1 multiplication per key).</summary>
    /// <param name="w">W (or Q).</param>
    /// <param name="s">S (or P1).</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>True when listed.</returns>
    public bool Contains(BnG1Point w, BnG1Point s, EcdaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(s);
        BigInteger[] keys;
        lock (_lock)
        {
            keys = [.. _keys];
        }

        return keys.Any(f => s.Multiply(f, counter).Equals(w));
    }
}
