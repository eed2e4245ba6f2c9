using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_StartAuthSession (TPM 2.0 Part 3 §11.1; session key per Part 1 §19.6.8).</summary>
internal sealed class SessionCommands : ICommandGroup
{
    /// <summary>Largest TPM2B_ENCRYPTED_SECRET: an RSA-2048 OAEP block (larger than any ECC point we accept).</summary>
    public const int MaxEncryptedSecret = 256;

    /// <summary>Smallest nonceCaller (Part 3 §11.1: at least 16 octets).</summary>
    public const int MinNonceSize = 16;

    public void Register(CommandTable table) =>
        table.Add(
            TpmCc.StartAuthSession,
            [new HandleSpec(HandleKinds.Object, AllowNull: true), new HandleSpec(HandleKinds.Entity, AllowNull: true)],
            1,
            StartAuthSession);

    private static void StartAuthSession(CommandContext c)
    {
        // Unmarshal in parameter order; unmarshalling errors carry the parameter number.
        var r = c.ReadParameters();
        var nonceCaller = r.ReadTpm2b(64);
        r.Parameter = 2;
        var encryptedSalt = r.ReadTpm2b(MaxEncryptedSecret);
        r.Parameter = 3;
        var sessionType = (TpmSe)r.ReadU8();
        if (sessionType is not (TpmSe.Hmac or TpmSe.Policy or TpmSe.Trial))
        {
            throw CommandContext.ParameterError(TpmRc.Value, 3, $"sessionType 0x{(byte)sessionType:x2}");
        }

        r.Parameter = 4;
        var symmetric = ReadSymmetric(ref r);
        r.Parameter = 5;
        var authHash = r.ReadAlg();
        if (!TpmHash.IsSupported(authHash))
        {
            throw CommandContext.ParameterError(TpmRc.Hash, 5, $"authHash {authHash} is not supported");
        }

        r.EnsureConsumed();

        // Part 3 §11.1: 16 octets <= nonceCaller <= digest size of authHash.
        if (nonceCaller.Length < MinNonceSize || nonceCaller.Length > TpmHash.DigestSize(authHash))
        {
            throw CommandContext.ParameterError(TpmRc.Size, 1, $"nonceCaller of {nonceCaller.Length} octets for {authHash}");
        }

        var tpmKey = c.Entities[0] as TpmObject;
        byte[] salt = [];
        if (tpmKey is not null)
        {
            if (tpmKey.Public.Type is not (TpmAlgId.Rsa or TpmAlgId.Ecc))
            {
                throw CommandContext.HandleError(TpmRc.Key, 1, "tpmKey is not an asymmetric key");
            }

            if (encryptedSalt.Length == 0)
            {
                throw CommandContext.ParameterError(TpmRc.Value, 2, "a tpmKey without encryptedSalt");
            }

            if ((tpmKey.Attributes & TpmaObject.Decrypt) == 0)
            {
                throw CommandContext.HandleError(TpmRc.Attributes, 1, "tpmKey is not a decryption key");
            }

            salt = DecryptSalt(c, tpmKey, encryptedSalt);
        }
        else if (encryptedSalt.Length != 0)
        {
            throw CommandContext.ParameterError(TpmRc.Value, 2, "encryptedSalt without a tpmKey");
        }

        // Handle allocation: one index space for HMAC and policy sessions (as the reference
        // implementation's context array), loaded-slot limit before active-handle limit.
        var sessions = c.State.Sessions;
        var options = c.Tpm.Options;
        byte[] sessionKey;
        byte[] nonceTpm;
        uint index;
        var bind = c.Entities[1];
        try
        {
            if (sessions.Values.Count(s => !s.IsSaved) >= options.MaxLoadedSessions)
            {
                throw new TpmException(TpmRc.SessionMemory, $"{options.MaxLoadedSessions} sessions are already loaded");
            }

            index = FreeIndex(sessions, options.MaxActiveSessions)
                ?? throw new TpmException(TpmRc.SessionHandles, $"{options.MaxActiveSessions} sessions are already active");
            nonceTpm = c.Tpm.NewNonce(nonceCaller.Length);
            sessionKey = bind is null && salt.Length == 0 ? [] : ComputeSessionKey(authHash, bind?.AuthValue ?? [], salt, nonceTpm, nonceCaller);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(salt);
        }

        var handle = (sessionType == TpmSe.Hmac ? TpmRh.HmacSessionFirst : TpmRh.PolicySessionFirst) + index;

        // Only HMAC sessions are bound (Part 1 §19.6.11); a policy session keeps just the key.
        var boundName = sessionType == TpmSe.Hmac && bind is not null ? SoftwareTpm.NameOf(c.Handles[1], bind) : null;
        var session = new AuthSession(handle, sessionType, authHash, symmetric, nonceTpm, sessionKey, boundName, boundName is null ? null : bind!.AuthValue)
        {
            NonceCaller = nonceCaller,
        };
        sessions.Add(handle, session);

        c.ResponseHandles.Add(handle);
        c.Output.WriteTpm2b(nonceTpm);
    }

    /// <summary>The salt: SecretSharing with label "SECRET" (Part 1 §24); any failure is TPM_RC_VALUE for encryptedSalt.</summary>
    private static byte[] DecryptSalt(CommandContext c, TpmObject tpmKey, byte[] encryptedSalt)
    {
        TpmPrivateKey? key = null;
        var callerDisposes = false;
        try
        {
            key = tpmKey.GetPrivateKey(c.Tpm.Secrets.AllowsDerivedKeyCaching, out callerDisposes);
            return SecretSharing.Decrypt(key, tpmKey.Public, "SECRET", encryptedSalt);
        }
        catch (TpmException e)
        {
            throw new TpmException(TpmResponseCode.Parameter(TpmRc.Value, 2), $"encryptedSalt does not decrypt: {e.Message}", e);
        }
        finally
        {
            if (callerDisposes)
            {
                key?.Dispose();
            }
        }
    }

    /// <summary>
    /// KDFa(authHash, bindAuth ‖ salt, "ATH", nonceTPM, nonceCaller, digest bits) (Part 1 §19.6.8).
    /// An unbound, unsalted session has the empty key instead; callers decide.
    /// </summary>
    internal static byte[] ComputeSessionKey(TpmAlgId authHash, ReadOnlySpan<byte> bindAuth, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> nonceTpm, ReadOnlySpan<byte> nonceCaller)
    {
        var key = new byte[bindAuth.Length + salt.Length];
        bindAuth.CopyTo(key);
        salt.CopyTo(key.AsSpan(bindAuth.Length));
        try
        {
            return TpmKdf.KdfA(authHash, key, "ATH", nonceTpm, nonceCaller, TpmHash.DigestSize(authHash) * 8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>TPMT_SYM_DEF for a session: NULL, XOR with a hash, or AES-128 in CFB mode (Part 3 §11.1).</summary>
    private static TpmtSymDef ReadSymmetric(ref TpmReader r)
    {
        var algorithm = r.ReadAlg();
        switch (algorithm)
        {
            case TpmAlgId.Null:
                return TpmtSymDef.Null;
            case TpmAlgId.Xor:
                var hash = (TpmAlgId)r.ReadU16();
                if (!TpmHash.IsSupported(hash))
                {
                    throw CommandContext.ParameterError(TpmRc.Hash, 4, $"XOR with hash {hash}");
                }

                return new TpmtSymDef(TpmAlgId.Xor, (ushort)hash);
            case TpmAlgId.Aes:
                var keyBits = r.ReadU16();
                if (keyBits != 128)
                {
                    throw CommandContext.ParameterError(TpmRc.Value, 4, $"AES-{keyBits} is not supported");
                }

                var mode = r.ReadAlg();
                if (mode != TpmAlgId.Cfb)
                {
                    throw CommandContext.ParameterError(TpmRc.Mode, 4, $"mode {mode}: sessions encrypt with CFB");
                }

                return TpmtSymDef.Aes128Cfb;
            default:
                throw CommandContext.ParameterError(TpmRc.Symmetric, 4, $"symmetric algorithm {algorithm}");
        }
    }

    private static uint? FreeIndex(SortedDictionary<uint, AuthSession> sessions, int maxActive)
    {
        for (var i = 0u; i < maxActive; i++)
        {
            if (!sessions.ContainsKey(TpmRh.HmacSessionFirst + i) && !sessions.ContainsKey(TpmRh.PolicySessionFirst + i))
            {
                return i;
            }
        }

        return null;
    }
}
