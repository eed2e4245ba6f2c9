using FsCheck.Xunit;

namespace TrustStack.Vmm.ShadowPaging.Tests;

/// <summary>The shadow MMU agrees with the reference (guest walk composed with the P2M map) except where MMU-vTPM denies.</summary>
public sealed class HypervisorPropertyTests
{
    private const int DataFrames = 64;

    [Property(MaxTest = 200)]
    public bool Translate_RandomLayouts_EqualsGuestWalkThenP2M(ulong[] seeds, byte protectSelector)
    {
        var hv = new Hypervisor(new MachineMemory(2048));
        var guest = hv.CreateDomain("guest", DomainKind.Guest, initialFrames: DataFrames, maxGuestFrames: 1024);
        var ctx = hv.CreateContext(guest, "guest ctx");
        var vtpm = hv.CreateDomain("vtpm", DomainKind.VTpm);
        var owner = hv.CreateContext(vtpm, "vtpm ctx");

        foreach (var s in seeds)
        {
            var (va, gfn, flags, _, _) = Decode(s);
            if (((s >> 44) & 7) == 0)
            {
                hv.GuestUnmap(ctx, va);
            }
            else
            {
                hv.GuestMap(ctx, va, gfn, flags);
            }

            hv.Invlpg(ctx, va);
        }

        // Warm TLB and shadow tables, then protect some data frames (the invalidation must catch up).
        var ok = CheckAll(hv, ctx, seeds);
        for (ulong g = 0; g < DataFrames; g++)
        {
            if ((g % 8) == (ulong)(protectSelector % 8) && guest.P2M.TryTranslate(g, out var mfn))
            {
                hv.ProtectFrame(mfn, owner);
            }
        }

        ok &= CheckAll(hv, ctx, seeds);
        hv.WriteCr3(ctx);
        ok &= CheckAll(hv, ctx, seeds);
        return ok;
    }

    private static bool CheckAll(Hypervisor hv, AddressSpaceContext ctx, ulong[] seeds)
    {
        foreach (var s in seeds)
        {
            var (va, _, _, access, privilege) = Decode(s);
            va += s >> 52;
            if (!Agrees(hv, ctx, va, access, privilege))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Agrees(Hypervisor hv, AddressSpaceContext ctx, ulong va, AccessKind access, PrivilegeLevel privilege)
    {
        var actual = hv.Translate(ctx, va, access, privilege);
        if (!hv.TryWalk(ctx, va, out var expected, out var flags))
        {
            return actual.Status is TranslationStatus.GuestPageFault or TranslationStatus.NotBacked;
        }

        if (!Hypervisor.Permits(flags, access, privilege))
        {
            return actual.Status == TranslationStatus.GuestPageFault;
        }

        var owner = hv.OwnerOf(expected >> 12);
        if (owner is not null && owner != ctx)
        {
            return actual.Status == TranslationStatus.Denied;
        }

        return actual.Status == TranslationStatus.Ok && actual.MachineAddress == expected;
    }

    private static (ulong Va, ulong Gfn, PageFlags Flags, AccessKind Access, PrivilegeLevel Privilege) Decode(ulong s)
    {
        var va = ((s >> 8) & 1) << 39 | ((s >> 6) & 3) << 30 | ((s >> 4) & 3) << 21 | (s & 15) << 12;
        var gfn = (s >> 16) % (DataFrames + 16);
        var bits = s >> 24;
        var flags = ((bits & 1) != 0 ? PageFlags.Writable : 0)
            | ((bits & 2) != 0 ? PageFlags.User : 0)
            | ((bits & 4) != 0 ? PageFlags.NoExecute : 0)
            | ((bits & 8) != 0 ? PageFlags.Global : 0)
            | ((bits & 16) != 0 ? PageFlags.Dirty : 0);
        var access = (AccessKind)((s >> 40) % 3);
        var privilege = ((s >> 42) & 1) == 0 ? PrivilegeLevel.Supervisor : PrivilegeLevel.User;
        return (va, gfn, flags, access, privilege);
    }
}
