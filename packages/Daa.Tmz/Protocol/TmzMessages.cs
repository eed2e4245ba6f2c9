using System.Numerics;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Daa.Tmz;

/// <summary>A hashed-to-group element J; on a TPM curve also (s2, y2) with x(J) = SHA-256(s2) mod p, the TPM2_Commit inputs.</summary>
/// <param name="Point">J.</param>
/// <param name="S2">s2 (null for groups a TPM does not implement).</param>
/// <param name="Y2">y2 (null likewise).</param>
public sealed record DaaHashedPoint(DaaPoint Point, byte[]? S2, byte[]? Y2);

/// <summary>The result of the TPM's commit (TPM2_Commit): E = k·P1, and with a basename point J, K = f·J and L = k·J.</summary>
/// <param name="E">E.</param>
/// <param name="K">K = f·J (N of the signature), or null without J.</param>
/// <param name="L">L = k·J, or null without J.</param>
/// <param name="Counter">The commit counter to pass to the signing step.</param>
public sealed record TmzCommitment(DaaPoint E, DaaPoint? K, DaaPoint? L, ushort Counter);

/// <summary>The TPM's split signature (TPM2_Sign with ECDAA): nonce nT and s = k + c·f with c = SHA-256(nT ‖ c') mod q.</summary>
/// <param name="Nonce">nT exactly as the TPM returned it.</param>
/// <param name="S">s.</param>
public sealed record TmzTpmSignature(byte[] Nonce, BigInteger S);

/// <summary>
/// How the issuer authenticates a TPM: its endorsement key and the DAA key the credential must be bound to.
/// A hardware TPM gives TPM 2.0 public areas (the credential is made with TPM2_MakeCredential semantics for the DAA key's Name);
/// the software TPM role gives a group element as its EK (an ECIES-style stand-in for credential activation).
/// </summary>
/// <param name="EkPublic">The TPM's EK public area (hardware), or null.</param>
/// <param name="KeyPublic">The DAA key's public area (hardware), or null.</param>
/// <param name="SoftwareEk">The software TPM's EK element, or null.</param>
/// <param name="PublicKey">Q, the DAA public key.</param>
public sealed record TmzEndorsement(TpmtPublic? EkPublic, TpmtPublic? KeyPublic, DaaPoint? SoftwareEk, DaaPoint PublicKey)
{
    /// <summary>The Name the credential is bound to (the DAA key's TPM Name, or a hash of Q for the software role).</summary>
    public byte[] KeyName => KeyPublic?.GetName() ?? SoftwareKeyName(PublicKey);

    /// <summary>SHA-256 of the EK's encoding: what an issuer's list of genuine TPMs holds.</summary>
    public string EkFingerprint => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
        EkPublic?.ToBytes() ?? SoftwareEk?.ToArray() ?? throw new InvalidOperationException("no endorsement key")));

    internal static byte[] SoftwareKeyName(DaaPoint q)
    {
        var name = new byte[34];
        name[1] = 0x0B;
        DaaGroup.HashItems("TMZ-DAA/software-key", [System.Text.Encoding.UTF8.GetBytes(q.Group.Name), q.ToArray()]).CopyTo(name, 2);
        return name;
    }
}

/// <summary>The issuer's first Join message: a nonce and a credential only the genuine TPM can activate.</summary>
/// <param name="Nonce">nI.</param>
/// <param name="Credential">The credential protected to the EK for the DAA key's Name.</param>
public sealed record TmzJoinChallenge(byte[] Nonce, TpmCredential Credential);

/// <summary>The Host's Join request: the DAA key, the TPM's proof of f bound to nI, and the activated secret.</summary>
/// <param name="Endorsement">The TPM's endorsement.</param>
/// <param name="Nonce">nI echoed.</param>
/// <param name="ActivatedSecret">The secret the TPM recovered from the credential.</param>
/// <param name="C">The proof's challenge c.</param>
/// <param name="TpmNonce">nT.</param>
/// <param name="S">s = k + c·f.</param>
public sealed record TmzJoinRequest(TmzEndorsement Endorsement, byte[] Nonce, byte[] ActivatedSecret, BigInteger C, byte[] TpmNonce, BigInteger S);

/// <summary>A Schnorr-style proof that the issuer used its published keys: challenge and responses for (x0, x0~, x1).</summary>
/// <param name="C">The challenge.</param>
/// <param name="S0">Response for x0.</param>
/// <param name="S0Tilde">Response for x0~.</param>
/// <param name="S1">Response for x1.</param>
public sealed record TmzIssuerProof(BigInteger C, BigInteger S0, BigInteger S0Tilde, BigInteger S1);

/// <summary>The credential (U, U', F) with U' = (x0 + x1·f)·U and F = f·U.</summary>
/// <param name="U">U.</param>
/// <param name="UPrime">U'.</param>
/// <param name="F">F.</param>
public sealed record TmzCredential(DaaPoint U, DaaPoint UPrime, DaaPoint F);

/// <summary>The issuer's Join response: the credential and the proof it was computed with the published keys.</summary>
/// <param name="Credential">The credential.</param>
/// <param name="Proof">The proof.</param>
public sealed record TmzJoinResponse(TmzCredential Credential, TmzIssuerProof Proof);

/// <summary>The outcome of the issuer's check of a Join request.</summary>
/// <param name="Response">The response when accepted.</param>
/// <param name="Reason">Why it was rejected, or null.</param>
public sealed record TmzIssuanceResult(TmzJoinResponse? Response, string? Reason)
{
    /// <summary>Whether the issuer issued a credential.</summary>
    public bool Accepted => Response is not null;
}

/// <summary>A TMZ-DAA signature σ = (Ur, Cf, CU, J, N, c, nT, sf, sz, sr).</summary>
/// <param name="Ur">r·U.</param>
/// <param name="Cf">f·Ur + z·H.</param>
/// <param name="CU">r·U' + r'·G.</param>
/// <param name="J">The basename element.</param>
/// <param name="N">f·J (the pseudonym).</param>
/// <param name="C">c = SHA-256(nT ‖ c') mod q.</param>
/// <param name="TpmNonce">nT.</param>
/// <param name="Sf">sf = k + c·f.</param>
/// <param name="Sz">sz = kz + c·z.</param>
/// <param name="Sr">sr = kr + c·r'.</param>
public sealed record TmzSignature(DaaPoint Ur, DaaPoint Cf, DaaPoint CU, DaaPoint J, DaaPoint N, BigInteger C, byte[] TpmNonce, BigInteger Sf, BigInteger Sz, BigInteger Sr);

/// <summary>The outcome of verifying a signature.</summary>
/// <param name="IsValid">Whether the signature verifies.</param>
/// <param name="Reason">Why it was rejected, or null.</param>
public sealed record TmzVerificationResult(bool IsValid, string? Reason)
{
    internal static TmzVerificationResult Valid { get; } = new(true, null);

    internal static TmzVerificationResult Invalid(string reason) => new(false, reason);
}
