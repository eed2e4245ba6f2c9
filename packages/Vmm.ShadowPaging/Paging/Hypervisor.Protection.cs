namespace TrustStack.Vmm.ShadowPaging;

/// <summary>The MMU-vTPM protection table: which context owns each protected machine frame.</summary>
public sealed partial class Hypervisor
{
    /// <summary>The context that owns <paramref name="mfn"/> as vTPM private memory, or null when the frame is not protected.</summary>
    public AddressSpaceContext? OwnerOf(ulong mfn)
    {
        if (mfn >= (ulong)_owner.Length)
        {
            return null;
        }

        var owner = _owner[mfn];
        return owner == 0 ? null : _contexts[owner - 1];
    }

    /// <summary>
    /// Makes <paramref name="mfn"/> private to <paramref name="owner"/>, then removes every shadow
    /// entry and TLB entry that maps it in any other context (the TLB shootdown), so no mapping
    /// made before the change survives it.
    /// </summary>
    /// <returns>How many shadow and TLB entries were dropped in other contexts.</returns>
    /// <exception cref="ArgumentException">The frame is not allocated.</exception>
    public int ProtectFrame(ulong mfn, AddressSpaceContext owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (!Memory.IsAllocated(mfn))
        {
            throw new ArgumentException($"Machine frame {mfn} is not allocated.", nameof(mfn));
        }

        _owner[mfn] = owner.Id;
        var dropped = 0;
        foreach (var context in _contexts)
        {
            if (context != owner)
            {
                dropped += RemoveShadowMappings(context, mfn);
                dropped += context.Tlb.InvalidateFrame(mfn);
            }
        }

        return dropped;
    }

    /// <summary>Ends the protection of <paramref name="mfn"/> and drops every mapping of it (the owner's too), so the next access re-checks.</summary>
    public void UnprotectFrame(ulong mfn)
    {
        if (mfn >= (ulong)_owner.Length)
        {
            return;
        }

        _owner[mfn] = 0;
        foreach (var context in _contexts)
        {
            RemoveShadowMappings(context, mfn);
            context.Tlb.InvalidateFrame(mfn);
        }
    }

    /// <summary>
    /// Fault injection for attack experiments: plants a TLB entry in <paramref name="context"/>
    /// without any check, as a missed TLB shootdown would leave it. MMU-vTPM's check on the
    /// TLB-hit path is what still denies it.
    /// </summary>
    public static void PlantStaleTlbEntry(AddressSpaceContext context, ulong va, ulong mfn, PageFlags flags)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Tlb.Insert(VirtualAddress.PageNumber(va), mfn, flags | PageFlags.Present);
    }
}
