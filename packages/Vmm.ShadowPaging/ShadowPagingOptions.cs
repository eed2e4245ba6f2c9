namespace TrustStack.Vmm.ShadowPaging;

/// <summary>Where a vTPM engine built from DI keeps its secret material.</summary>
public enum SecretStoreBackend
{
    /// <summary>MMU-vTPM model: protected frames of a modelled shadow-paging VMM, owned by the vTPM's context (<see cref="MmuVTpmSecretStore"/>).</summary>
    MmuVTpmModel,

    /// <summary>Real guarded process memory: libsodium guarded allocations, no-access outside access windows (<see cref="GuardedMemorySecretStore"/>).</summary>
    GuardedMemory,
}

/// <summary>Options of the Vmm.ShadowPaging package.</summary>
public sealed class ShadowPagingOptions
{
    /// <summary>Whether the package registers its secret store; when false the platform keeps Tpm.Hardware's default store.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The secret-store back end (default: the MMU-vTPM model).</summary>
    public SecretStoreBackend Backend { get; set; } = SecretStoreBackend.MmuVTpmModel;

    /// <summary>Machine frames (4 KiB) of the modelled platform's memory, for <see cref="SecretStoreBackend.MmuVTpmModel"/>; 64..262144.</summary>
    public int MachineFrames { get; set; } = 8192;

    /// <summary>Name of the vTPM domain and context that own the secrets (model back end).</summary>
    public string VTpmName { get; set; } = "vtpm-1";

    /// <summary>The SHA-256 PCR of the hardware TPM that <see cref="ModuleIntegrityMonitor"/> measures the module into.</summary>
    public int IntegrityPcr { get; set; } = 14;
}
