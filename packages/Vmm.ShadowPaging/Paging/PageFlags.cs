namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// The flag bits of an x86-64 paging-structure entry (Intel SDM Vol. 3A §4.5, Tables 4-14..4-20).
/// </summary>
[Flags]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1028:Enum Storage should be Int32", Justification = "Paging entries are 64-bit; NX is bit 63.")]
public enum PageFlags : ulong
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>P (bit 0): the entry is present.</summary>
    Present = 1UL << 0,

    /// <summary>R/W (bit 1): writes allowed.</summary>
    Writable = 1UL << 1,

    /// <summary>U/S (bit 2): user-mode accesses allowed.</summary>
    User = 1UL << 2,

    /// <summary>PWT (bit 3): page-level write-through.</summary>
    WriteThrough = 1UL << 3,

    /// <summary>PCD (bit 4): page-level cache disable.</summary>
    CacheDisable = 1UL << 4,

    /// <summary>A (bit 5): accessed, set by the processor.</summary>
    Accessed = 1UL << 5,

    /// <summary>D (bit 6, leaf entries only): dirty, set by the processor on a write.</summary>
    Dirty = 1UL << 6,

    /// <summary>PS (bit 7 of a PDPTE or PDE): the entry maps a large page (1 GiB or 2 MiB).</summary>
    PageSize = 1UL << 7,

    /// <summary>G (bit 8, leaf entries only): global translation, kept across CR3 writes when CR4.PGE=1.</summary>
    Global = 1UL << 8,

    /// <summary>XD/NX (bit 63): instruction fetches not allowed (EFER.NXE=1).</summary>
    NoExecute = 1UL << 63,
}
