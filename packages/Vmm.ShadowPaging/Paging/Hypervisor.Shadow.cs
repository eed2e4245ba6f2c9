namespace TrustStack.Vmm.ShadowPaging;

/// <summary>Shadow page-table maintenance: 4-level tables in machine frames, 4 KiB leaves only (large guest pages are splintered, as Xen's shadow code does).</summary>
public sealed partial class Hypervisor
{
    /// <summary>Number of machine frames holding <paramref name="context"/>'s shadow page tables.</summary>
    public static int ShadowFrameCount(AddressSpaceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.ShadowFrames.Count;
    }

    /// <summary>The shadow leaf entry for <paramref name="va"/> in <paramref name="context"/> (not present when none).</summary>
    public PageTableEntry ReadShadowEntry(AddressSpaceContext context, ulong va)
    {
        ArgumentNullException.ThrowIfNull(context);
        return VirtualAddress.IsCanonical(va) ? ReadShadowLeaf(context, va) : default;
    }

    private PageTableEntry ReadShadowLeaf(AddressSpaceContext context, ulong va)
    {
        var table = context.ShadowRootMfn;
        for (var level = 4; level > 1; level--)
        {
            var entry = Memory.ReadU64((table << MachineMemory.FrameShift) | ((ulong)VirtualAddress.IndexUnchecked(va, level) << 3));
            if ((entry & (ulong)PageFlags.Present) == 0)
            {
                return default;
            }

            table = (entry & PageTableEntry.AddressMask) >> 12;
        }

        return new PageTableEntry(Memory.ReadU64((table << MachineMemory.FrameShift) | ((ulong)VirtualAddress.IndexUnchecked(va, 1) << 3)));
    }

    private void WriteShadowLeaf(AddressSpaceContext context, ulong va, PageTableEntry leaf)
    {
        var table = context.ShadowRootMfn;
        for (var level = 4; level > 1; level--)
        {
            var address = (table << MachineMemory.FrameShift) | ((ulong)VirtualAddress.IndexUnchecked(va, level) << 3);
            var entry = Memory.ReadU64(address);
            if ((entry & (ulong)PageFlags.Present) == 0)
            {
                var next = Memory.Allocate();
                context.ShadowFrames.Add(next);
                entry = (next << 12) | TableFlags;
                Memory.WriteU64(address, entry);
            }

            table = (entry & PageTableEntry.AddressMask) >> 12;
        }

        Memory.WriteU64((table << MachineMemory.FrameShift) | ((ulong)VirtualAddress.IndexUnchecked(va, 1) << 3), leaf.Value);
    }

    private void ClearShadowLeaf(AddressSpaceContext context, ulong va)
    {
        if (!VirtualAddress.IsCanonical(va))
        {
            return;
        }

        var table = context.ShadowRootMfn;
        for (var level = 4; level > 1; level--)
        {
            var entry = Memory.ReadU64((table << MachineMemory.FrameShift) | ((ulong)VirtualAddress.IndexUnchecked(va, level) << 3));
            if ((entry & (ulong)PageFlags.Present) == 0)
            {
                return;
            }

            table = (entry & PageTableEntry.AddressMask) >> 12;
        }

        Memory.WriteU64((table << MachineMemory.FrameShift) | ((ulong)VirtualAddress.IndexUnchecked(va, 1) << 3), 0);
    }

    /// <summary>Drops every shadow table of the context but an empty root.</summary>
    private void ResetShadow(AddressSpaceContext context)
    {
        for (var i = 1; i < context.ShadowFrames.Count; i++)
        {
            Memory.Free(context.ShadowFrames[i]);
        }

        context.ShadowFrames.RemoveRange(1, context.ShadowFrames.Count - 1);
        Memory.Frame(context.ShadowRootMfn).Clear();
    }

    /// <summary>The trapped write to a write-protected guest page table: drop the shadow entries it affects in every context of the domain (the TLB keeps its entries until INVLPG or CR3).</summary>
    private void OnGuestPageTableWrite(AddressSpaceContext context, ulong va, bool largePage)
    {
        foreach (var other in _contexts)
        {
            if (other.Domain != context.Domain)
            {
                continue;
            }

            if (largePage)
            {
                for (ulong i = 0; i < 512; i++)
                {
                    ClearShadowLeaf(other, va + (i << MachineMemory.FrameShift));
                }
            }
            else
            {
                ClearShadowLeaf(other, va);
            }
        }
    }

    /// <summary>A P2M change for <paramref name="gfn"/>: shadows derived from the old frame are stale; drop the domain's shadows and TLBs.</summary>
    private void InvalidateGuestFrame(Domain domain, ulong gfn)
    {
        _ = gfn;
        foreach (var context in _contexts)
        {
            if (context.Domain == domain)
            {
                ResetShadow(context);
                context.Tlb.FlushAll();
            }
        }
    }

    /// <summary>Clears every shadow leaf of <paramref name="context"/> that maps <paramref name="mfn"/>; returns how many.</summary>
    private int RemoveShadowMappings(AddressSpaceContext context, ulong mfn) => RemoveShadowMappings(context.ShadowRootMfn, 4, mfn);

    private int RemoveShadowMappings(ulong table, int level, ulong mfn)
    {
        var removed = 0;
        for (var i = 0; i < VirtualAddress.EntriesPerTable; i++)
        {
            var address = (table << MachineMemory.FrameShift) | ((ulong)i << 3);
            var entry = Memory.ReadU64(address);
            if ((entry & (ulong)PageFlags.Present) == 0)
            {
                continue;
            }

            var frame = (entry & PageTableEntry.AddressMask) >> 12;
            if (level > 1)
            {
                removed += RemoveShadowMappings(frame, level - 1, mfn);
            }
            else if (frame == mfn)
            {
                Memory.WriteU64(address, 0);
                removed++;
            }
        }

        return removed;
    }
}
