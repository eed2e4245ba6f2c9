using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>Options of the VTpm.Core package: where the vTPM manager keeps state and how it seals it.</summary>
public sealed class VTpmCoreOptions
{
    /// <summary>Whether the package's services are enabled in a composed platform.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The manager's state folder: the sealed state key (<c>vtpm-state-key.sealed</c>), the VM
    /// index and one encrypted file per vTPM under <c>vtpms/</c>, the migration journal under
    /// <c>migrations/</c>. The manager owns it while it lives (an OS lock on <c>.lock</c>; a second
    /// manager on it fails naming the holder's pid) and keeps it owner-only: folders 0700, files
    /// 0600. <see langword="null"/> keeps every vTPM in memory only (encrypted under a per-process
    /// key), with no hardware TPM needed.
    /// </summary>
    public string? StateDirectory { get; set; }

    /// <summary>
    /// The hardware PCRs that measure the virtualization layer (firmware, boot loader, VMM,
    /// management domain, vTPM manager), in <see cref="PcrSelectionList.Parse"/> syntax. The state
    /// key is sealed to their values: if any changes, no vTPM opens.
    /// </summary>
    public string VirtualizationLayerPcrs { get; set; } = "sha256:0,1,2,3,4,5,6,7";

    /// <summary>PCR banks of each vTPM (swtpm_setup allocates SHA-256 only by default).</summary>
    public IReadOnlyList<TpmAlgId> VTpmPcrBanks { get; set; } = [TpmAlgId.Sha256];

    /// <summary>Start each vTPM with TPM2_Startup(CLEAR) on power-on (swtpm's <c>--flags startup-clear</c>); guest firmware that sends its own Startup gets TPM_RC_INITIALIZE, which it tolerates.</summary>
    public bool AutoStartup { get; set; } = true;

    /// <summary>Deterministic mode: each vTPM engine's DRBG is seeded from this seed and its VM UUID. <see langword="null"/> (the default) uses the OS CSPRNG.</summary>
    public ulong? Seed { get; set; }

    /// <summary>Bounds on unauthenticated migration offers to this manager's <see cref="VTpmMigrationDestination"/> (rate, count, timeout).</summary>
    public VTpmMigrationDestinationOptions IncomingMigrations { get; set; } = new();

    /// <summary>Throws when the options cannot build a manager.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate()
    {
        if (StateDirectory is { } dir && string.IsNullOrWhiteSpace(dir))
        {
            throw new ArgumentException("StateDirectory must be null or a path.", nameof(StateDirectory));
        }

        PcrSelectionList selection;
        try
        {
            selection = PcrSelectionList.Parse(VirtualizationLayerPcrs);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"VirtualizationLayerPcrs '{VirtualizationLayerPcrs}': {e.Message}", nameof(VirtualizationLayerPcrs), e);
        }

        if (!selection.Enumerate().Any())
        {
            throw new ArgumentException("VirtualizationLayerPcrs selects no PCR.", nameof(VirtualizationLayerPcrs));
        }

        new SoftwareTpmOptions { PcrBanks = VTpmPcrBanks }.Validate();
        if (IncomingMigrations is null)
        {
            throw new ArgumentException("IncomingMigrations must not be null.", nameof(IncomingMigrations));
        }

        try
        {
            IncomingMigrations.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ArgumentException($"IncomingMigrations.{e.ParamName}: {e.Message}", nameof(IncomingMigrations), e);
        }
    }
}
