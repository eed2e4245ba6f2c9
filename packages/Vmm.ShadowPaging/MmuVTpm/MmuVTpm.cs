
namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// The MMU-vTPM module (book ch. 4, "shadow page table+"): allocates vTPM key private memory —
/// machine frames owned by one vTPM context, mapped in its address space and protected in the
/// hypervisor's shadow paging so that every other context (management domain included) is denied
/// and audited — and frees it zeroed. Not thread-safe: callers serialize.
/// </summary>
public sealed class MmuVTpm
{
    /// <summary>Where private regions are mapped in the owner's address space (a canonical kernel address).</summary>
    public const ulong PrivateWindowBase = 0xFFFF_C900_0000_0000UL;

    private const ulong LargeRegionBase = 0xFFFF_CA00_0000_0000UL;
    private const PageFlags PrivateFlags = PageFlags.Writable | PageFlags.NoExecute;

    private readonly List<VTpmPrivateRegion> _regions = [];
    private ulong _nextLargeRegion = LargeRegionBase;

    /// <summary>Creates the module over <paramref name="hypervisor"/>.</summary>
    /// <exception cref="ArgumentException">The hypervisor runs without access control.</exception>
    public MmuVTpm(Hypervisor hypervisor)
    {
        ArgumentNullException.ThrowIfNull(hypervisor);
        if (!hypervisor.AccessControlEnabled)
        {
            throw new ArgumentException("MMU-vTPM needs a hypervisor with access control enabled.", nameof(hypervisor));
        }

        Hypervisor = hypervisor;
    }

    /// <summary>The hypervisor whose shadow paging enforces the protection.</summary>
    public Hypervisor Hypervisor { get; }

    /// <summary>Regions currently allocated.</summary>
    public IReadOnlyList<VTpmPrivateRegion> Regions => _regions;

    /// <summary>
    /// Allocates private memory for <paramref name="length"/> octets owned by <paramref name="owner"/>:
    /// fresh guest frames of the owner's domain, mapped supervisor read-write no-execute in the
    /// owner's page tables, their machine frames protected for the owner (dropping any other mapping).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative length.</exception>
    public VTpmPrivateRegion Allocate(AddressSpaceContext owner, int length, string purpose)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(purpose);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var pages = Math.Max(1, (length + MachineMemory.FrameSize - 1) / MachineMemory.FrameSize);
        var gfns = new ulong[pages];
        var mfns = new ulong[pages];
        for (var i = 0; i < pages; i++)
        {
            gfns[i] = Hypervisor.AllocateGuestFrame(owner.Domain);
            owner.Domain.P2M.TryTranslate(gfns[i], out mfns[i]);
            Hypervisor.ProtectFrame(mfns[i], owner);
        }

        // One page: the slot follows the GFN, so slots are reused with frames. More: a fresh range.
        ulong va;
        if (pages == 1)
        {
            va = PrivateWindowBase + (gfns[0] << MachineMemory.FrameShift);
        }
        else
        {
            va = _nextLargeRegion;
            _nextLargeRegion += (ulong)(pages + 1) << MachineMemory.FrameShift;
        }

        for (var i = 0; i < pages; i++)
        {
            Hypervisor.GuestMap(owner, va + ((ulong)i << MachineMemory.FrameShift), gfns[i], PrivateFlags);
        }

        var region = new VTpmPrivateRegion(owner, va, length, purpose, gfns, mfns);
        _regions.Add(region);
        return region;
    }

    /// <summary>Reads the region through the owner's MMU (the vTPM's own access).</summary>
    /// <exception cref="ObjectDisposedException">The region was freed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the region.</exception>
    public TranslationStatus Read(VTpmPrivateRegion region, int offset, Span<byte> destination)
    {
        CheckRange(region, offset, destination.Length);
        return Hypervisor.Read(region.Owner, region.VirtualAddress + (ulong)offset, destination);
    }

    /// <summary>Writes the region through the owner's MMU (the vTPM's own access).</summary>
    /// <exception cref="ObjectDisposedException">The region was freed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the region.</exception>
    public TranslationStatus Write(VTpmPrivateRegion region, int offset, ReadOnlySpan<byte> source)
    {
        CheckRange(region, offset, source.Length);
        return Hypervisor.Write(region.Owner, region.VirtualAddress + (ulong)offset, source);
    }

    /// <summary>Frees the region: unmaps it in the owner (with INVLPG), lifts the protection, zeroes and frees its frames.</summary>
    public void Free(VTpmPrivateRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (region.IsFreed)
        {
            return;
        }

        for (var i = 0; i < region.GuestFrames.Count; i++)
        {
            var va = region.VirtualAddress + ((ulong)i << MachineMemory.FrameShift);
            Hypervisor.GuestUnmap(region.Owner, va);
            Hypervisor.Invlpg(region.Owner, va);
            Hypervisor.FreeGuestFrame(region.Owner.Domain, region.GuestFrames[i]);
        }

        region.IsFreed = true;
        _regions.Remove(region);
    }

    private static void CheckRange(VTpmPrivateRegion region, int offset, int length)
    {
        ArgumentNullException.ThrowIfNull(region);
        ObjectDisposedException.ThrowIf(region.IsFreed, region);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, region.Length - offset);
    }
}
