using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>Extracted DAA keys fi of compromised TPMs; a signature with N = fi·J is rejected.</summary>
public sealed class TmzRogueList
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

    /// <summary>Whether <paramref name="n"/> = fi·<paramref name="j"/> for a listed fi (one scalar multiplication per key).</summary>
    /// <param name="n">N.</param>
    /// <param name="j">J.</param>
    /// <param name="counter">Optional counter.</param>
    /// <returns>True when listed.</returns>
    public bool Contains(DaaPoint n, DaaPoint j, DaaOpCounter? counter = null)
    {
        ArgumentNullException.ThrowIfNull(n);
        ArgumentNullException.ThrowIfNull(j);
        BigInteger[] keys;
        lock (_lock)
        {
            keys = [.. _keys];
        }

        foreach (var f in keys)
        {
            if (j.Group.Multiply(j, f, counter).FixedTimeEquals(n))
            {
                return true;
            }
        }

        return false;
    }
}
