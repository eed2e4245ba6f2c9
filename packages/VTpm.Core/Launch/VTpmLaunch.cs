namespace TrustStack.VTpm.Core;

/// <summary>
/// What the trusted junction point measures when a VM's vTPM starts (book ch. 2, TVP-QT): the
/// vTPM's code identity, the digest of its initial state / vEK public area, and the VM it serves.
/// </summary>
/// <param name="VmId">The VM's UUID.</param>
/// <param name="CodeDigest">SHA-256 of the vTPM implementation (code identity).</param>
/// <param name="EkPublicDigest">SHA-256 of the vTPM's marshalled vEK public area (TPMT_PUBLIC).</param>
/// <param name="EkName">The vEK's TPM Name (nameAlg ‖ H(TPMT_PUBLIC)).</param>
public sealed record VTpmLaunch(Guid VmId, byte[] CodeDigest, byte[] EkPublicDigest, byte[] EkName);

/// <summary>
/// Called by the vTPM manager every time a vTPM starts, before the vTPM serves its guest
/// (the hand-over of the waterfall chain). The trusted junction point implements it; other
/// packages may observe launches too. Registered in DI as an enumerable service.
/// </summary>
public interface IVTpmLaunchObserver
{
    /// <summary>Measures or records <paramref name="launch"/>; throwing stops the launch.</summary>
    void OnLaunch(VTpmLaunch launch);
}
