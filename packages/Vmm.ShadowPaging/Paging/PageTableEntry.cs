namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// One 64-bit x86-64 paging-structure entry (PML4E, PDPTE, PDE or PTE): the flag bits of
/// <see cref="PageFlags"/> and a physical frame number in bits 12..51.
/// </summary>
/// <param name="Value">The raw entry.</param>
public readonly record struct PageTableEntry(ulong Value)
{
    /// <summary>Bits 12..51: the physical address of the next table or of a 4 KiB page.</summary>
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000UL;

    /// <summary>Bits 21..51: the physical address of a 2 MiB page (PDE with PS=1).</summary>
    public const ulong LargeAddressMask = 0x000F_FFFF_FFE0_0000UL;

    private const ulong FlagMask = 0x1FFUL | (1UL << 63);

    /// <summary>An entry that maps frame <paramref name="frameNumber"/> with <paramref name="flags"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The frame number does not fit in 40 bits.</exception>
    public static PageTableEntry Create(ulong frameNumber, PageFlags flags)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(frameNumber, AddressMask >> 12);
        return new((frameNumber << 12) | ((ulong)flags & FlagMask));
    }

    /// <summary>The flag bits (P, RW, US, PWT, PCD, A, D, PS, G, NX).</summary>
    public PageFlags Flags => (PageFlags)(Value & FlagMask);

    /// <summary>P.</summary>
    public bool IsPresent => (Value & (ulong)PageFlags.Present) != 0;

    /// <summary>R/W.</summary>
    public bool IsWritable => (Value & (ulong)PageFlags.Writable) != 0;

    /// <summary>U/S.</summary>
    public bool IsUser => (Value & (ulong)PageFlags.User) != 0;

    /// <summary>PS.</summary>
    public bool IsLargePage => (Value & (ulong)PageFlags.PageSize) != 0;

    /// <summary>NX.</summary>
    public bool IsNoExecute => (Value & (ulong)PageFlags.NoExecute) != 0;

    /// <summary>The frame number (bits 12..51 shifted down): next table, or the 4 KiB page.</summary>
    public ulong FrameNumber => (Value & AddressMask) >> 12;

    /// <summary>This entry with <paramref name="flags"/> added.</summary>
    public PageTableEntry With(PageFlags flags) => new(Value | (ulong)flags);

    /// <inheritdoc />
    public override string ToString() => IsPresent ? $"frame 0x{FrameNumber:x} {Flags}" : "not present";
}
