using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>The response of TPM2_PolicySecret: a timeout and a ticket (both empty/null for expiration 0).</summary>
/// <param name="Timeout">The implementation-specific timeout (empty when no ticket was made).</param>
/// <param name="PolicyTicket">TPMT_TK_AUTH; a null ticket (TPM_RH_NULL, empty digest) when none was made.</param>
public sealed record PolicySecretResult(byte[] Timeout, TpmtTicket PolicyTicket);

/// <summary>Authorization sessions and policy commands (TPM 2.0 Part 3 §11 and §23).</summary>
public sealed partial class Tpm2
{
    /// <summary>SHA-256 of the authValues this client set on hierarchies, by hierarchy handle.</summary>
    private readonly Dictionary<uint, byte[]> _changedHierarchyAuth = [];

    /// <summary>
    /// TPM2_StartAuthSession: starts an HMAC, policy or trial session. The nonceCaller comes from
    /// the client's random source (digest-size octets); the session key is computed on this side
    /// as the TPM computes it (TPM 2.0 Part 1 §19.6.8). A salted session reads the public area of
    /// <paramref name="tpmKey"/> (TPM2_ReadPublic) and encrypts a fresh salt to it (label "SECRET").
    /// </summary>
    /// <param name="type">HMAC, policy or trial.</param>
    /// <param name="authHash">The session hash algorithm.</param>
    /// <param name="tpmKey">A loaded RSA or ECC decryption key to salt the session with, or <see cref="TpmRh.Null"/> for none.</param>
    /// <param name="bind">Entity the session is bound to, or <see cref="TpmRh.Null"/>.</param>
    /// <param name="bindAuth">The authValue of <paramref name="bind"/> (enters the session key).</param>
    /// <param name="symmetric">Parameter-encryption algorithm; <see cref="TpmtSymDef.Null"/> by default.</param>
    /// <returns>The session; dispose it to zero its key.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="authHash"/> is not a supported hash.</exception>
    /// <exception cref="TpmException">The TPM refused, for example TPM_RC_SESSION_MEMORY; or <paramref name="tpmKey"/> cannot take a salt (TPM_RC_ATTRIBUTES, TPM_RC_TYPE).</exception>
    public TpmSession StartAuthSession(TpmSe type, TpmAlgId authHash = TpmAlgId.Sha256, uint tpmKey = TpmRh.Null, uint bind = TpmRh.Null, ReadOnlySpan<byte> bindAuth = default, TpmtSymDef? symmetric = null)
    {
        var nonceCaller = Random.GetBytes(TpmHash.DigestSize(authHash));
        var sym = symmetric ?? TpmtSymDef.Null;
        byte[] salt = [];
        byte[] encryptedSalt = [];
        if (tpmKey != TpmRh.Null)
        {
            (salt, encryptedSalt) = SecretSharing.Encrypt(ReadPublicArea(tpmKey), "SECRET", Random);
        }

        byte[] sessionKey;
        byte[] nonceTpm;
        TpmResponse response;
        try
        {
            response = Execute(
                TpmCc.StartAuthSession,
                [tpmKey, bind],
                [],
                w =>
                {
                    w.WriteTpm2b(nonceCaller);
                    w.WriteTpm2b(encryptedSalt);
                    w.WriteU8((byte)type);
                    sym.Marshal(w);
                    w.WriteAlg(authHash);
                },
                responseHandleCount: 1);
            nonceTpm = response.Reader().ReadTpm2b(64);
            sessionKey = bind == TpmRh.Null && salt.Length == 0
                ? []
                : SessionCommands.ComputeSessionKey(authHash, TpmObject.TrimAuth(bindAuth), salt, nonceTpm, nonceCaller);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(salt);
        }

        var boundName = type == TpmSe.Hmac && bind != TpmRh.Null ? GetName(bind) : null;
        return new TpmSession(response.Handles[0], type, authHash, nonceTpm, sessionKey, boundName, bindAuth, sym) { NonceCaller = nonceCaller };
    }

    /// <summary>TPM2_PolicyPCR: the policy holds only while the selected PCRs have their current values.</summary>
    /// <param name="session">A policy or trial session.</param>
    /// <param name="pcrs">The PCRs.</param>
    /// <param name="pcrDigest">Expected digest of the PCR values; empty or null to take the current values.</param>
    /// <exception cref="TpmException">For example TPM_RC_VALUE (parameter 1) when <paramref name="pcrDigest"/> is not current.</exception>
    public void PolicyPcr(TpmSession session, PcrSelectionList pcrs, byte[]? pcrDigest = null)
    {
        ArgumentNullException.ThrowIfNull(pcrs);
        PolicyCommand(session, TpmCc.PolicyPCR, w =>
        {
            w.WriteTpm2b(pcrDigest ?? []);
            pcrs.Marshal(w);
        });
    }

    /// <summary>TPM2_PolicySecret: proves knowledge of <paramref name="authHandle"/>'s authValue (USER role).</summary>
    /// <param name="session">A policy or trial session.</param>
    /// <param name="authHandle">The entity whose authorization is required (a hierarchy, object, NV index...).</param>
    /// <param name="authorization">Authorization of <paramref name="authHandle"/>: a password or an HMAC session.</param>
    /// <param name="nonceTpm">The session's nonceTPM to bind the authorization to it, or null.</param>
    /// <param name="cpHashA">Digest of the command the policy will authorize, or null.</param>
    /// <param name="policyRef">Reference the policy includes, or null.</param>
    /// <param name="expiration">Expiration in seconds; only 0 is supported by the software TPM.</param>
    /// <returns>The timeout and ticket.</returns>
    /// <exception cref="TpmException">For example TPM_RC_BAD_AUTH when the authorization is wrong.</exception>
    public PolicySecretResult PolicySecret(TpmSession session, uint authHandle, TpmAuthorization authorization, byte[]? nonceTpm = null, byte[]? cpHashA = null, byte[]? policyRef = null, int expiration = 0)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(authorization);
        ObjectDisposedException.ThrowIf(session.IsClosed, session);
        var response = Execute(TpmCc.PolicySecret, [authHandle, session.Handle], [authorization], w =>
        {
            w.WriteTpm2b(nonceTpm ?? []);
            w.WriteTpm2b(cpHashA ?? []);
            w.WriteTpm2b(policyRef ?? []);
            w.WriteU32(unchecked((uint)expiration));
        });
        var r = response.Reader();
        var timeout = r.ReadTpm2b();
        return new PolicySecretResult(timeout, TpmtTicket.Unmarshal(ref r));
    }

    /// <summary>TPM2_PolicyAuthValue: the authorizing HMAC must include the entity's authValue.</summary>
    /// <param name="session">A policy or trial session.</param>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public void PolicyAuthValue(TpmSession session)
    {
        PolicyCommand(session, TpmCc.PolicyAuthValue, null);
        session.NeedsAuthValue = true;
        session.NeedsPassword = false;
    }

    /// <summary>TPM2_PolicyPassword: the entity's authValue goes in the clear in the session's HMAC field.</summary>
    /// <param name="session">A policy or trial session.</param>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public void PolicyPassword(TpmSession session)
    {
        PolicyCommand(session, TpmCc.PolicyPassword, null);
        session.NeedsPassword = true;
        session.NeedsAuthValue = false;
    }

    /// <summary>TPM2_PolicyCommandCode: the policy authorizes only <paramref name="code"/>.</summary>
    /// <param name="session">A policy or trial session.</param>
    /// <param name="code">The command.</param>
    /// <exception cref="TpmException">TPM_RC_VALUE when another code was set, TPM_RC_POLICY_CC when the code is not implemented.</exception>
    public void PolicyCommandCode(TpmSession session, TpmCc code) =>
        PolicyCommand(session, TpmCc.PolicyCommandCode, w => w.WriteU32((uint)code));

    /// <summary>TPM2_PolicyGetDigest: the session's current policyDigest.</summary>
    /// <param name="session">A policy or trial session.</param>
    /// <returns>The digest.</returns>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public byte[] PolicyGetDigest(TpmSession session)
    {
        var r = PolicyCommand(session, TpmCc.PolicyGetDigest, null).Reader();
        return r.ReadTpm2b(64);
    }

    /// <summary>TPM2_PolicyRestart: back to an empty policy (the nonce is unchanged).</summary>
    /// <param name="session">A policy or trial session.</param>
    /// <exception cref="TpmException">The TPM refused.</exception>
    public void PolicyRestart(TpmSession session)
    {
        PolicyCommand(session, TpmCc.PolicyRestart, null);
        session.NeedsAuthValue = false;
        session.NeedsPassword = false;
    }

    /// <summary>
    /// The client's side of the bind check (Part 1 §19.6.11: the bind entity is the one with the
    /// session's bind Name AND the authValue it had at StartAuthSession): the Name must match and,
    /// when this client has changed that hierarchy's authValue since (HierarchyChangeAuth, Clear),
    /// the current value must still be the one the session was bound with.
    /// </summary>
    internal bool IsBoundTo(TpmSession session, uint authorizedHandle)
    {
        if (session.BoundEntityName is null || !session.BoundEntityName.AsSpan().SequenceEqual(GetName(authorizedHandle)))
        {
            return false;
        }

        return !_changedHierarchyAuth.TryGetValue(authorizedHandle, out var current)
            || CryptographicOperations.FixedTimeEquals(current, AuthDigest(session.BoundEntityAuth ?? []));
    }

    /// <summary>Records that this client changed a hierarchy's authValue, for <see cref="IsBoundTo"/> (a digest: no secret is kept).</summary>
    private void HierarchyAuthChanged(uint hierarchy, ReadOnlySpan<byte> authValue) =>
        _changedHierarchyAuth[hierarchy] = AuthDigest(authValue);

    private static byte[] AuthDigest(ReadOnlySpan<byte> authValue) => SHA256.HashData(authValue[..TpmObject.TrimmedLength(authValue)]);

    /// <summary>TPM2_ReadPublic's public area (and the Name, which the client records).</summary>
    private TpmtPublic ReadPublicArea(uint handle)
    {
        var r = Execute(TpmCc.ReadPublic, [handle], [], null).Reader();
        var publicArea = TpmtPublic.UnmarshalSized(ref r);
        SetName(handle, r.ReadTpm2b());
        return publicArea;
    }

    private TpmResponse PolicyCommand(TpmSession session, TpmCc code, Action<TpmWriter>? parameters)
    {
        ArgumentNullException.ThrowIfNull(session);
        ObjectDisposedException.ThrowIf(session.IsClosed, session);
        return Execute(code, [session.Handle], [], parameters);
    }
}
