using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>What a credential provider gets when the vTPM manager manufactures a vTPM.</summary>
/// <param name="VmId">The VM the vTPM is bound to.</param>
/// <param name="VTpm">A client of the new vTPM (started; platform hierarchy available), valid only during the call.</param>
/// <param name="CodeDigest">The vTPM code identity (<see cref="VTpmManager.CodeDigest"/>) the junction point will measure.</param>
public sealed record VTpmCredentialContext(Guid VmId, Tpm2 VTpm, byte[] CodeDigest)
{
    /// <summary>Why the provider is called: a new vTPM, or a migrated one arriving on this host.</summary>
    public VTpmCredentialOccasion Occasion { get; init; } = VTpmCredentialOccasion.Manufactured;
}

/// <summary>When the vTPM manager calls its <see cref="IVTpmCredentialProvider"/>.</summary>
public enum VTpmCredentialOccasion
{
    /// <summary>The vTPM's engine is manufactured: it gets its first credentials.</summary>
    Manufactured = 0,

    /// <summary>
    /// A vTPM migrated from another host is activated here: its keys came with it, but credentials
    /// that name the source host (a vEK certificate binding the source's hardware EK) must be
    /// replaced by ones for this host before it runs.
    /// </summary>
    MigratedIn = 1,
}

/// <summary>
/// Gives a newly manufactured vTPM its credentials (for example a vEK certificate in NV at the
/// TCG EK Credential Profile indices), as a TPM manufacturer does for a hardware TPM. The vTPM
/// manager calls it once per vTPM when its engine is first manufactured, before its state is
/// first written (throwing fails the vTPM's first start), and again on each host a migrated vTPM
/// is activated on, before it runs there (<see cref="VTpmCredentialContext.Occasion"/>
/// <see cref="VTpmCredentialOccasion.MigratedIn"/>; throwing leaves it incoming, not running).
/// Registered in DI as a single service;
/// the default (<see cref="NoVTpmCredentials"/>) does nothing.
/// </summary>
public interface IVTpmCredentialProvider
{
    /// <summary>Provisions the credentials of one new vTPM.</summary>
    /// <param name="context">The new vTPM.</param>
    void Provision(VTpmCredentialContext context);
}

/// <summary>The default credential provider: a vTPM gets no credentials.</summary>
public sealed class NoVTpmCredentials : IVTpmCredentialProvider
{
    /// <summary>The instance.</summary>
    public static NoVTpmCredentials Instance { get; } = new();

    /// <inheritdoc/>
    public void Provision(VTpmCredentialContext context)
    {
    }
}
