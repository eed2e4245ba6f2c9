namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// vTPM key private memory: machine frames that hold one secret of one vTPM instance, mapped only
/// in the owning context, zeroed when freed. Holds no copy of the contents.
/// </summary>
public sealed class VTpmPrivateRegion
{
    internal VTpmPrivateRegion(AddressSpaceContext owner, ulong virtualAddress, int length, string purpose, ulong[] guestFrames, ulong[] machineFrames)
    {
        Owner = owner;
        VirtualAddress = virtualAddress;
        Length = length;
        Purpose = purpose;
        GuestFrames = guestFrames;
        MachineFrames = machineFrames;
    }

    /// <summary>The owning context (the vTPM instance).</summary>
    public AddressSpaceContext Owner { get; }

    /// <summary>Where the region is mapped in the owner's address space.</summary>
    public ulong VirtualAddress { get; }

    /// <summary>Octets in use.</summary>
    public int Length { get; }

    /// <summary>What it holds ("EPS", "object 0x80000000 sensitive", ...), never the value.</summary>
    public string Purpose { get; }

    /// <summary>The owner domain's guest frames backing the region.</summary>
    public IReadOnlyList<ulong> GuestFrames { get; }

    /// <summary>The protected machine frames.</summary>
    public IReadOnlyList<ulong> MachineFrames { get; }

    /// <summary>True after <see cref="MmuVTpm.Free"/>.</summary>
    public bool IsFreed { get; internal set; }

    /// <inheritdoc />
    public override string ToString() => $"{Purpose}: {Length} octets at 0x{VirtualAddress:x} in {Owner.Name}, mfn {string.Join(',', MachineFrames.Select(m => $"0x{m:x}"))}";
}
