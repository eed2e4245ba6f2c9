using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The TPM role of TMZ-DAA: holds f, commits (TPM2_Commit) and signs (TPM2_Sign, scheme ECDAA).
/// <see cref="SoftwareTmzTpm"/> plays it in software in any group; <c>Tpm2TmzTpm</c> drives a
/// TPM 2.0 (our engine or swtpm) over any transport on NIST P-256.
/// </summary>
public interface ITmzTpm
{
    /// <summary>The group of the DAA key.</summary>
    DaaGroup Group { get; }

    /// <summary>Q = f·G.</summary>
    DaaPoint PublicKey { get; }

    /// <summary>The TPM's endorsement (EK and the DAA key's binding).</summary>
    TmzEndorsement Endorsement { get; }

    /// <summary>Recovers the secret of a credential protected to the EK for the DAA key's Name (TPM2_ActivateCredential).</summary>
    /// <param name="credential">The credential.</param>
    /// <returns>The secret.</returns>
    byte[] ActivateCredential(TpmCredential credential);

    /// <summary>TPM2_Commit: E = k·P1 (k·G when <paramref name="p1"/> is null); with <paramref name="basename"/> J also K = f·J, L = k·J.</summary>
    /// <param name="p1">P1, or null.</param>
    /// <param name="basename">J with its (s2, y2), or null.</param>
    /// <returns>The commitment.</returns>
    TmzCommitment Commit(DaaPoint? p1, DaaHashedPoint? basename);

    /// <summary>TPM2_Sign (ECDAA) with the committed k: nT, s = k + c·f, c = SHA-256(nT ‖ digest) mod q.</summary>
    /// <param name="counter">The commit counter.</param>
    /// <param name="digest">c' (32 octets).</param>
    /// <returns>The split signature.</returns>
    TmzTpmSignature Sign(ushort counter, byte[] digest);
}
