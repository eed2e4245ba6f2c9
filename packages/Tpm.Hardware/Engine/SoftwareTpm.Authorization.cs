using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>Authorization sessions: password, HMAC and policy (TPM 2.0 Part 1 §19).</summary>
public sealed partial class SoftwareTpm
{
    private List<SessionUse> Authorize(TpmCc code, CommandDescriptor descriptor, uint[] handles, IAuthEntity?[] entities, List<SessionArea> areas, byte[] parameters)
    {
        var uses = new List<SessionUse>(areas.Count);
        byte[]? cpHashCache = null;
        TpmAlgId cpHashAlg = 0;
        byte[] CpHash(TpmAlgId alg)
        {
            if (cpHashCache is null || cpHashAlg != alg)
            {
                var w = new TpmWriter(64 + parameters.Length);
                w.WriteU32((uint)code);
                for (var i = 0; i < handles.Length; i++)
                {
                    w.WriteBytes(NameOf(handles[i], entities[i]));
                }

                w.WriteBytes(parameters);
                cpHashCache = TpmHash.Hash(alg, w.WrittenSpan);
                cpHashAlg = alg;
            }

            return cpHashCache;
        }

        var authSlots = new List<int>();
        for (var i = 0; i < descriptor.Handles.Length; i++)
        {
            if (descriptor.Handles[i].Role != AuthRole.None)
            {
                authSlots.Add(i);
            }
        }

        // Reference ParseSessionBuffer: structural checks of each session (the encrypt/decrypt/audit
        // attributes were checked as the sessions were read, RetrieveSessions), then its authorization.
        for (var s = 0; s < areas.Count; s++)
        {
            var n = s + 1;
            var (handle, nonce, attributes, hmac) = areas[s];
            var slot = s < authSlots.Count ? authSlots[s] : -1;
            AuthSession? session = null;

            if (handle == TpmRh.Password)
            {
                if (slot < 0)
                {
                    throw new TpmException(TpmResponseCode.Session(TpmRc.Handle, n), "a password session can only authorize a handle");
                }
            }
            else
            {
                session = State.Sessions[handle];
                if (session.IsTrial)
                {
                    // A trial session cannot authorize, audit or encrypt (reference ParseSessionBuffer).
                    throw new TpmException(TpmResponseCode.Session(TpmRc.Attributes, n), "a trial session cannot be used in the session area");
                }
            }

            var use = new SessionUse(handle, session, attributes, nonce, hmac, slot);
            if (slot >= 0)
            {
                // TPM_RH_NULL where a command allows it (an unsigned attestation) authorizes with its empty authValue.
                var entity = entities[slot] ?? (handles[slot] == TpmRh.Null ? State.NullHierarchy : null);
                CheckAuthorization(code, descriptor.Handles[slot].Role, entity, use, n, CpHash);
            }
            else
            {
                // A session that authorizes nothing must audit, encrypt or decrypt; its HMAC has no authValue.
                if ((attributes & (TpmaSession.Audit | TpmaSession.Encrypt | TpmaSession.Decrypt)) == 0)
                {
                    throw new TpmException(TpmResponseCode.Session(TpmRc.Attributes, n), "a session that authorizes no handle must audit, encrypt or decrypt");
                }

                if (!HmacMatches(session!, use, CpHash))
                {
                    throw new TpmException(TpmResponseCode.Session(TpmRc.BadAuth, n), "HMAC does not match");
                }
            }

            uses.Add(use);
        }

        return uses;
    }

    /// <summary>
    /// Decrypts the first command parameter in place when a session has the decrypt attribute
    /// (Part 1 §21; after cpHash and the HMACs were computed over the encrypted form). The key
    /// includes the authValue of the entity the session authorizes, bound or not (reference
    /// ParseSessionBuffer); TPM_RC_SIZE + session when the TPM2B claims more than there is.
    /// </summary>
    private static void DecryptCommandParameter(List<SessionUse> sessions, IAuthEntity?[] entities, byte[] parameters)
    {
        for (var s = 0; s < sessions.Count; s++)
        {
            var use = sessions[s];
            if (use.Session is not { } session || (use.Attributes & TpmaSession.Decrypt) == 0)
            {
                continue;
            }

            if (!ParameterEncryption.TryGetFirstTpm2b(parameters, out var data))
            {
                throw new TpmException(TpmResponseCode.Session(TpmRc.Size, s + 1), "the encrypted parameter is larger than the parameter area");
            }

            var authValue = use.AuthorizedHandleIndex >= 0 ? entities[use.AuthorizedHandleIndex]?.AuthValue ?? [] : [];
            ParameterEncryption.Apply(session.Symmetric, session.AuthHash, session.SessionKey, authValue, use.NonceCaller, session.NonceTpm, ParameterEncryption.Direction.Command, encrypt: false, data);
            return;
        }
    }

    /// <summary>Encrypts the first response parameter in place with the encrypt session, after its nonceTPM rolled (Part 1 §21).</summary>
    private static void EncryptResponseParameter(CommandContext context, byte[] output)
    {
        if (output.Length < 2)
        {
            return;
        }

        foreach (var use in context.Sessions)
        {
            if (use.Session is not { } session || (use.Attributes & TpmaSession.Encrypt) == 0)
            {
                continue;
            }

            if (ParameterEncryption.TryGetFirstTpm2b(output, out var data))
            {
                var authValue = use.AuthorizedHandleIndex >= 0 ? context.Entities[use.AuthorizedHandleIndex]?.AuthValue ?? [] : [];
                ParameterEncryption.Apply(session.Symmetric, session.AuthHash, session.SessionKey, authValue, use.NonceCaller, session.NonceTpm, ParameterEncryption.Direction.Response, encrypt: true, data);
            }

            return;
        }
    }

    private void CheckAuthorization(TpmCc code, AuthRole role, IAuthEntity? entity, SessionUse use, int n, Func<TpmAlgId, byte[]> cpHash)
    {
        if (entity is null)
        {
            throw new TpmException(TpmResponseCode.Session(TpmRc.Handle, n), "nothing to authorize");
        }

        var session = use.Session;
        if (entity is NvIndex nvIndex)
        {
            // An index's authValue/authPolicy is usable only as its TPMA_NV allows (reference IsAuthValueAvailable).
            NvCommands.CheckAuthAvailable(code, role, nvIndex, session?.IsPolicy == true);
        }

        if (session is null || !session.IsPolicy)
        {
            // Reference CheckAuthSession: IsPolicySessionRequired (TPM_RC_AUTH_TYPE), then IsAuthValueAvailable.
            var policyRequired = role == AuthRole.Dup
                || (role == AuthRole.Admin && (entity is not TpmObject admin || (admin.Attributes & TpmaObject.AdminWithPolicy) != 0));
            if (policyRequired)
            {
                throw new TpmException(TpmRc.AuthType, $"{code} needs a policy session for this {role} authorization");
            }

            // A sequence object's authValue is always available (reference IsAuthValueAvailable).
            if (entity is TpmObject { Sequence: null } o && (o.IsPublicOnly || (role == AuthRole.User && (o.Attributes & TpmaObject.UserWithAuth) == 0)))
            {
                throw new TpmException(TpmRc.AuthUnavailable, $"{code}: the authValue of 0x{o.Handle:x8} may not be used (userWithAuth clear or public part only)");
            }

            if (session is null)
            {
                // Password: the HMAC field carries the authValue in the clear.
                if (!FixedEqualsTrimmed(use.Hmac, entity.AuthValue))
                {
                    throw AuthFailure(entity, n, "password does not match");
                }

                return;
            }

            // HMAC session: the key is sessionKey ‖ authValue unless the session is bound to this entity.
            var includeAuth = !session.IsBoundTo(entity);
            use.ResponseAuth = includeAuth ? entity.AuthValue : [];
            use.IncludesAuth = includeAuth;
            if (!HmacMatches(session, use, cpHash))
            {
                throw AuthFailure(entity, n, "HMAC does not match");
            }

            return;
        }

        // Reference IsAuthPolicyAvailable: a hierarchy needs a policy set, an object its sensitive
        // area (and never a sequence), a PCR never has one here (no PCR policies are implemented).
        var policyAvailable = entity switch
        {
            TpmObject o => !o.IsPublicOnly && o.Sequence is null,
            PcrEntity => false,
            NvIndex => true,
            _ => entity.AuthPolicy.Length != 0,
        };
        if (!policyAvailable)
        {
            throw new TpmException(TpmRc.AuthUnavailable, $"{code}: no authPolicy is available for this entity");
        }

        // Reference CheckPolicyAuthSession, in its order.
        if (code == TpmCc.PolicySecret && !session.IsPasswordNeeded && !session.IsAuthValueNeeded)
        {
            // Part 3 §23.4: a policy session authorizing PolicySecret must prove the authValue.
            throw new TpmException(TpmResponseCode.Session(TpmRc.Mode, n), "PolicySecret authorized by a policy without PolicyAuthValue/PolicyPassword");
        }

        if (session.PcrCounter >= 0 && session.PcrCounter != State.PcrUpdateCounter)
        {
            throw new TpmException(TpmRc.PcrChanged, "PCRs changed since PolicyPCR");
        }

        if (entity.PolicyAlg != session.AuthHash || !CryptographicOperations.FixedTimeEquals(session.PolicyDigest, entity.AuthPolicy))
        {
            throw new TpmException(TpmResponseCode.Session(TpmRc.PolicyFail, n), "policy digest does not match the authPolicy");
        }

        if (session.CommandCode != 0 && session.CommandCode != code)
        {
            throw new TpmException(TpmResponseCode.Session(TpmRc.PolicyCc, n), $"policy is for {session.CommandCode}, not {code}");
        }

        if (role is AuthRole.Admin or AuthRole.Dup && session.CommandCode == 0)
        {
            throw new TpmException(TpmResponseCode.Session(TpmRc.PolicyFail, n), $"{role} role needs PolicyCommandCode");
        }

        if (session.CpHash.Length != 0 && !CryptographicOperations.FixedTimeEquals(session.CpHash, cpHash(session.AuthHash)))
        {
            throw new TpmException(TpmResponseCode.Session(TpmRc.PolicyFail, n), "cpHash does not match PolicyCpHash");
        }

        if (session.IsPasswordNeeded)
        {
            if (!FixedEqualsTrimmed(use.Hmac, entity.AuthValue))
            {
                throw AuthFailure(entity, n, "password (PolicyPassword) does not match");
            }
        }
        else
        {
            // The HMAC of a policy session is checked too; it includes the authValue only after PolicyAuthValue.
            use.ResponseAuth = session.IsAuthValueNeeded ? entity.AuthValue : [];
            use.IncludesAuth = session.IsAuthValueNeeded;
            if (!HmacMatches(session, use, cpHash))
            {
                throw session.IsAuthValueNeeded
                    ? AuthFailure(entity, n, "HMAC (PolicyAuthValue) does not match")
                    : new TpmException(TpmResponseCode.Session(TpmRc.BadAuth, n), "policy session HMAC does not match");
            }
        }
    }

    /// <summary>Part 1 §19.6.5; as the reference implementation, an empty HMAC is accepted when the HMAC key is empty.</summary>
    private static bool HmacMatches(AuthSession session, SessionUse use, Func<TpmAlgId, byte[]> cpHash)
    {
        if (session.SessionKey.Length + use.ResponseAuth.Length == 0 && use.Hmac.Length == 0)
        {
            return true;
        }

        return CryptographicOperations.FixedTimeEquals(CommandHmac(session, use, cpHash(session.AuthHash)), use.Hmac);
    }

    private static TpmException AuthFailure(IAuthEntity entity, int n, string detail) =>
        new(TpmResponseCode.Session(entity.IsDaProtected ? TpmRc.AuthFail : TpmRc.BadAuth, n), detail);

    private static bool FixedEqualsTrimmed(byte[] given, byte[] authValue)
    {
        var trimmed = TpmObject.TrimAuth(given);
        return trimmed.Length == authValue.Length && CryptographicOperations.FixedTimeEquals(trimmed, authValue);
    }

    /// <summary>HMAC(sessionKey ‖ authValue, cpHash ‖ nonceCaller ‖ nonceTPM ‖ sessionAttributes) (Part 1 §19.6.5).</summary>
    private static byte[] CommandHmac(AuthSession session, SessionUse use, byte[] cpHash)
    {
        var key = Concat(session.SessionKey, use.ResponseAuth);
        try
        {
            return TpmHash.Hmac(session.AuthHash, key, cpHash, use.NonceCaller, session.NonceTpm, [(byte)use.Attributes]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Every session's nonceTPM rolls before the response is encrypted and its HMACs computed.</summary>
    private void RollNonces(CommandContext context)
    {
        foreach (var use in context.Sessions)
        {
            if (use.Session is { } session)
            {
                session.NonceCaller = use.NonceCaller;
                session.NonceTpm = NewNonce(session.NonceTpm.Length);
            }
        }
    }

    private void WriteResponseSessions(TpmWriter w, CommandContext context, byte[] output)
    {
        byte[]? rpHashCache = null;
        TpmAlgId rpAlg = 0;
        foreach (var use in context.Sessions)
        {
            if (use.IsPassword)
            {
                w.WriteTpm2b([]);
                w.WriteU8((byte)TpmaSession.ContinueSession);
                w.WriteTpm2b([]);
                continue;
            }

            var session = use.Session!;
            var attributes = use.Attributes & (TpmaSession.ContinueSession | TpmaSession.Audit | TpmaSession.Decrypt | TpmaSession.Encrypt);
            w.WriteTpm2b(session.NonceTpm);
            w.WriteU8((byte)attributes);

            var responseAuth = use.AuthorizedHandleIndex >= 0 && context.NewAuthValue is not null && use.IncludesAuth
                ? context.NewAuthValue
                : use.ResponseAuth;
            if ((session.IsPolicy && session.IsPasswordNeeded) || (session.SessionKey.Length + responseAuth.Length == 0 && use.Hmac.Length == 0))
            {
                // No HMAC for PolicyPassword, nor when the key is empty and the caller sent none (reference implementation).
                w.WriteTpm2b([]);
            }
            else
            {
                if (rpHashCache is null || rpAlg != session.AuthHash)
                {
                    var rp = new TpmWriter(8 + output.Length);
                    rp.WriteU32((uint)TpmRc.Success);
                    rp.WriteU32((uint)context.Code);
                    rp.WriteBytes(output);
                    rpHashCache = TpmHash.Hash(session.AuthHash, rp.WrittenSpan);
                    rpAlg = session.AuthHash;
                }

                var key = Concat(session.SessionKey, responseAuth);
                w.WriteTpm2b(TpmHash.Hmac(session.AuthHash, key, rpHashCache, session.NonceTpm, session.NonceCaller, [(byte)attributes]));
                CryptographicOperations.ZeroMemory(key);
            }

            if ((use.Attributes & TpmaSession.ContinueSession) == 0)
            {
                State.Sessions.Remove(session.Handle);
                session.Dispose();
            }
            else if (session.IsPolicy && use.AuthorizedHandleIndex >= 0)
            {
                session.ResetPolicy();
            }
        }
    }

    internal static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var result = new byte[a.Length + b.Length];
        a.CopyTo(result);
        b.CopyTo(result.AsSpan(a.Length));
        return result;
    }
}
