namespace TrustStack.Daa.Tmz;

/// <summary>
/// The TPM role of ECDAA on BN_P256: holds f with Q = f·P1, commits (TPM2_Commit) and signs
/// (TPM2_Sign, scheme TPM_ALG_ECDAA). <see cref="SoftwareEcdaaTpm"/> plays it in software.
/// </summary>
public interface IEcdaaTpm
{
    /// <summary>Q = f·P1.</summary>
    BnG1Point PublicKey { get; }

    /// <summary>TPM2_Commit: E = k·P1 (k·G when <paramref name="p1"/> is null); with <paramref name="basename"/> J also K = f·J, L = k·J.</summary>
    /// <param name="p1">P1, or null.</param>
    /// <param name="basename">J with its (s2, y2), or null.</param>
    /// <returns>The commitment.</returns>
    EcdaaCommitment Commit(BnG1Point? p1, BnHashedG1Point? basename);

    /// <summary>TPM2_Sign (ECDAA) with the committed k: nT, s = k + c·f, c = SHA-256(nT ‖ digest) mod r.</summary>
    /// <param name="counter">The commit counter.</param>
    /// <param name="digest">c' (32 octets).</param>
    /// <returns>The TPM's part of the signature.</returns>
    EcdaaTpmSignature Sign(ushort counter, byte[] digest);
}
