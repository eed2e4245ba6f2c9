using System.Security.Cryptography;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>The layers of the TVP-QT virtualization-layer chain (book ch. 2), in the order they run.</summary>
public enum PlatformComponentKind
{
    /// <summary>Platform firmware, measured by the CRTM.</summary>
    Firmware,

    /// <summary>The host boot loader.</summary>
    BootLoader,

    /// <summary>The virtual machine monitor (hypervisor).</summary>
    Vmm,

    /// <summary>The management domain (dom0 / host OS).</summary>
    ManagementDomain,

    /// <summary>The vTPM manager.</summary>
    VTpmManager,

    /// <summary>The MMU-vTPM module that protects vTPM secrets in shadow page tables (book ch. 4).</summary>
    MmuVTpmModule,

    /// <summary>The trusted junction point that measures each vTPM before it runs.</summary>
    TrustedJunctionPoint,
}

/// <summary>The layers of a guest's boot chain, in the order they run.</summary>
public enum GuestComponentKind
{
    /// <summary>Virtual firmware (OVMF / SeaBIOS).</summary>
    VirtualFirmware,

    /// <summary>The guest boot loader.</summary>
    BootLoader,

    /// <summary>The guest kernel.</summary>
    Kernel,

    /// <summary>The initial RAM disk.</summary>
    Initrd,

    /// <summary>An application measured after the kernel runs.</summary>
    Application,
}

/// <summary>One component of the virtualization layer: what is measured (its content, for example the binary) and into which hardware PCR.</summary>
/// <param name="Name">Its name in the event log; unique in the profile, no line feed.</param>
/// <param name="Kind">Its layer.</param>
/// <param name="PcrIndex">The hardware PCR its measurement extends.</param>
/// <param name="Content">The measured octets (the component image).</param>
public sealed record PlatformComponent(string Name, PlatformComponentKind Kind, uint PcrIndex, byte[] Content)
{
    /// <summary>H_bank(<see cref="Content"/>): the digest extended into the PCR's bank.</summary>
    public byte[] Digest(TpmAlgId bank) => TpmHash.Hash(bank, Content);

    /// <summary>The SHA-256 digest of the content, the reference value a verifier compares.</summary>
    public byte[] Sha256 => SHA256.HashData(Content);
}

/// <summary>One component of a guest boot chain, measured into a vTPM PCR.</summary>
/// <param name="Name">Its name in the guest event log; unique in the profile, no line feed.</param>
/// <param name="Kind">Its layer.</param>
/// <param name="PcrIndex">The vTPM PCR its measurement extends.</param>
/// <param name="Content">The measured octets.</param>
public sealed record GuestComponent(string Name, GuestComponentKind Kind, uint PcrIndex, byte[] Content)
{
    /// <summary>H_bank(<see cref="Content"/>).</summary>
    public byte[] Digest(TpmAlgId bank) => TpmHash.Hash(bank, Content);

    /// <summary>The SHA-256 digest of the content.</summary>
    public byte[] Sha256 => SHA256.HashData(Content);
}

/// <summary>
/// The boot profile of the virtualization layer: the components in measure-before-run order,
/// one of each <see cref="PlatformComponentKind"/> in enum order, ending with the trusted
/// junction point. Each component is measured by its predecessor (the firmware by the CRTM).
/// </summary>
public sealed class PlatformBootProfile
{
    /// <summary>Creates a profile.</summary>
    /// <param name="components">The components in the order they run.</param>
    /// <exception cref="ArgumentException">Not exactly one component of each kind in enum order, a repeated or empty name, a name with a line feed, or a PCR above 23.</exception>
    public PlatformBootProfile(IEnumerable<PlatformComponent> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        Components = components.ToArray();
        var kinds = Enum.GetValues<PlatformComponentKind>();
        if (!Components.Select(c => c.Kind).SequenceEqual(kinds))
        {
            throw new ArgumentException($"A platform profile has one component of each kind in this order: {string.Join(", ", kinds)}.", nameof(components));
        }

        ProfileRules.Validate(Components.Select(c => (c.Name, c.PcrIndex, c.Content)), nameof(components));
    }

    /// <summary>The components in the order they run.</summary>
    public IReadOnlyList<PlatformComponent> Components { get; }

    /// <summary>The trusted junction point's component (the last one).</summary>
    public PlatformComponent JunctionPoint => Components[^1];

    /// <summary>
    /// The PCR a component of <paramref name="kind"/> extends by default: firmware 0 and boot
    /// loader 4 as in the PC Client PFP; the VMM and management domain 8 and 9 (static OS,
    /// as a boot loader logs a kernel and its modules); vTPM manager 12, MMU-vTPM module 13
    /// and junction point 14 (static-OS PCRs no firmware or boot loader uses).
    /// </summary>
    public static uint DefaultPcr(PlatformComponentKind kind) => kind switch
    {
        PlatformComponentKind.Firmware => 0,
        PlatformComponentKind.BootLoader => 4,
        PlatformComponentKind.Vmm => 8,
        PlatformComponentKind.ManagementDomain => 9,
        PlatformComponentKind.VTpmManager => 12,
        PlatformComponentKind.MmuVTpmModule => 13,
        PlatformComponentKind.TrustedJunctionPoint => 14,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The name a component of <paramref name="kind"/> gets in <see cref="Create"/>, for example "vmm".</summary>
    public static string DefaultName(PlatformComponentKind kind) => kind switch
    {
        PlatformComponentKind.Firmware => "firmware",
        PlatformComponentKind.BootLoader => "boot-loader",
        PlatformComponentKind.Vmm => "vmm",
        PlatformComponentKind.ManagementDomain => "management-domain",
        PlatformComponentKind.VTpmManager => "vtpm-manager",
        PlatformComponentKind.MmuVTpmModule => "mmu-vtpm",
        PlatformComponentKind.TrustedJunctionPoint => "trusted-junction-point",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>A profile with the default names and PCRs and the given component images.</summary>
    /// <param name="content">The image of each kind; called once per kind, in order.</param>
    public static PlatformBootProfile Create(Func<PlatformComponentKind, byte[]> content)
    {
        ArgumentNullException.ThrowIfNull(content);
        return new PlatformBootProfile(Enum.GetValues<PlatformComponentKind>().Select(k => new PlatformComponent(DefaultName(k), k, DefaultPcr(k), content(k))));
    }
}

/// <summary>
/// A guest boot chain in measure-before-run order: kinds never go back (virtual firmware, boot
/// loader, kernel, initrd, then any number of applications). The first is measured by the
/// vTPM's virtual root of trust, each later one by its predecessor.
/// </summary>
public sealed class GuestBootProfile
{
    /// <summary>Creates a profile.</summary>
    /// <param name="components">The components in the order they run.</param>
    /// <exception cref="ArgumentException">Empty, kinds out of order, a repeated or empty name, a name with a line feed, or a PCR above 23.</exception>
    public GuestBootProfile(IEnumerable<GuestComponent> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        Components = components.ToArray();
        if (Components.Count == 0 || Components.Zip(Components.Skip(1)).Any(p => p.Second.Kind < p.First.Kind))
        {
            throw new ArgumentException("A guest profile has at least one component, with kinds in boot order.", nameof(components));
        }

        ProfileRules.Validate(Components.Select(c => (c.Name, c.PcrIndex, c.Content)), nameof(components));
    }

    /// <summary>The components in the order they run.</summary>
    public IReadOnlyList<GuestComponent> Components { get; }

    /// <summary>
    /// The vPCR a guest component of <paramref name="kind"/> extends by default, as on a PC
    /// Client machine running Linux: virtual firmware 0, boot loader 4, kernel and initrd 9
    /// (as GRUB logs the files it loads), applications 10 (as IMA).
    /// </summary>
    public static uint DefaultPcr(GuestComponentKind kind) => kind switch
    {
        GuestComponentKind.VirtualFirmware => 0,
        GuestComponentKind.BootLoader => 4,
        GuestComponentKind.Kernel => 9,
        GuestComponentKind.Initrd => 9,
        GuestComponentKind.Application => 10,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}

internal static class ProfileRules
{
    public static void Validate(IEnumerable<(string Name, uint Pcr, byte[] Content)> components, string parameter)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, pcr, content) in components)
        {
            if (string.IsNullOrEmpty(name) || name.Contains('\n', StringComparison.Ordinal) || !names.Add(name))
            {
                throw new ArgumentException($"Component name '{name}' is empty, repeated or has a line feed.", parameter);
            }

            if (pcr > 23)
            {
                throw new ArgumentException($"Component '{name}' names PCR {pcr}; a TPM has PCRs 0..23.", parameter);
            }

            if (content is null)
            {
                throw new ArgumentException($"Component '{name}' has no content.", parameter);
            }
        }
    }
}
