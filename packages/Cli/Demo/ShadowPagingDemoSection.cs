using System.Buffers.Binary;
using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;
using TrustStack.Vmm.ShadowPaging;

namespace TrustStack.Cli.Demo;

/// <summary>
/// Book ch. 4 in the demo: a vTPM engine keeps its secrets in MMU-vTPM frames owned by the vTPM's
/// context; the management domain maps the frames that hold the vEK's private area and reads —
/// the shadow paging access control denies it and audits the attempt.
/// </summary>
internal static class ShadowPagingDemoSection
{
    /// <summary>Where dom0 maps the foreign vEK frame (guest-physical frame, virtual address).</summary>
    private const ulong AttackGfn = 15;
    private const ulong AttackVa = 0x0000_7F00_0000_0000UL;

    /// <summary>
    /// The section's steps. The vTPM engine's seed is derived from <paramref name="seedMaterial"/>
    /// (the demo passes its AK Name) rather than drawn from the demo's randomness, so the sections
    /// after this one see the same random stream as before it existed.
    /// </summary>
    public static IReadOnlyList<DemoStep> Run(ReadOnlySpan<byte> seedMaterial) => Run(seedMaterial, out _);

    /// <summary>The steps, and the hypervisor for callers that print its audit log.</summary>
    public static IReadOnlyList<DemoStep> Run(ReadOnlySpan<byte> seedMaterial, out Hypervisor hypervisor)
    {
        var seed = BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(seedMaterial));
        var store = MmuVTpmSecretStore.CreatePlatform(machineFrames: 2048, vtpmName: "vtpm-1", timeProvider: new DemoClock());
        hypervisor = store.Hypervisor;
        var steps = new List<DemoStep>();
        using var engine = new SoftwareTpm(new SoftwareTpmOptions { Seed = seed, AutoStartup = true }, secretStore: store);
        using var vtpm = new Tpm2(engine);
        var vek = vtpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());
        var region = store.Regions.Single(r => r.Purpose == $"object 0x{vek.Handle:x8} sensitive");
        var frames = string.Join(',', region.MachineFrames.Select(m => $"0x{m:x}"));
        steps.Add(new DemoStep("vEK held in MMU-vTPM frames", store.Hypervisor.OwnerOf(region.MachineFrames[0]) == store.Context,
            $"vEK private area ({region.Length} octets) in machine frame {frames}, mapped only in context {store.Context.Name}"));

        // The management domain (a compromised qemu-dm, say) maps the vEK frame as a foreign page and reads it.
        var hv = store.Hypervisor;
        var dom0 = hv.Domains.Single(d => d.Kind == DomainKind.Management);
        var dom0Context = hv.Contexts.Single(c => c.Domain == dom0);
        var before = hv.AuditLog.Count;
        hv.MapForeignFrame(dom0, AttackGfn, region.MachineFrames[0]);
        hv.GuestMap(dom0Context, AttackVa, AttackGfn, PageFlags.Writable | PageFlags.User | PageFlags.NoExecute);
        var stolen = new byte[region.Length];
        var status = hv.Read(dom0Context, AttackVa, stolen, PrivilegeLevel.User);
        var denied = status == TranslationStatus.Denied && hv.AuditLog.Count == before + 1 && stolen.AsSpan().IndexOfAnyExcept((byte)0) < 0;
        steps.Add(new DemoStep("dom0 read of vEK frames denied", denied,
            denied ? $"audited: {Describe(hv.AuditLog[^1])}" : $"the read returned {status}"));
        vtpm.FlushContext(vek.Handle);
        return steps;
    }

    private static string Describe(AccessDenial d) =>
        $"{d.ContextName} ({d.DomainKind}) {d.Access} va 0x{d.VirtualAddress:x} -> mfn 0x{d.MachineFrame:x} owned by {d.OwnerContextName}, {d.Reason}";

    /// <summary>A fixed clock so the audit trail is reproducible.</summary>
    private sealed class DemoClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    }
}
