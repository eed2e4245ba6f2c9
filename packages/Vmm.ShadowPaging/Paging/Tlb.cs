namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// A direct-mapped translation lookaside buffer of one context: virtual page number to machine
/// frame and the effective permissions. Filled from the shadow page tables; flushed where x86
/// flushes (CR3 write keeps global entries, INVLPG drops one page), and by MMU-vTPM when the
/// protection of a frame changes.
/// </summary>
internal sealed class Tlb
{
    public const int Size = 512;

    private readonly Entry[] _entries = new Entry[Size];

    public int Count
    {
        get
        {
            var n = 0;
            foreach (ref readonly var e in _entries.AsSpan())
            {
                n += e.Tag != 0 ? 1 : 0;
            }

            return n;
        }
    }

    /// <summary>The entry for <paramref name="vpn"/>, or a null reference.</summary>
    public ref Entry Lookup(ulong vpn)
    {
        ref var e = ref _entries[(int)(vpn & (Size - 1))];
        if (e.Tag == vpn + 1)
        {
            return ref e;
        }

        return ref System.Runtime.CompilerServices.Unsafe.NullRef<Entry>();
    }

    public void Insert(ulong vpn, ulong mfn, PageFlags flags)
    {
        ref var e = ref _entries[(int)(vpn & (Size - 1))];
        e.Tag = vpn + 1;
        e.Mfn = mfn;
        e.Flags = flags;
    }

    /// <summary>INVLPG.</summary>
    public void Invalidate(ulong vpn)
    {
        ref var e = ref _entries[(int)(vpn & (Size - 1))];
        if (e.Tag == vpn + 1)
        {
            e = default;
        }
    }

    /// <summary>MOV CR3 with CR4.PGE=1: drops every entry but the global ones.</summary>
    public void FlushNonGlobal()
    {
        foreach (ref var e in _entries.AsSpan())
        {
            if ((e.Flags & PageFlags.Global) == 0)
            {
                e = default;
            }
        }
    }

    /// <summary>Drops every entry (a full flush, as toggling CR4.PGE does).</summary>
    public void FlushAll() => Array.Clear(_entries);

    /// <summary>Drops every entry that maps <paramref name="mfn"/>; returns how many.</summary>
    public int InvalidateFrame(ulong mfn)
    {
        var n = 0;
        foreach (ref var e in _entries.AsSpan())
        {
            if (e.Tag != 0 && e.Mfn == mfn)
            {
                e = default;
                n++;
            }
        }

        return n;
    }

    internal struct Entry
    {
        public ulong Tag;
        public ulong Mfn;
        public PageFlags Flags;
    }
}
