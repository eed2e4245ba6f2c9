using System.Numerics;

namespace TrustStack.Daa.Tmz;

/// <summary>
/// The ECDAA issuer public key (FIDO ECDAA v2.0 §3.3, "ipk"): X = x·P2, Y = y·P2 in G2 and a Schnorr
/// proof (c, sx, sy) of knowledge of x and y, with c = H(Ux ‖ Uy ‖ X ‖ Y), Ux = sx·P2 − c·X, Uy = sy·P2 − c·Y.
/// </summary>
/// <param name="X">X = x·P2.</param>
/// <param name="Y">Y = y·P2.</param>
/// <param name="C">The proof's challenge.</param>
/// <param name="Sx">sx = rx + c·x.</param>
/// <param name="Sy">sy = ry + c·y.</param>
public sealed record EcdaaIssuerPublicKey(BnG2Point X, BnG2Point Y, BigInteger C, BigInteger Sx, BigInteger Sy)
{
    internal const string ProofDomain = "ECDAA/issuer-key";

    /// <summary>Checks the proof of knowledge of x and y (4 G2 multiplications).</summary>
    /// <param name="counter">Optional counter.</param>
    /// <returns>True when it verifies.</returns>
    public bool VerifyProof(EcdaaOpCounter? counter = null)
    {
        if (X.IsIdentity || Y.IsIdentity || !X.IsInSubgroup() || !Y.IsInSubgroup())
        {
            return false;
        }

        var p2 = BnP256.G2Generator;
        var ux = p2.Multiply(Sx, counter).Add(X.Multiply(-C, counter));
        var uy = p2.Multiply(Sy, counter).Add(Y.Multiply(-C, counter));
        return Challenge(ux, uy, counter) == BnP256.Reduce(C);
    }

    internal BigInteger Challenge(BnG2Point ux, BnG2Point uy, EcdaaOpCounter? counter) =>
        EcdaaIssuer.HashToScalar(ProofDomain, [ux.ToArray(), uy.ToArray(), X.ToArray(), Y.ToArray()], counter);
}

/// <summary>TPM2_Commit's result on BN_P256: E = k·P1 (k·G without P1), and with a basename point J, K = f·J and L = k·J.</summary>
/// <param name="E">E.</param>
/// <param name="K">K = f·J, or null.</param>
/// <param name="L">L = k·J, or null.</param>
/// <param name="Counter">The commit counter for TPM2_Sign.</param>
public sealed record EcdaaCommitment(BnG1Point E, BnG1Point? K, BnG1Point? L, ushort Counter);

/// <summary>TPM2_Sign (scheme ECDAA) result: nT and s = k + c·f with c = SHA-256(nT ‖ c') mod r.</summary>
/// <param name="Nonce">nT.</param>
/// <param name="S">s.</param>
public sealed record EcdaaTpmSignature(byte[] Nonce, BigInteger S);

/// <summary>The Host's Join request: Q = f·P1 and the TPM's proof of f bound to the issuer nonce nI.</summary>
/// <param name="PublicKey">Q.</param>
/// <param name="Nonce">nI echoed.</param>
/// <param name="C">c = SHA-256(nT ‖ c') mod r, c' = H("ECDAA/join", P1, Q, nI, E).</param>
/// <param name="TpmNonce">nT.</param>
/// <param name="S">s = k + c·f.</param>
public sealed record EcdaaJoinRequest(BnG1Point PublicKey, byte[] Nonce, BigInteger C, byte[] TpmNonce, BigInteger S);

/// <summary>The ECDAA credential (A, B, C, D): A = l·P1, B = y·A, C = x·(A + D), D = (l·y)·Q = f·B.</summary>
/// <param name="A">A.</param>
/// <param name="B">B.</param>
/// <param name="C">C.</param>
/// <param name="D">D.</param>
public sealed record EcdaaCredential(BnG1Point A, BnG1Point B, BnG1Point C, BnG1Point D);

/// <summary>
/// The issuer's Join response (FIDO ECDAA v2.0 §3.4): the credential and a proof (c, s) that B and D use the
/// same exponent l·y: U = r·P1, V = r·Q, c = H(U ‖ V ‖ P1 ‖ B ‖ Q ‖ D), s = r + c·l·y.
/// </summary>
/// <param name="Credential">The credential.</param>
/// <param name="C">c.</param>
/// <param name="S">s.</param>
public sealed record EcdaaJoinResponse(EcdaaCredential Credential, BigInteger C, BigInteger S);

/// <summary>The outcome of the issuer's check of a Join request.</summary>
/// <param name="Response">The response when accepted.</param>
/// <param name="Reason">Why it was rejected, or null.</param>
public sealed record EcdaaIssuanceResult(EcdaaJoinResponse? Response, string? Reason)
{
    /// <summary>Whether the issuer issued a credential.</summary>
    public bool Accepted => Response is not null;
}

/// <summary>
/// An ECDAA signature σ = (R, S, T, W, J, K, c, nT, s): the randomized credential (R, S, T, W) = l·(A, B, C, D),
/// with a basename J = H(bsn) and the pseudonym K = f·J (both null for a fully anonymous signature), and the
/// TPM's Schnorr proof c = SHA-256(nT ‖ c'), s = k + c·f.
/// </summary>
/// <param name="R">R = l·A.</param>
/// <param name="S">S = l·B.</param>
/// <param name="T">T = l·C.</param>
/// <param name="W">W = l·D = f·S.</param>
/// <param name="J">J = H(bsn), or null.</param>
/// <param name="K">K = f·J, or null.</param>
/// <param name="C">c.</param>
/// <param name="TpmNonce">nT.</param>
/// <param name="Sf">s = k + c·f.</param>
public sealed record EcdaaSignature(BnG1Point R, BnG1Point S, BnG1Point T, BnG1Point W, BnG1Point? J, BnG1Point? K, BigInteger C, byte[] TpmNonce, BigInteger Sf);

/// <summary>The outcome of verifying an ECDAA signature.</summary>
/// <param name="IsValid">Whether it verifies.</param>
/// <param name="Reason">Why not, or null.</param>
public sealed record EcdaaVerificationResult(bool IsValid, string? Reason)
{
    internal static EcdaaVerificationResult Valid { get; } = new(true, null);

    internal static EcdaaVerificationResult Invalid(string reason) => new(false, reason);
}
