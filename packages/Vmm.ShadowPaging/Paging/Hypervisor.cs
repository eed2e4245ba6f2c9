using System.Runtime.CompilerServices;

namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// The memory-virtualization core of a shadow-paging VMM ("shadow page table+"): domains with
/// their physical-to-machine maps, address-space contexts, guest page tables that live in guest
/// frames, shadow page tables filled by shadow page faults, one TLB per context — and, when
/// <see cref="AccessControlEnabled"/>, the MMU-vTPM access control that lets only the owning
/// context map a vTPM private frame. Not thread-safe: callers serialize (as one physical CPU does).
/// </summary>
public sealed partial class Hypervisor
{
    private const ulong TableFlags = (ulong)(PageFlags.Present | PageFlags.Writable | PageFlags.User);
    private const ulong LeafPermissionMask = (ulong)(PageFlags.Present | PageFlags.Writable | PageFlags.User | PageFlags.NoExecute);

    private readonly List<Domain> _domains = [];
    private readonly List<AddressSpaceContext> _contexts = [];
    private readonly int[] _owner;
    private readonly List<AccessDenial> _audit = [];
    private readonly TimeProvider _time;

    /// <summary>Creates a hypervisor over <paramref name="memory"/>.</summary>
    /// <param name="memory">Machine memory (guest frames, page tables, shadow tables all come from it).</param>
    /// <param name="accessControlEnabled">Whether MMU-vTPM checks run (false: a plain shadow-paging VMM, for comparison).</param>
    /// <param name="timeProvider">Clock for audit records; <see cref="TimeProvider.System"/> when null.</param>
    public Hypervisor(MachineMemory memory, bool accessControlEnabled = true, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        Memory = memory;
        AccessControlEnabled = accessControlEnabled;
        _time = timeProvider ?? TimeProvider.System;
        _owner = new int[memory.FrameCount];
    }

    /// <summary>The machine memory.</summary>
    public MachineMemory Memory { get; }

    /// <summary>Whether the MMU-vTPM access control runs on shadow fills, shadow hits and TLB hits.</summary>
    public bool AccessControlEnabled { get; }

    /// <summary>The domains, in creation order.</summary>
    public IReadOnlyList<Domain> Domains => _domains;

    /// <summary>The contexts, in creation order.</summary>
    public IReadOnlyList<AddressSpaceContext> Contexts => _contexts;

    /// <summary>Every access MMU-vTPM denied, oldest first.</summary>
    public IReadOnlyList<AccessDenial> AuditLog => _audit;

    /// <summary>Shadow page faults handled (guest walks) since creation.</summary>
    public long ShadowFaults { get; private set; }

    /// <summary>Creates a domain with <paramref name="initialFrames"/> guest frames backed by fresh machine frames.</summary>
    /// <param name="name">Name for logs and audit.</param>
    /// <param name="kind">What the domain is.</param>
    /// <param name="initialFrames">Guest frames to populate now (GFN 0 .. n-1).</param>
    /// <param name="maxGuestFrames">Size of the guest-physical space.</param>
    /// <exception cref="ArgumentOutOfRangeException">Bad sizes.</exception>
    public Domain CreateDomain(string name, DomainKind kind, int initialFrames = 0, int maxGuestFrames = 4096)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegative(initialFrames);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxGuestFrames, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(initialFrames, maxGuestFrames);
        var domain = new Domain(_domains.Count, name, kind, maxGuestFrames);
        _domains.Add(domain);
        for (var i = 0; i < initialFrames; i++)
        {
            AllocateGuestFrame(domain);
        }

        return domain;
    }

    /// <summary>Populates the domain's next guest frame with a fresh machine frame (a balloon-up of one page).</summary>
    /// <returns>The new GFN.</returns>
    /// <exception cref="InvalidOperationException">The domain's guest-physical space is full.</exception>
    public ulong AllocateGuestFrame(Domain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (domain.FreedGuestFrames.TryPop(out var reused))
        {
            domain.P2M.Set(reused, Memory.Allocate());
            return reused;
        }

        if (domain.NextGuestFrame >= (ulong)domain.P2M.Capacity)
        {
            throw new InvalidOperationException($"{domain} has no free guest frame.");
        }

        var gfn = domain.NextGuestFrame++;
        domain.P2M.Set(gfn, Memory.Allocate());
        return gfn;
    }

    /// <summary>Balloons out guest frame <paramref name="gfn"/>: its machine frame is zeroed and freed, every mapping of it dropped, and the GFN may be reused.</summary>
    /// <exception cref="ArgumentException">The guest frame is not backed.</exception>
    public void FreeGuestFrame(Domain domain, ulong gfn)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (!domain.P2M.TryTranslate(gfn, out var mfn))
        {
            throw new ArgumentException($"Guest frame {gfn} of {domain} is not backed.", nameof(gfn));
        }

        UnprotectFrame(mfn);
        domain.P2M.Clear(gfn);
        domain.FreedGuestFrames.Push(gfn);
        Memory.Free(mfn);
    }

    /// <summary>
    /// Maps machine frame <paramref name="mfn"/> at guest frame <paramref name="gfn"/> of
    /// <paramref name="domain"/> — what a privileged management domain does to map a foreign
    /// page (Xen's privcmd foreign mapping, XENMEM_add_to_physmap). The P2M accepts it; whether a
    /// virtual mapping of it can ever be used is up to the shadow paging access control.
    /// </summary>
    /// <exception cref="ArgumentException">The frame is not allocated.</exception>
    public void MapForeignFrame(Domain domain, ulong gfn, ulong mfn)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (!Memory.IsAllocated(mfn))
        {
            throw new ArgumentException($"Machine frame {mfn} is not allocated.", nameof(mfn));
        }

        domain.P2M.Set(gfn, mfn);
        domain.NextGuestFrame = Math.Max(domain.NextGuestFrame, gfn + 1);
        InvalidateGuestFrame(domain, gfn);
    }

    /// <summary>Creates a context of <paramref name="domain"/> with a fresh, empty guest PML4 (allocated in a new guest frame).</summary>
    public AddressSpaceContext CreateContext(Domain domain, string name)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var root = AllocateGuestFrame(domain);
        var context = new AddressSpaceContext(_contexts.Count + 1, name, domain, root, Memory.Allocate());
        _contexts.Add(context);
        return context;
    }

    /// <summary>
    /// The guest kernel maps <paramref name="va"/> to guest frame <paramref name="gfn"/> in its own
    /// page tables (allocating guest page-table frames as needed). The VMM write-protects guest page
    /// tables, so the write traps and the affected shadow entries are dropped; the TLB is not
    /// flushed (the guest must INVLPG, as on hardware).
    /// </summary>
    /// <param name="context">The context whose page tables change.</param>
    /// <param name="va">Canonical virtual address (4 KiB aligned, 2 MiB aligned for large pages).</param>
    /// <param name="gfn">Target guest frame (for a large page, the first of 512).</param>
    /// <param name="flags">Leaf flags; <see cref="PageFlags.Present"/> is added.</param>
    /// <param name="largePage">Map a 2 MiB page with a PDE (PS=1).</param>
    /// <exception cref="ArgumentException">The address is not canonical or not aligned, or a large page would replace a page table.</exception>
    public void GuestMap(AddressSpaceContext context, ulong va, ulong gfn, PageFlags flags, bool largePage = false)
    {
        ArgumentNullException.ThrowIfNull(context);
        var alignment = largePage ? VirtualAddress.LargePageSize : MachineMemory.FrameSize;
        if (!VirtualAddress.IsCanonical(va) || va % alignment != 0 || (largePage && gfn % 512 != 0))
        {
            throw new ArgumentException($"0x{va:x} is not a canonical {(largePage ? "2 MiB" : "4 KiB")}-aligned address (or the frame is misaligned).", nameof(va));
        }

        var leafLevel = largePage ? 2 : 1;
        var table = context.RootGfn;
        for (var level = 4; level > leafLevel; level--)
        {
            var entryAddress = GuestEntryAddress(context, table, VirtualAddress.IndexUnchecked(va, level), va);
            var entry = new PageTableEntry(Memory.ReadU64(entryAddress));
            if (!entry.IsPresent)
            {
                var next = AllocateGuestFrame(context.Domain);
                entry = new PageTableEntry((next << 12) | TableFlags);
                Memory.WriteU64(entryAddress, entry.Value);
            }
            else if (entry.IsLargePage)
            {
                throw new ArgumentException($"0x{va:x} lies in a large page; unmap it first.", nameof(va));
            }

            table = entry.FrameNumber;
        }

        var leaf = GuestEntryAddress(context, table, VirtualAddress.IndexUnchecked(va, leafLevel), va);
        var existing = new PageTableEntry(Memory.ReadU64(leaf));
        if (largePage && existing.IsPresent && !existing.IsLargePage)
        {
            throw new ArgumentException($"0x{va:x} has a page table under it; a large page cannot replace it here.", nameof(va));
        }

        var value = PageTableEntry.Create(gfn, flags | PageFlags.Present | (largePage ? PageFlags.PageSize : PageFlags.None));
        Memory.WriteU64(leaf, value.Value);
        OnGuestPageTableWrite(context, va, largePage || existing.IsLargePage);
    }

    /// <summary>The guest kernel clears the leaf entry for <paramref name="va"/> (no TLB flush: INVLPG is the guest's job).</summary>
    /// <returns>True when a mapping was removed.</returns>
    public bool GuestUnmap(AddressSpaceContext context, ulong va)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!VirtualAddress.IsCanonical(va))
        {
            return false;
        }

        var table = context.RootGfn;
        for (var level = 4; level >= 1; level--)
        {
            var entryAddress = GuestEntryAddress(context, table, VirtualAddress.IndexUnchecked(va, level), va);
            var entry = new PageTableEntry(Memory.ReadU64(entryAddress));
            if (!entry.IsPresent)
            {
                return false;
            }

            if (level == 1 || (level == 2 && entry.IsLargePage))
            {
                Memory.WriteU64(entryAddress, 0);
                OnGuestPageTableWrite(context, va, entry.IsLargePage && level == 2);
                return true;
            }

            table = entry.FrameNumber;
        }

        return false;
    }

    /// <summary>INVLPG <paramref name="va"/> in <paramref name="context"/>: drops its TLB entry and its shadow entry.</summary>
    public void Invlpg(AddressSpaceContext context, ulong va)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Tlb.Invalidate(VirtualAddress.PageNumber(va));
        ClearShadowLeaf(context, va);
    }

    /// <summary>MOV CR3 with the same root: flushes the context's non-global TLB entries (shadow tables stay; they are kept in sync by the page-table write traps).</summary>
    public void WriteCr3(AddressSpaceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Tlb.FlushNonGlobal();
    }

    /// <summary>MOV CR3 with a new root: the context now walks the tables at <paramref name="rootGfn"/>; its shadow tables are rebuilt on demand and non-global TLB entries flushed.</summary>
    public void LoadCr3(AddressSpaceContext context, ulong rootGfn)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Domain.P2M.TryTranslate(rootGfn, out _))
        {
            throw new ArgumentException($"Guest frame {rootGfn} of {context.Domain} is not backed.", nameof(rootGfn));
        }

        context.RootGfn = rootGfn;
        ResetShadow(context);
        context.Tlb.FlushNonGlobal();
    }

    /// <summary>Number of valid TLB entries of <paramref name="context"/>.</summary>
    public static int TlbEntryCount(AddressSpaceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Tlb.Count;
    }

    /// <summary>
    /// Translates <paramref name="va"/> for an access as the MMU would: TLB, then shadow page tables,
    /// then a shadow page fault (guest walk, P2M, access control, new shadow entry). MMU-vTPM checks
    /// the machine frame on every path. Allocation-free unless the access is denied (audit record).
    /// </summary>
    public Translation Translate(AddressSpaceContext context, ulong va, AccessKind access, PrivilegeLevel privilege = PrivilegeLevel.Supervisor)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!VirtualAddress.IsCanonical(va))
        {
            return new(TranslationStatus.NonCanonical, 0, TranslationPath.TlbHit);
        }

        var vpn = VirtualAddress.PageNumber(va);
        var offset = va & (MachineMemory.FrameSize - 1);
        ref var hit = ref context.Tlb.Lookup(vpn);
        if (!Unsafe.IsNullRef(ref hit) && Permits(hit.Flags, access, privilege))
        {
            if (AccessControlEnabled && IsForeignProtected(hit.Mfn, context))
            {
                return Deny(context, va, hit.Mfn, access, privilege, DenialReason.ProtectedFrameOnTlbHit, TranslationPath.TlbHit);
            }

            return new(TranslationStatus.Ok, (hit.Mfn << MachineMemory.FrameShift) | offset, TranslationPath.TlbHit);
        }

        var shadow = ReadShadowLeaf(context, va);
        if (shadow.IsPresent && Permits(shadow.Flags, access, privilege))
        {
            var mfn = shadow.FrameNumber;
            if (AccessControlEnabled && IsForeignProtected(mfn, context))
            {
                return Deny(context, va, mfn, access, privilege, DenialReason.ProtectedFrameOnShadowHit, TranslationPath.ShadowHit);
            }

            context.Tlb.Insert(vpn, mfn, shadow.Flags);
            return new(TranslationStatus.Ok, (mfn << MachineMemory.FrameShift) | offset, TranslationPath.ShadowHit);
        }

        return ShadowFault(context, va, access, privilege);
    }

    /// <summary>Reads guest-virtual memory of <paramref name="context"/> into <paramref name="destination"/> (may cross pages).</summary>
    /// <returns><see cref="TranslationStatus.Ok"/>, or why the first failing page failed (nothing is read from it).</returns>
    public TranslationStatus Read(AddressSpaceContext context, ulong va, Span<byte> destination, PrivilegeLevel privilege = PrivilegeLevel.Supervisor)
    {
        while (!destination.IsEmpty)
        {
            var t = Translate(context, va, AccessKind.Read, privilege);
            if (!t.IsOk)
            {
                return t.Status;
            }

            var offset = (int)(t.MachineAddress & (MachineMemory.FrameSize - 1));
            var n = Math.Min(destination.Length, MachineMemory.FrameSize - offset);
            Memory.Frame(t.MachineFrame).Slice(offset, n).CopyTo(destination);
            destination = destination[n..];
            va = unchecked(va + (ulong)n);
        }

        return TranslationStatus.Ok;
    }

    /// <summary>Writes <paramref name="source"/> to guest-virtual memory of <paramref name="context"/> (may cross pages).</summary>
    /// <returns><see cref="TranslationStatus.Ok"/>, or why the first failing page failed (nothing is written to it).</returns>
    public TranslationStatus Write(AddressSpaceContext context, ulong va, ReadOnlySpan<byte> source, PrivilegeLevel privilege = PrivilegeLevel.Supervisor)
    {
        while (!source.IsEmpty)
        {
            var t = Translate(context, va, AccessKind.Write, privilege);
            if (!t.IsOk)
            {
                return t.Status;
            }

            var offset = (int)(t.MachineAddress & (MachineMemory.FrameSize - 1));
            var n = Math.Min(source.Length, MachineMemory.FrameSize - offset);
            source[..n].CopyTo(Memory.Frame(t.MachineFrame).Slice(offset, n));
            source = source[n..];
            va = unchecked(va + (ulong)n);
        }

        return TranslationStatus.Ok;
    }

    /// <summary>
    /// The reference translation, without shadow tables, TLB or access control: walks the guest
    /// page tables of <paramref name="context"/> (without setting A/D) and applies the P2M map.
    /// </summary>
    /// <returns>True with the machine address and the effective leaf flags when the guest maps <paramref name="va"/> and the P2M backs it.</returns>
    public bool TryWalk(AddressSpaceContext context, ulong va, out ulong machineAddress, out PageFlags effectiveFlags)
    {
        ArgumentNullException.ThrowIfNull(context);
        machineAddress = 0;
        if (!VirtualAddress.IsCanonical(va) ||
            WalkGuest(context, va, AccessKind.Read, PrivilegeLevel.Supervisor, setBits: false, checkAccessControl: false, out var gfn, out effectiveFlags, out _) != TranslationStatus.Ok ||
            !context.Domain.P2M.TryTranslate(gfn, out var mfn))
        {
            effectiveFlags = PageFlags.None;
            return false;
        }

        machineAddress = (mfn << MachineMemory.FrameShift) | (va & (MachineMemory.FrameSize - 1));
        return true;
    }

    /// <summary>Whether the effective flags allow the access (CR0.WP=1; SMEP/SMAP off).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Permits(PageFlags flags, AccessKind access, PrivilegeLevel privilege)
    {
        if ((flags & PageFlags.Present) == 0)
        {
            return false;
        }

        if (privilege == PrivilegeLevel.User && (flags & PageFlags.User) == 0)
        {
            return false;
        }

        return access switch
        {
            AccessKind.Write => (flags & PageFlags.Writable) != 0,
            AccessKind.Execute => (flags & PageFlags.NoExecute) == 0,
            _ => true,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsForeignProtected(ulong mfn, AddressSpaceContext context)
    {
        var owner = _owner[mfn];
        return owner != 0 && owner != context.Id;
    }

    private Translation ShadowFault(AddressSpaceContext context, ulong va, AccessKind access, PrivilegeLevel privilege)
    {
        ShadowFaults++;
        var status = WalkGuest(context, va, access, privilege, setBits: true, checkAccessControl: AccessControlEnabled, out var gfn, out var flags, out var deniedTable);
        if (status == TranslationStatus.Denied)
        {
            return Deny(context, va, deniedTable, access, privilege, DenialReason.ProtectedPageTable, TranslationPath.ShadowFill);
        }

        if (status != TranslationStatus.Ok)
        {
            return new(status, 0, TranslationPath.ShadowFill);
        }

        if (!context.Domain.P2M.TryTranslate(gfn, out var mfn))
        {
            return new(TranslationStatus.NotBacked, 0, TranslationPath.ShadowFill);
        }

        if (AccessControlEnabled && IsForeignProtected(mfn, context))
        {
            return Deny(context, va, mfn, access, privilege, DenialReason.ProtectedFrameOnShadowFill, TranslationPath.ShadowFill);
        }

        // Shadow entries of clean pages are read-only, so the first write faults and sets D in the guest entry.
        var shadowFlags = flags;
        if ((flags & PageFlags.Dirty) == 0)
        {
            shadowFlags &= ~PageFlags.Writable;
        }

        WriteShadowLeaf(context, va, PageTableEntry.Create(mfn, shadowFlags));
        context.Tlb.Insert(VirtualAddress.PageNumber(va), mfn, shadowFlags);
        return new(TranslationStatus.Ok, (mfn << MachineMemory.FrameShift) | (va & (MachineMemory.FrameSize - 1)), TranslationPath.ShadowFill);
    }

    /// <summary>The guest's 4-level walk (Intel SDM Vol. 3A §4.5), reading guest tables through the P2M.</summary>
    private TranslationStatus WalkGuest(AddressSpaceContext context, ulong va, AccessKind access, PrivilegeLevel privilege, bool setBits, bool checkAccessControl, out ulong gfn, out PageFlags effective, out ulong deniedTable)
    {
        gfn = 0;
        effective = PageFlags.None;
        deniedTable = 0;
        var p2m = context.Domain.P2M;
        var writable = true;
        var user = true;
        var noExecute = false;
        Span<ulong> entryAddresses = stackalloc ulong[4];
        var table = context.RootGfn;
        var depth = 0;
        PageTableEntry leaf = default;
        for (var level = 4; level >= 1; level--)
        {
            if (!p2m.TryTranslate(table, out var tableMfn))
            {
                return TranslationStatus.NotBacked;
            }

            if (checkAccessControl && IsForeignProtected(tableMfn, context))
            {
                deniedTable = tableMfn;
                return TranslationStatus.Denied;
            }

            var address = (tableMfn << MachineMemory.FrameShift) | ((ulong)VirtualAddress.IndexUnchecked(va, level) << 3);
            var entry = new PageTableEntry(Memory.ReadU64(address));
            if (!entry.IsPresent)
            {
                return TranslationStatus.GuestPageFault;
            }

            entryAddresses[depth++] = address;
            writable &= entry.IsWritable;
            user &= entry.IsUser;
            noExecute |= entry.IsNoExecute;
            if (level == 1)
            {
                leaf = entry;
                gfn = entry.FrameNumber;
                break;
            }

            if (entry.IsLargePage)
            {
                if (level != 2)
                {
                    // 1 GiB pages are not modelled: treat as a reserved-bit fault.
                    return TranslationStatus.GuestPageFault;
                }

                leaf = entry;
                gfn = ((entry.Value & PageTableEntry.LargeAddressMask) >> 12) + (ulong)VirtualAddress.IndexUnchecked(va, 1);
                break;
            }

            table = entry.FrameNumber;
        }

        effective = PageFlags.Present | PageFlags.Accessed
            | (writable ? PageFlags.Writable : 0)
            | (user ? PageFlags.User : 0)
            | (noExecute ? PageFlags.NoExecute : 0)
            | (leaf.Flags & (PageFlags.Global | PageFlags.WriteThrough | PageFlags.CacheDisable | PageFlags.Dirty));
        if (!Permits(effective, access, privilege))
        {
            effective = PageFlags.None;
            return TranslationStatus.GuestPageFault;
        }

        if (setBits)
        {
            for (var i = 0; i < depth; i++)
            {
                var e = Memory.ReadU64(entryAddresses[i]);
                var set = (ulong)PageFlags.Accessed | (i == depth - 1 && access == AccessKind.Write ? (ulong)PageFlags.Dirty : 0);
                if ((e & set) != set)
                {
                    Memory.WriteU64(entryAddresses[i], e | set);
                }
            }

            if (access == AccessKind.Write)
            {
                effective |= PageFlags.Dirty;
            }
        }

        return TranslationStatus.Ok;
    }

    private Translation Deny(AddressSpaceContext context, ulong va, ulong mfn, AccessKind access, PrivilegeLevel privilege, DenialReason reason, TranslationPath path)
    {
        var owner = _owner[mfn];
        var ownerName = owner > 0 && owner <= _contexts.Count ? _contexts[owner - 1].Name : "?";
        _audit.Add(new AccessDenial(_audit.Count + 1, _time.GetUtcNow(), context.Id, context.Name, context.Domain.Name, context.Domain.Kind, va, mfn, access, privilege, reason, ownerName));
        return new(TranslationStatus.Denied, 0, path);
    }

    /// <summary>The machine address of a guest page-table entry the VMM is about to emulate a write to (guest tables are write-protected).</summary>
    private ulong GuestEntryAddress(AddressSpaceContext context, ulong tableGfn, int index, ulong va)
    {
        if (!context.Domain.P2M.TryTranslate(tableGfn, out var mfn))
        {
            throw new InvalidOperationException($"Guest page-table frame {tableGfn} of {context.Domain} is not backed.");
        }

        if (AccessControlEnabled && IsForeignProtected(mfn, context))
        {
            Deny(context, va, mfn, AccessKind.Write, PrivilegeLevel.Supervisor, DenialReason.ProtectedPageTable, TranslationPath.ShadowFill);
            throw new UnauthorizedAccessException($"MMU-vTPM: {context.Name} may not use vTPM private frame 0x{mfn:x} as a page table.");
        }

        return (mfn << MachineMemory.FrameShift) | ((ulong)index << 3);
    }
}
