using System.Buffers.Binary;
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

            // Salted sessions need SecretSharing (the crypto branch), which has not landed yet.
            throw CommandContext.ParameterError(TpmRc.Value, 2, "salted sessions are not supported yet");
        }

        if (encryptedSalt.Length != 0)
        {
            throw CommandContext.ParameterError(TpmRc.Value, 2, "encryptedSalt without a tpmKey");
        }

        // Handle allocation: one index space for HMAC and policy sessions (as the reference
        // implementation's context array), loaded-slot limit before active-handle limit.
        var sessions = c.State.Sessions;
        var options = c.Tpm.Options;
        if (sessions.Values.Count(s => !s.IsSaved) >= options.MaxLoadedSessions)
        {
            throw new TpmException(TpmRc.SessionMemory, $"{options.MaxLoadedSessions} sessions are already loaded");
        }

        var index = FreeIndex(sessions, options.MaxActiveSessions)
            ?? throw new TpmException(TpmRc.SessionHandles, $"{options.MaxActiveSessions} sessions are already active");

        var bind = c.Entities[1];
        var nonceTpm = c.Tpm.NewNonce(nonceCaller.Length);
        var sessionKey = bind is null ? [] : ComputeSessionKey(authHash, bind.AuthValue, [], nonceTpm, nonceCaller);
        var handle = (sessionType == TpmSe.Hmac ? TpmRh.HmacSessionFirst : TpmRh.PolicySessionFirst) + index;

        // Only HMAC sessions are bound (Part 1 §19.6.11); a policy session keeps just the key.
        var boundName = sessionType == TpmSe.Hmac && bind is not null ? SoftwareTpm.NameOf(c.Handles[1], bind) : null;
        var session = new AuthSession(handle, sessionType, authHash, symmetric, nonceTpm, sessionKey, boundName)
        {
            NonceCaller = nonceCaller,
        };
        sessions.Add(handle, session);

        c.ResponseHandles.Add(handle);
        c.Output.WriteTpm2b(nonceTpm);
    }

    /// <summary>
    /// sessionKey = KDFa(authHash, bindAuth ‖ salt, "ATH", nonceTPM, nonceCaller, digest bits) when a
    /// bind entity or salt is present, else empty (Part 1 §19.6.8). The caller passes an empty
    /// <paramref name="bindAuth"/> and <paramref name="salt"/> only for an unbound, unsalted session, so
    /// this returns the empty key exactly then.
    /// </summary>
    internal static byte[] ComputeSessionKey(TpmAlgId authHash, ReadOnlySpan<byte> bindAuth, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> nonceTpm, ReadOnlySpan<byte> nonceCaller)
    {
        var key = new byte[bindAuth.Length + salt.Length];
        bindAuth.CopyTo(key);
        salt.CopyTo(key.AsSpan(bindAuth.Length));
        try
        {
            return KdfA(authHash, key, "ATH"u8, nonceTpm, nonceCaller, TpmHash.DigestSize(authHash) * 8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// KDFa (Part 1 §11.4.10.2, SP 800-108 counter mode with HMAC):
    /// HMAC(key, [i]₃₂ ‖ label ‖ 00 ‖ contextU ‖ contextV ‖ [bits]₃₂) for i = 1, 2, ...
    /// Stand-in for TpmKdf.KdfA until the crypto branch lands; whole octets only.
    /// </summary>
    private static byte[] KdfA(TpmAlgId hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> label, ReadOnlySpan<byte> contextU, ReadOnlySpan<byte> contextV, int bits)
    {
        var result = new byte[bits / 8];
        Span<byte> counter = stackalloc byte[4];
        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(size, bits);
        using var hmac = IncrementalHash.CreateHMAC(TpmHash.Name(hash), key);
        var done = 0;
        for (var i = 1; done < result.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(counter, i);
            hmac.AppendData(counter);
            hmac.AppendData(label);
            hmac.AppendData([0]);
            hmac.AppendData(contextU);
            hmac.AppendData(contextV);
            hmac.AppendData(size);
            var block = hmac.GetHashAndReset();
            var n = Math.Min(block.Length, result.Length - done);
            block.AsSpan(0, n).CopyTo(result.AsSpan(done));
            CryptographicOperations.ZeroMemory(block);
            done += n;
        }

        return result;
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
