namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// An address-space context: one guest page-table root (CR3) of one domain, with its shadow page
/// tables (what the real CR3 points at while the context runs) and its TLB.
/// </summary>
public sealed class AddressSpaceContext
{
    internal AddressSpaceContext(int id, string name, Domain domain, ulong rootGfn, ulong shadowRootMfn)
    {
        Id = id;
        Name = name;
        Domain = domain;
        RootGfn = rootGfn;
        ShadowRootMfn = shadowRootMfn;
        ShadowFrames.Add(shadowRootMfn);
    }

    /// <summary>Context id (1-based; 0 means "no owner" in the protection table).</summary>
    public int Id { get; }

    /// <summary>A name for logs and the audit trail.</summary>
    public string Name { get; }

    /// <summary>The domain the context belongs to.</summary>
    public Domain Domain { get; }

    /// <summary>The guest frame of the guest PML4 (guest CR3 = RootGfn &lt;&lt; 12).</summary>
    public ulong RootGfn { get; internal set; }

    /// <summary>The guest CR3 value (guest-physical address of the PML4).</summary>
    public ulong Cr3 => RootGfn << MachineMemory.FrameShift;

    /// <summary>The machine frame of the shadow PML4 (the real CR3 while the context runs).</summary>
    public ulong ShadowRootMfn { get; internal set; }

    internal Tlb Tlb { get; } = new();

    internal List<ulong> ShadowFrames { get; } = [];

    /// <inheritdoc />
    public override string ToString() => $"{Name} (ctx {Id}, {Domain.Name}, CR3 0x{Cr3:x})";
}
