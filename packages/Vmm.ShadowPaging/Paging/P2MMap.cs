namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// A domain's physical-to-machine map: guest (pseudo-)physical frame number (GFN) to machine
/// frame number (MFN), as Xen keeps it for paravirtual and shadow-mode guests.
/// </summary>
public sealed class P2MMap
{
    private readonly ulong[] _map;

    internal P2MMap(int maxGuestFrames) => _map = new ulong[maxGuestFrames];

    /// <summary>How many guest frames the domain may have (GFNs 0 .. Capacity-1).</summary>
    public int Capacity => _map.Length;

    /// <summary>Translates a guest frame number.</summary>
    /// <returns>True when <paramref name="gfn"/> is backed by a machine frame.</returns>
    public bool TryTranslate(ulong gfn, out ulong mfn)
    {
        if (gfn < (ulong)_map.Length)
        {
            mfn = _map[(int)gfn];
            return mfn != 0;
        }

        mfn = 0;
        return false;
    }

    internal void Set(ulong gfn, ulong mfn)
    {
        if (gfn >= (ulong)_map.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(gfn), gfn, $"The domain has {_map.Length} guest frames.");
        }

        _map[(int)gfn] = mfn;
    }

    internal void Clear(ulong gfn) => Set(gfn, 0);

    /// <summary>Every GFN that maps <paramref name="mfn"/>.</summary>
    public IEnumerable<ulong> GuestFramesOf(ulong mfn)
    {
        for (var i = 0; i < _map.Length; i++)
        {
            if (_map[i] == mfn && mfn != 0)
            {
                yield return (ulong)i;
            }
        }
    }
}
