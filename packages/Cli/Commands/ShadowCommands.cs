using System.CommandLine;
using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;
using TrustStack.Vmm.ShadowPaging;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack shadow demo [--seed N]</c>: MMU-vTPM (book ch. 4) on the modelled shadow-paging
/// VMM — a vTPM engine's secrets in protected frames, the named attacks on them (management
/// domain, another guest, the guest kernel, a stale TLB entry) with the audit log, and the
/// module's integrity: static measurement, a modified code page detected and restored from the
/// TPM-sealed backup. Exit 0 only if every attack was denied and the module was repaired.
/// </summary>
internal static class ShadowCommands
{
    private const ulong AttackVa = 0x0000_7F00_0000_0000UL;

    /// <summary>The <c>shadow</c> command with its <c>demo</c> sub-command.</summary>
    public static Command Create()
    {
        var seed = new Option<ulong>("--seed") { Description = "Seed of the vTPM and hardware TPM engines.", HelpName = "N", DefaultValueFactory = _ => 1 };
        var demo = new Command("demo", "Run the MMU-vTPM attacks and the module-integrity repair on the shadow-paging model.") { seed };
        demo.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            return Run(parseResult.GetValue(seed), output) ? 0 : 1;
        });
        return new Command("shadow", "MMU-vTPM: shadow page table+ protection of vTPM secrets.") { demo };
    }

    private static bool Run(ulong seed, TextWriter output)
    {
        var store = MmuVTpmSecretStore.CreatePlatform(machineFrames: 2048, vtpmName: "vtpm-1", timeProvider: new FixedClock());
        var hv = store.Hypervisor;
        using var engine = new SoftwareTpm(new SoftwareTpmOptions { Seed = seed, AutoStartup = true }, secretStore: store);
        using var vtpm = new Tpm2(engine);
        var vek = vtpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        var region = store.Regions.Single(r => r.Purpose == $"object 0x{vek.Handle:x8} sensitive");
        var mfn = region.MachineFrames[0];
        output.WriteLine("MMU-vTPM (shadow page table+) on a modelled shadow-paging VMM");
        output.WriteLine($"  vTPM {store.Context.Name}: {store.Regions.Count} secrets in protected frames; vEK private area in mfn 0x{mfn:x}");
        output.WriteLine();
        output.WriteLine("  Attacks on the vEK frame:");

        var dom0 = hv.Domains.Single(d => d.Kind == DomainKind.Management);
        var dom0Ctx = hv.Contexts.Single(c => c.Domain == dom0);
        var guest1 = hv.CreateDomain("guest-1", DomainKind.Guest, initialFrames: 4);
        var guest1Kernel = hv.CreateContext(guest1, "guest-1 kernel");
        var guest2 = hv.CreateDomain("guest-2", DomainKind.Guest, initialFrames: 4);
        var guest2Ctx = hv.CreateContext(guest2, "guest-2");
        var guest3 = hv.CreateDomain("guest-3", DomainKind.Guest, initialFrames: 4);
        var guest3Ctx = hv.CreateContext(guest3, "guest-3");

        var allDenied = true;
        allDenied &= Attack(output, "management domain reads", () => ForeignAccess(hv, dom0, dom0Ctx, mfn, write: false, PrivilegeLevel.User));
        allDenied &= Attack(output, "management domain writes", () => ForeignAccess(hv, dom0, dom0Ctx, mfn, write: true, PrivilegeLevel.User));
        allDenied &= Attack(output, "another guest reads", () => ForeignAccess(hv, guest2, guest2Ctx, mfn, write: false, PrivilegeLevel.User));
        allDenied &= Attack(output, "guest kernel writes", () => ForeignAccess(hv, guest1, guest1Kernel, mfn, write: true, PrivilegeLevel.Supervisor));
        allDenied &= Attack(output, "stale TLB entry reads", () =>
        {
            Hypervisor.PlantStaleTlbEntry(guest3Ctx, AttackVa, mfn, PageFlags.Writable | PageFlags.User | PageFlags.Dirty);
            return hv.Read(guest3Ctx, AttackVa, new byte[8]);
        });

        output.WriteLine();
        output.WriteLine("  Audit log:");
        foreach (var denial in hv.AuditLog)
        {
            output.WriteLine($"    {denial}");
        }

        vtpm.FlushContext(vek.Handle);

        // Module integrity on the platform's hardware TPM (an embedded engine here).
        output.WriteLine();
        output.WriteLine("  Module integrity (hardware TPM PCR sha256:14):");
        using var hardware = new SoftwareTpm(new SoftwareTpmOptions { Seed = seed ^ 0xA5A5, AutoStartup = true });
        using var hardwareClient = new Tpm2(hardware);
        var monitor = new ModuleIntegrityMonitor(hv, hardwareClient, DeterministicRandomSource.FromSeed(seed), 14, new FixedClock());
        var image = ModuleImage();
        monitor.Load("TrustStack.Vmm.ShadowPaging", image);
        output.WriteLine($"    loaded {image.Length} octets in {monitor.CodeFrames.Count} code pages, sha256 {Convert.ToHexStringLower(monitor.ReferenceDigest.Span)}");
        hv.Memory.Frame(monitor.CodeFrames[^1])[7] ^= 0x90;
        output.WriteLine($"    attack: one octet of code page {monitor.CodeFrames.Count - 1} patched in machine memory");
        var check = monitor.Check();
        var recheck = monitor.Check();
        foreach (var e in monitor.Events)
        {
            output.WriteLine($"    {e.Kind,-17} {e.Detail}");
        }

        var repaired = !check.Intact && check.Restored && recheck.Intact;
        output.WriteLine();
        output.WriteLine(allDenied && repaired
            ? "Result: PROTECTED — every attack denied and audited; the modified module was detected and restored."
            : "Result: NOT PROTECTED — see above.");
        return allDenied && repaired;
    }

    private static bool Attack(TextWriter output, string name, Func<TranslationStatus> attack)
    {
        var status = attack();
        var denied = status == TranslationStatus.Denied;
        output.WriteLine($"    [{(denied ? "DENIED" : "ALLOWED")}] {name}");
        return denied;
    }

    private static TranslationStatus ForeignAccess(Hypervisor hv, Domain domain, AddressSpaceContext context, ulong mfn, bool write, PrivilegeLevel privilege)
    {
        const ulong gfn = 300;
        hv.MapForeignFrame(domain, gfn, mfn);
        hv.GuestMap(context, AttackVa, gfn, PageFlags.Writable | PageFlags.User);
        return write ? hv.Write(context, AttackVa, new byte[8], privilege) : hv.Read(context, AttackVa, new byte[8], privilege);
    }

    /// <summary>The module's code image: the package assembly's file when it has one, else a fixed stand-in.</summary>
    private static byte[] ModuleImage()
    {
        var location = typeof(Hypervisor).Assembly.Location;
        return !string.IsNullOrEmpty(location) && File.Exists(location)
            ? File.ReadAllBytes(location)
            : SHA256.HashData("TrustStack.Vmm.ShadowPaging"u8);
    }

    private sealed class FixedClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    }
}
