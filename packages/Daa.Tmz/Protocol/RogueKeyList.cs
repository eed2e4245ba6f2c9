using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The DAA keys f extracted from compromised TPMs (the rogue list of DAA): every scheme checks a
/// signature's pseudonym against f·base for each listed f. Thread-safe; checks see a snapshot.
/// </summary>
public abstract class RogueKeyList
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

    /// <summary>The listed keys at this moment.</summary>
    /// <returns>A copy.</returns>
    protected BigInteger[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _keys];
        }
    }
}
