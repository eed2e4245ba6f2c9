namespace TrustStack.Vmm.ShadowPaging;

/// <summary>x86-64 4-level (48-bit) virtual-address arithmetic.</summary>
public static class VirtualAddress
{
    /// <summary>Entries per paging structure.</summary>
    public const int EntriesPerTable = 512;

    /// <summary>Size of a large (2 MiB) page.</summary>
    public const ulong LargePageSize = 2UL << 20;

    /// <summary>Whether <paramref name="va"/> is canonical (bits 63..47 all equal).</summary>
    public static bool IsCanonical(ulong va)
    {
        var top = va >> 47;
        return top == 0 || top == 0x1FFFF;
    }

    /// <summary>The index of <paramref name="va"/> in the paging structure of <paramref name="level"/> (4 = PML4 ... 1 = PT).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The level is not 1..4.</exception>
    public static int Index(ulong va, int level)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, 4);
        return IndexUnchecked(va, level);
    }

    /// <summary>The virtual page number (bits 12..47).</summary>
    public static ulong PageNumber(ulong va) => (va >> 12) & 0xF_FFFF_FFFFUL;

    internal static int IndexUnchecked(ulong va, int level) => (int)((va >> (12 + (9 * (level - 1)))) & 0x1FF);
}
