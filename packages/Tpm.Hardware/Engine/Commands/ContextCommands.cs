using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>TPM2_ContextSave, ContextLoad, FlushContext, EvictControl (TPM 2.0 Part 3 §28).</summary>
/// <remarks>
/// A saved context (TPMS_CONTEXT.contextBlob, vendor-defined, Part 1 §30) is
/// <c>TPM2B integrity ‖ AES-128-CFB(sequence ‖ serialized object or session)</c>. The integrity is
/// HMAC-SHA256 keyed with the context key (new at every TPM Reset, so older contexts fail) and the
/// proof of the context's hierarchy (new at TPM2_Clear for the storage and endorsement hierarchies),
/// over the savedHandle, hierarchy, sequence, for stClear objects the count of TPM Restarts, and the
/// ciphertext. The encryption key and IV come from KDFa over the same key, the sequence and the
/// savedHandle, so every context is encrypted under its own key.
/// </remarks>
internal sealed class ContextCommands : ICommandGroup
{
    /// <summary>TPMS_CONTEXT.savedHandle of an ordinary object.</summary>
    public const uint SavedObject = 0x80000000;

    /// <summary>TPMS_CONTEXT.savedHandle of a sequence object.</summary>
    public const uint SavedSequenceObject = 0x80000001;

    /// <summary>TPMS_CONTEXT.savedHandle of an stClear object (cannot load after a TPM Restart or Reset).</summary>
    public const uint SavedStClearObject = 0x80000002;

    /// <summary>Persistent object slots (TPM_PT_HR_PERSISTENT_MIN is 2; libtpms offers more).</summary>
    public const int MaxPersistentObjects = 32;

    /// <summary>First persistent handle of the platform range (Part 2 §7.5: owner 0x81000000–0x817FFFFF).</summary>
    public const uint PlatformPersistentFirst = 0x81800000;

    private const TpmAlgId IntegrityHash = TpmAlgId.Sha256;
    private const int IntegritySize = 32;
    private const int AesKeySize = 16;
    private const int AesBlockSize = 16;
    private const int FingerprintSize = 8;
    private const byte ObjectTag = 1;
    private const byte SessionTag = 2;
    private const string ContextLabel = "CONTEXT";

    public void Register(CommandTable table)
    {
        table.Add(TpmCc.FlushContext, [], 0, FlushContext, CommandFlags.NoSessions);
        table.Add(TpmCc.ContextSave, [new HandleSpec(HandleKinds.Transient | HandleKinds.Session)], 0, ContextSave, CommandFlags.NoSessions);
        table.Add(TpmCc.ContextLoad, [], 1, ContextLoad, CommandFlags.NoSessions);
        table.Add(TpmCc.EvictControl, [new HandleSpec(HandleKinds.Provision, AuthRole.User), new HandleSpec(HandleKinds.Object)], 0, EvictControl, CommandFlags.WritesNv);
    }

    /// <summary>Part 3 §28.4: flushHandle is a parameter (TPMI_DH_CONTEXT): a loaded object or a loaded or saved session.</summary>
    private static void FlushContext(CommandContext c)
    {
        var r = c.ReadParameters();
        var handle = r.ReadU32();
        var kind = SoftwareTpm.KindOf(handle);
        if (kind is not (HandleKinds.Transient or HandleKinds.HmacSession or HandleKinds.PolicySession) || !c.Tpm.IsInRange(handle))
        {
            throw CommandContext.ParameterError(TpmRc.Value, 1, $"0x{handle:x8} is not an object or session handle");
        }

        r.EnsureConsumed();
        var s = c.State;
        if (kind == HandleKinds.Transient)
        {
            if (!s.TransientObjects.Remove(handle, out var o))
            {
                throw CommandContext.ParameterError(TpmRc.Handle, 1, $"object 0x{handle:x8} is not loaded");
            }

            o.Dispose();
        }
        else
        {
            // As the reference, the slot is what counts: 0x03000000 flushes the HMAC session 0x02000000.
            var session = c.Tpm.SessionInSlot(handle, includeSaved: true)
                ?? throw CommandContext.ParameterError(TpmRc.Handle, 1, $"session 0x{handle:x8} is neither loaded nor saved");
            s.Sessions.Remove(session.Handle);
            session.Dispose();
        }
    }

    /// <summary>Part 3 §28.2: an object stays loaded; a session becomes saved (its handle stays reserved).</summary>
    private static void ContextSave(CommandContext c)
    {
        c.ReadParameters().EnsureConsumed();
        var s = c.State;
        var handle = c.Handles[0];
        if (s.ContextSequence == ulong.MaxValue)
        {
            throw new TpmException(TpmRc.TooManyContexts, "the context sequence is exhausted");
        }

        uint savedHandle;
        uint hierarchy;
        byte[] plain;
        AuthSession? session = null;
        if (SoftwareTpm.KindOf(handle) == HandleKinds.Transient)
        {
            var o = c.Object(0);
            if (o.Sequence is not null)
            {
                // Limitation: the running hash state of a sequence is not serialized.
                throw CommandContext.HandleError(TpmRc.Type, 1, "this engine cannot save a hash sequence context");
            }

            savedHandle = (o.Attributes & TpmaObject.StClear) != 0 ? SavedStClearObject : SavedObject;
            hierarchy = o.Hierarchy;
            plain = SerializeObject(o);
        }
        else
        {
            session = s.Sessions[handle];
            savedHandle = handle;
            hierarchy = TpmRh.Null;
            plain = SerializeSession(session);
        }

        var sequence = s.ContextSequence + 1;
        byte[] blob;
        try
        {
            blob = Protect(s, sequence, savedHandle, hierarchy, plain);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }

        s.ContextSequence = sequence;
        if (session is not null)
        {
            // The session leaves its loaded slot; its key lives only in the (encrypted) blob until it is loaded again.
            session.IsSaved = true;
            session.SavedSequence = sequence;
            CryptographicOperations.ZeroMemory(session.SessionKey);
        }

        new TpmsContext(sequence, savedHandle, hierarchy, blob).Marshal(c.Output);
    }

    /// <summary>Part 3 §28.3.</summary>
    private static void ContextLoad(CommandContext c)
    {
        var r = c.ReadParameters();
        var sequence = r.ReadU64();
        var savedHandle = r.ReadU32();
        var savedKind = SoftwareTpm.KindOf(savedHandle);
        if (savedKind is not (HandleKinds.HmacSession or HandleKinds.PolicySession)
            && savedHandle is not (SavedObject or SavedSequenceObject or SavedStClearObject))
        {
            throw CommandContext.ParameterError(TpmRc.Value, 1, $"savedHandle 0x{savedHandle:x8} is not a TPMI_DH_SAVED");
        }

        var hierarchy = r.ReadU32();
        if (hierarchy is not (TpmRh.Owner or TpmRh.Endorsement or TpmRh.Platform or TpmRh.Null))
        {
            throw CommandContext.ParameterError(TpmRc.Value, 1, $"hierarchy 0x{hierarchy:x8} is not a TPMI_RH_HIERARCHY");
        }

        var blob = r.ReadTpm2b();
        r.EnsureConsumed();

        var s = c.State;
        var plain = Unprotect(s, sequence, savedHandle, hierarchy, blob);
        try
        {
            var pr = new TpmReader(plain);
            var tag = pr.ReadU8();
            if (savedKind == HandleKinds.Transient)
            {
                if (tag != ObjectTag)
                {
                    throw new TpmException(TpmRc.Failure, "an authentic object context does not hold an object");
                }

                LoadObject(c, hierarchy, ref pr);
            }
            else
            {
                if (tag != SessionTag)
                {
                    throw new TpmException(TpmRc.Failure, "an authentic session context does not hold a session");
                }

                LoadSession(c, sequence, savedHandle, ref pr);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    private static void LoadObject(CommandContext c, uint hierarchy, ref TpmReader pr)
    {
        var s = c.State;
        if (s.PermanentEntityFor(hierarchy) is { Enabled: false })
        {
            throw CommandContext.ParameterError(TpmRc.Hierarchy, 1, $"hierarchy 0x{hierarchy:x8} is disabled");
        }

        var flags = pr.ReadU8();
        var o = TpmObject.ReadFrom(ref pr, c.Tpm.Secrets, "loaded object context", hierarchy, isPrimary: (flags & 1) != 0, isExternal: (flags & 2) != 0);
        try
        {
            pr.EnsureConsumed();
            o.Handle = ObjectCommands.FreeTransientHandle(c);
        }
        catch
        {
            o.Dispose();
            throw;
        }

        s.TransientObjects[o.Handle] = o;
        c.ResponseHandles.Add(o.Handle);
    }

    private static void LoadSession(CommandContext c, ulong sequence, uint savedHandle, ref TpmReader pr)
    {
        var s = c.State;

        // Only the latest save of a session that is still saved may load: this stops replay (Part 1 §30.5).
        if (!s.Sessions.TryGetValue(savedHandle, out var session) || !session.IsSaved || session.SavedSequence != sequence)
        {
            throw CommandContext.ParameterError(TpmRc.Handle, 1, $"0x{savedHandle:x8} is not a saved session with this sequence");
        }

        if (s.Sessions.Values.Count(x => !x.IsSaved) >= c.Tpm.Options.MaxLoadedSessions)
        {
            throw new TpmException(TpmRc.SessionMemory, "no free session slot");
        }

        var handle = pr.ReadU32();
        var type = (TpmSe)pr.ReadU8();
        var authHash = pr.ReadAlg();
        var key = pr.ReadTpm2b();
        try
        {
            if (handle != session.Handle || type != session.Type || authHash != session.AuthHash || key.Length != session.SessionKey.Length)
            {
                throw new TpmException(TpmRc.Failure, "an authentic session context does not match its session");
            }

            var nonceTpm = pr.ReadTpm2b();
            var nonceCaller = pr.ReadTpm2b();
            var policyDigest = pr.ReadTpm2b();
            var commandCode = (TpmCc)pr.ReadU32();
            var flags = pr.ReadU8();
            var pcrCounter = unchecked((long)pr.ReadU64());
            var cpHash = pr.ReadTpm2b();
            pr.EnsureConsumed();

            key.CopyTo(session.SessionKey, 0);
            session.NonceTpm = nonceTpm;
            session.NonceCaller = nonceCaller;
            session.PolicyDigest = policyDigest;
            session.CommandCode = commandCode;
            session.IsAuthValueNeeded = (flags & 1) != 0;
            session.IsPasswordNeeded = (flags & 2) != 0;
            session.PcrCounter = pcrCounter;
            session.CpHash = cpHash;
            session.IsSaved = false;
            session.SavedSequence = 0;
            c.ResponseHandles.Add(savedHandle);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Part 3 §28.5: makes a transient object persistent, or evicts a persistent one.</summary>
    private static void EvictControl(CommandContext c)
    {
        var r = c.ReadParameters();
        var persistentHandle = r.ReadU32();
        if (SoftwareTpm.KindOf(persistentHandle) != HandleKinds.Persistent)
        {
            throw CommandContext.ParameterError(TpmRc.Value, 1, $"0x{persistentHandle:x8} is not a persistent handle");
        }

        r.EnsureConsumed();
        var s = c.State;
        var auth = c.Handles[0];
        var o = c.Object(1);
        var isPersistent = SoftwareTpm.KindOf(c.Handles[1]) == HandleKinds.Persistent;

        // Temporary (null-hierarchy or external), stClear and public-only objects cannot persist (Part 3 §28.5.1).
        if (o.Hierarchy == TpmRh.Null || o.IsExternal || o.IsPublicOnly || (o.Attributes & TpmaObject.StClear) != 0)
        {
            throw CommandContext.HandleError(TpmRc.Attributes, 2, "null-hierarchy, external, public-only and stClear objects cannot be made persistent");
        }

        if (isPersistent && o.Handle != persistentHandle)
        {
            throw CommandContext.HandleError(TpmRc.Handle, 2, $"persistent object 0x{o.Handle:x8} is not 0x{persistentHandle:x8}");
        }

        var platformRange = persistentHandle >= PlatformPersistentFirst;
        if (auth == TpmRh.Platform)
        {
            if (!isPersistent && o.Hierarchy != TpmRh.Platform)
            {
                throw CommandContext.HandleError(TpmRc.Hierarchy, 2, "platformAuth cannot persist a storage or endorsement object");
            }

            if (!isPersistent && !platformRange)
            {
                throw CommandContext.ParameterError(TpmRc.Range, 1, $"0x{persistentHandle:x8} is not in the platform range 0x81800000–0x81FFFFFF");
            }
        }
        else
        {
            if (o.Hierarchy == TpmRh.Platform)
            {
                throw CommandContext.HandleError(TpmRc.Hierarchy, 2, "ownerAuth cannot persist or evict a platform object");
            }

            if (!isPersistent && platformRange)
            {
                throw CommandContext.ParameterError(TpmRc.Range, 1, $"0x{persistentHandle:x8} is not in the owner range 0x81000000–0x817FFFFF");
            }
        }

        if (isPersistent)
        {
            s.PersistentObjects.Remove(persistentHandle);
            o.Dispose();
            return;
        }

        if (s.PersistentObjects.ContainsKey(persistentHandle))
        {
            throw new TpmException(TpmRc.NvDefined, $"0x{persistentHandle:x8} is already in use");
        }

        if (s.PersistentObjects.Count >= MaxPersistentObjects)
        {
            throw new TpmException(TpmRc.NvSpace, "no persistent object slot left");
        }

        var sensitiveCopy = o.Sensitive.Reveal();
        ITpmSecret copy;
        try
        {
            copy = c.Tpm.Secrets.Store(sensitiveCopy, $"persistent object 0x{persistentHandle:x8}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sensitiveCopy);
        }

        s.PersistentObjects[persistentHandle] = new TpmObject(o.Public, copy, o.AuthValue, o.Hierarchy, o.QualifiedName, o.IsPrimary) { Handle = persistentHandle };
    }

    private static byte[] SerializeObject(TpmObject o)
    {
        var w = new TpmWriter(1024);
        w.WriteU8(ObjectTag);
        w.WriteU8((byte)((o.IsPrimary ? 1 : 0) | (o.IsExternal ? 2 : 0)));
        o.WriteTo(w);
        var result = w.ToArray();
        w.Clear();
        return result;
    }

    private static byte[] SerializeSession(AuthSession session)
    {
        var w = new TpmWriter(256);
        w.WriteU8(SessionTag);
        w.WriteU32(session.Handle);
        w.WriteU8((byte)session.Type);
        w.WriteAlg(session.AuthHash);
        w.WriteTpm2b(session.SessionKey);
        w.WriteTpm2b(session.NonceTpm);
        w.WriteTpm2b(session.NonceCaller);
        w.WriteTpm2b(session.PolicyDigest);
        w.WriteU32((uint)session.CommandCode);
        w.WriteU8((byte)((session.IsAuthValueNeeded ? 1 : 0) | (session.IsPasswordNeeded ? 2 : 0)));
        w.WriteU64(unchecked((ulong)session.PcrCounter));
        w.WriteTpm2b(session.CpHash);
        var result = w.ToArray();
        w.Clear();
        return result;
    }

    private static byte[] Protect(EngineState s, ulong sequence, uint savedHandle, uint hierarchy, byte[] plain)
    {
        var secret = new byte[FingerprintSize + plain.Length];
        BinaryPrimitives.WriteUInt64BigEndian(secret, sequence);
        plain.CopyTo(secret, FingerprintSize);
        var protectionKey = ProtectionKey(s, hierarchy);
        try
        {
            Encrypt(protectionKey, sequence, savedHandle, secret, encrypt: true);
            var integrity = Integrity(s, protectionKey, sequence, savedHandle, hierarchy, secret);
            var w = new TpmWriter(2 + IntegritySize + secret.Length);
            w.WriteTpm2b(integrity);
            w.WriteBytes(secret);
            return w.ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(protectionKey);
        }
    }

    /// <summary>Checks and decrypts a context blob; returns the serialized object or session (zero it after use).</summary>
    private static byte[] Unprotect(EngineState s, ulong sequence, uint savedHandle, uint hierarchy, byte[] blob)
    {
        if (blob.Length < 2 + IntegritySize + FingerprintSize + 1)
        {
            throw CommandContext.ParameterError(TpmRc.Size, 1, "the context blob is too short");
        }

        var br = new TpmReader(blob) { Parameter = 1 };
        var integrity = br.ReadTpm2b(CredentialCommands.MaxDigestSize);
        if (integrity.Length != IntegritySize)
        {
            throw CommandContext.ParameterError(TpmRc.Size, 1, "the context blob has the wrong size");
        }

        var secret = br.RemainingSpan.ToArray();
        var protectionKey = ProtectionKey(s, hierarchy);
        try
        {
            var expected = Integrity(s, protectionKey, sequence, savedHandle, hierarchy, secret);
            if (!CryptographicOperations.FixedTimeEquals(expected, integrity))
            {
                throw CommandContext.ParameterError(TpmRc.Integrity, 1, "the context blob fails its integrity check (tampered, or saved before a TPM Reset or Clear)");
            }

            Encrypt(protectionKey, sequence, savedHandle, secret, encrypt: false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(protectionKey);
        }

        // An authentic blob whose fingerprint disagrees means the TPM itself is broken (Part 3 §28.3).
        if (BinaryPrimitives.ReadUInt64BigEndian(secret) != sequence)
        {
            CryptographicOperations.ZeroMemory(secret);
            throw new TpmException(TpmRc.Failure, "context fingerprint mismatch");
        }

        var plain = secret.AsSpan(FingerprintSize).ToArray();
        CryptographicOperations.ZeroMemory(secret);
        return plain;
    }

    /// <summary>contextKey ‖ proof of the context's hierarchy.</summary>
    private static byte[] ProtectionKey(EngineState s, uint hierarchy)
    {
        var contextKey = (s.ContextKey ?? throw new TpmException(TpmRc.Initialize, "no context key before TPM2_Startup")).Reveal();
        var proof = s.ProofOf(hierarchy).Reveal();
        var key = SoftwareTpm.Concat(contextKey, proof);
        CryptographicOperations.ZeroMemory(contextKey);
        CryptographicOperations.ZeroMemory(proof);
        return key;
    }

    private static void Encrypt(byte[] protectionKey, ulong sequence, uint savedHandle, byte[] data, bool encrypt)
    {
        Span<byte> sequenceBytes = stackalloc byte[8];
        Span<byte> handleBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt64BigEndian(sequenceBytes, sequence);
        BinaryPrimitives.WriteUInt32BigEndian(handleBytes, savedHandle);
        var keyAndIv = TpmKdf.KdfA(IntegrityHash, protectionKey, ContextLabel, sequenceBytes, handleBytes, (AesKeySize + AesBlockSize) * 8);
        try
        {
            var key = keyAndIv.AsSpan(0, AesKeySize);
            var iv = keyAndIv.AsSpan(AesKeySize, AesBlockSize);
            if (encrypt)
            {
                SymmetricCipher.CfbEncryptInPlace(key, iv, data);
            }
            else
            {
                SymmetricCipher.CfbDecryptInPlace(key, iv, data);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyAndIv);
        }
    }

    private static byte[] Integrity(EngineState s, byte[] protectionKey, ulong sequence, uint savedHandle, uint hierarchy, byte[] encrypted)
    {
        var header = new byte[20];
        BinaryPrimitives.WriteUInt32BigEndian(header, savedHandle);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), hierarchy);
        BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(8), sequence);

        // stClear objects must not load after a TPM Restart, but do after a TPM Resume (Part 1 §30.3):
        // bind them to the count of Restarts since the last TPM Reset.
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(16), savedHandle == SavedStClearObject ? s.StClearEpoch : 0);
        return TpmHash.Hmac(IntegrityHash, protectionKey, header, encrypted);
    }
}
