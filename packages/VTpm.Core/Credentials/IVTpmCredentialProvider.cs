using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>What a credential provider gets when the vTPM manager manufactures a vTPM.</summary>
/// <param name="VmId">The VM the vTPM is bound to.</param>
/// <param name="VTpm">A client of the new vTPM (started; platform hierarchy available), valid only during the call.</param>
/// <param name="CodeDigest">The vTPM code identity (<see cref="VTpmManager.CodeDigest"/>) the junction point will measure.</param>
public sealed record VTpmCredentialContext(Guid VmId, Tpm2 VTpm, byte[] CodeDigest);

/// <summary>
/// Gives a newly manufactured vTPM its credentials (for example a vEK certificate in NV at the
/// TCG EK Credential Profile indices), as a TPM manufacturer does for a hardware TPM. The vTPM
/// manager calls it once per vTPM, when its engine is first manufactured, before its state is
/// first written. Throwing fails the vTPM's first start. Registered in DI as a single service;
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
