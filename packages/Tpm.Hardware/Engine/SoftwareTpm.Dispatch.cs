using System.Buffers.Binary;

namespace TrustStack.Tpm.Hardware;

/// <summary>Command dispatch: header, handles, authorization area, handler, response (TPM 2.0 Part 3 §5).</summary>
public sealed partial class SoftwareTpm
{
    private byte[] ExecuteLocked(ReadOnlySpan<byte> command)
    {
        TpmCc code = 0;
        try
        {
            return Dispatch(command, out code);
        }
        catch (TpmException e)
        {
            return ErrorResponse(e.ResponseCode);
        }
#pragma warning disable CA1031 // The engine must never let an exception escape to a TPM client.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _logger.LogEngineFault(code, e);
            return ErrorResponse(TpmRc.Failure);
        }
    }

    private static byte[] ErrorResponse(TpmRc rc)
    {
        var response = new byte[HeaderSize];
        BinaryPrimitives.WriteUInt16BigEndian(response, (ushort)TpmSt.NoSessions);
        BinaryPrimitives.WriteUInt32BigEndian(response.AsSpan(2), HeaderSize);
        BinaryPrimitives.WriteUInt32BigEndian(response.AsSpan(6), (uint)rc);
        return response;
    }

    private byte[] Dispatch(ReadOnlySpan<byte> command, out TpmCc code)
    {
        code = 0;

        // Header (Part 3 §5.2): a size that disagrees with the buffer is TPM_RC_COMMAND_SIZE.
        if (command.Length < HeaderSize)
        {
            throw new TpmException(TpmRc.CommandSize, $"command of {command.Length} octets is shorter than its header");
        }

        var reader = new TpmReader(command);
        var tag = (TpmSt)reader.ReadU16();
        var size = reader.ReadU32();
        code = (TpmCc)reader.ReadU32();
        if (size != command.Length || size > MaxCommandSize)
        {
            throw new TpmException(TpmRc.CommandSize, $"commandSize {size} but {command.Length} octets received");
        }

        if (tag is not (TpmSt.NoSessions or TpmSt.Sessions))
        {
            throw new TpmException(TpmRc.BadTag, $"tag 0x{(ushort)tag:x4}");
        }

        if (!_commands.TryGet(code, out var descriptor))
        {
            throw new TpmException(TpmRc.CommandCode, $"command code 0x{(uint)code:x8} is not implemented");
        }

        if (!State.Started && (descriptor.Flags & CommandFlags.BeforeStartup) == 0)
        {
            throw new TpmException(TpmRc.Initialize, "TPM2_Startup has not run");
        }

        if (State.Started && code == TpmCc.Startup)
        {
            // Reference ExecuteCommand: a second TPM2_Startup fails before its parameters are read.
            throw new TpmException(TpmRc.Initialize, "TPM2_Startup after startup");
        }

        // Handle area (reference ParseHandleBuffer, then EntityGetLoadStatus): every handle is
        // unmarshalled and type-checked first (TPM_RC_VALUE + handle n), then each must refer to
        // something present (TPM_RC_REFERENCE_Hn, TPM_RC_HANDLE + handle n, ...).
        var handles = new uint[descriptor.Handles.Length];
        var entities = new IAuthEntity?[handles.Length];
        for (var i = 0; i < handles.Length; i++)
        {
            if (reader.Remaining < 4)
            {
                throw new TpmException(TpmResponseCode.Handle(TpmRc.Insufficient, i + 1), "handle area truncated");
            }

            handles[i] = reader.ReadU32();
            CheckHandleType(handles[i], descriptor.Handles[i], i + 1);
        }

        var evictSlots = 0;
        for (var i = 0; i < handles.Length; i++)
        {
            entities[i] = ResolveHandle(handles[i], descriptor.Handles[i], i + 1);
            if (KindOf(handles[i]) == HandleKinds.Persistent)
            {
                // The reference implementation copies a persistent object into a free transient
                // slot for the command (ObjectLoadEvict): with every slot taken that is
                // TPM_RC_OBJECT_MEMORY.
                evictSlots++;
                if (State.TransientObjects.Count + evictSlots > _options.MaxTransientObjects)
                {
                    throw new TpmException(TpmRc.ObjectMemory, $"no free object slot to use persistent object 0x{handles[i]:x8}");
                }
            }
        }

        // Authorization area (reference ExecuteCommand / ParseSessionBuffer / RetrieveSessionData).
        var sessionAreas = new List<SessionArea>();
        if (tag == TpmSt.Sessions)
        {
            if (reader.Remaining < 4)
            {
                throw new TpmException(TpmRc.Insufficient, "authorizationSize missing");
            }

            var authSize = reader.ReadU32();
            if (authSize < 9 || authSize > reader.Remaining)
            {
                throw new TpmException(TpmRc.Size, $"authorizationSize {authSize} with {reader.Remaining} octets left");
            }

            var area = new TpmReader(reader.ReadBytes((int)authSize));
            if ((descriptor.Flags & CommandFlags.NoSessions) != 0)
            {
                throw new TpmException(TpmRc.AuthContext, $"{code} takes no sessions");
            }

            RetrieveSessions(ref area, descriptor, sessionAreas);
        }

        var authCount = descriptor.AuthHandleCount;
        if (sessionAreas.Count < authCount)
        {
            throw new TpmException(TpmRc.AuthMissing, $"{code} needs {authCount} authorization(s), {sessionAreas.Count} given");
        }

        var parameters = reader.RemainingSpan.ToArray();
        var sessions = Authorize(code, descriptor, handles, entities, sessionAreas, parameters);
        DecryptCommandParameter(sessions, entities, parameters);

        // Execute. A handler validates everything before it changes state.
        var context = new CommandContext(this, descriptor, handles, entities, parameters, sessions, Locality);
        descriptor.Handler(context);

        if ((descriptor.Flags & CommandFlags.WritesNv) != 0)
        {
            SaveState();
            PersistentStateChanged?.Invoke(this, EventArgs.Empty);
        }

        return BuildResponse(tag, context);
    }

    /// <summary>
    /// The unmarshalling check of one handle (TPMI_ types of Part 2): its type must be accepted in
    /// this slot and its value in range — transient and session handles only up to the
    /// implementation's slot counts, as the reference TRANSIENT_LAST / HMAC_SESSION_LAST — else
    /// TPM_RC_VALUE + handle n.
    /// </summary>
    private void CheckHandleType(uint handle, HandleSpec spec, int n)
    {
        var kind = KindOf(handle);
        if (kind == HandleKinds.Null && spec.AllowNull)
        {
            return;
        }

        if (!IsInRange(handle) || (spec.Allowed & kind) == 0)
        {
            throw new TpmException(TpmResponseCode.Handle(TpmRc.Value, n), $"handle {n} (0x{handle:x8}) is not of a type {spec.Allowed}");
        }
    }

    /// <summary>
    /// Whether a handle is a valid value of its type here: transient and session handles only up to
    /// the slot counts (reference TRANSIENT_LAST, HMAC_SESSION_LAST, POLICY_SESSION_LAST), PCRs up to 23.
    /// </summary>
    internal bool IsInRange(uint handle) => KindOf(handle) switch
    {
        HandleKinds.None => false,
        HandleKinds.Transient => handle - TpmRh.TransientFirst < (uint)_options.MaxTransientObjects,
        HandleKinds.HmacSession => handle - TpmRh.HmacSessionFirst < (uint)_options.MaxActiveSessions,
        HandleKinds.PolicySession => handle - TpmRh.PolicySessionFirst < (uint)_options.MaxActiveSessions,
        HandleKinds.Pcr => handle < EngineState.PcrCount,
        _ => true,
    };

    /// <summary>The entity a type-checked handle refers to (reference EntityGetLoadStatus).</summary>
    private IAuthEntity? ResolveHandle(uint handle, HandleSpec spec, int n)
    {
        var kind = KindOf(handle);
        if (kind == HandleKinds.Null && spec.AllowNull)
        {
            return null;
        }

        switch (kind)
        {
            case HandleKinds.Transient:
                return State.TransientObjects.TryGetValue(handle, out var transient)
                    ? transient
                    : throw new TpmException((TpmRc)((uint)TpmRc.ReferenceH0 + (uint)(n - 1)), $"transient object 0x{handle:x8} is not loaded");
            case HandleKinds.Persistent:
                return State.PersistentObjects.TryGetValue(handle, out var persistent)
                    ? persistent
                    : throw new TpmException(TpmResponseCode.Handle(TpmRc.Handle, n), $"persistent object 0x{handle:x8} does not exist");
            case HandleKinds.NvIndex:
                return State.NvIndices.TryGetValue(handle, out var index)
                    ? index
                    : throw new TpmException(TpmResponseCode.Handle(TpmRc.Handle, n), $"NV index 0x{handle:x8} is not defined");
            case HandleKinds.Pcr:
                return new PcrEntity(handle);
            case HandleKinds.HmacSession or HandleKinds.PolicySession:
                return LoadedSession(handle) is { } loaded
                    ? loaded.Handle == handle
                        ? null
                        : throw new TpmException(TpmResponseCode.Handle(TpmRc.Handle, n), $"session slot of 0x{handle:x8} holds 0x{loaded.Handle:x8}")
                    : throw new TpmException((TpmRc)((uint)TpmRc.ReferenceH0 + (uint)(n - 1)), $"session 0x{handle:x8} is not loaded");
            default:
                var hierarchy = State.PermanentEntityFor(handle)!;
                if (!hierarchy.Enabled)
                {
                    throw new TpmException(TpmResponseCode.Handle(TpmRc.Hierarchy, n), $"hierarchy 0x{handle:x8} is disabled");
                }

                return hierarchy;
        }
    }

    /// <summary>
    /// The loaded session in the slot of a session handle, whatever its type: HMAC and policy
    /// sessions share slots, so 0x03000000 names the slot of 0x02000000 (reference SessionIsLoaded).
    /// </summary>
    internal AuthSession? LoadedSession(uint handle) => SessionInSlot(handle, includeSaved: false);

    /// <summary>The session, loaded or (with <paramref name="includeSaved"/>) saved, in the slot of a session handle.</summary>
    internal AuthSession? SessionInSlot(uint handle, bool includeSaved)
    {
        var slot = handle & 0x00FF_FFFF;
        foreach (var candidate in (ReadOnlySpan<uint>)[TpmRh.HmacSessionFirst + slot, TpmRh.PolicySessionFirst + slot])
        {
            if (State.Sessions.TryGetValue(candidate, out var session) && (includeSaved || !session.IsSaved))
            {
                return session;
            }
        }

        return null;
    }

    /// <summary>
    /// Unmarshals the session area (reference RetrieveSessionData), with its codes: more than three
    /// sessions is TPM_RC_SIZE + session 4; a handle that is not a session is TPM_RC_VALUE; a nonce or
    /// HMAC above a digest is TPM_RC_SIZE; reserved attribute bits are TPM_RC_RESERVED_BITS; a password
    /// with audit/encrypt/decrypt attributes is TPM_RC_ATTRIBUTES, with a nonce TPM_RC_NONCE; a session
    /// not loaded is TPM_RC_REFERENCE_Sn; a slot holding the other session type, or a session listed
    /// twice, is TPM_RC_HANDLE; each qualified with the session number.
    /// </summary>
    private void RetrieveSessions(ref TpmReader area, CommandDescriptor descriptor, List<SessionArea> sessions)
    {
        const int MaxSessions = 3;
        const int MaxDigest = 64;
        while (area.Remaining > 0)
        {
            var n = sessions.Count + 1;
            if (sessions.Count == MaxSessions)
            {
                throw new TpmException(TpmResponseCode.Session(TpmRc.Size, n), "more than three sessions");
            }

            uint handle;
            byte[] nonce;
            TpmaSession attributes;
            byte[] hmac;
            try
            {
                handle = area.ReadU32();
                var kind = KindOf(handle);
                var isSession = handle == TpmRh.Password
                    || (kind == HandleKinds.HmacSession && handle - TpmRh.HmacSessionFirst < (uint)_options.MaxActiveSessions)
                    || (kind == HandleKinds.PolicySession && handle - TpmRh.PolicySessionFirst < (uint)_options.MaxActiveSessions);
                if (!isSession)
                {
                    throw new TpmException(TpmRc.Value, $"0x{handle:x8} is not a session handle");
                }

                nonce = area.ReadTpm2b(MaxDigest);
                attributes = (TpmaSession)area.ReadU8();
                if (((byte)attributes & 0x18) != 0)
                {
                    throw new TpmException(TpmRc.ReservedBits, $"reserved session attribute bits 0x{(byte)attributes:x2}");
                }

                hmac = area.ReadTpm2b(MaxDigest);
            }
            catch (TpmException e)
            {
                throw new TpmException(TpmResponseCode.Session(e.ResponseCode, n), $"session {n}: {e.Message}");
            }

            if (handle == TpmRh.Password)
            {
                if ((attributes & ~TpmaSession.ContinueSession) != 0)
                {
                    throw new TpmException(TpmResponseCode.Session(TpmRc.Attributes, n), "password session attributes other than continueSession");
                }

                if (nonce.Length != 0)
                {
                    throw new TpmException(TpmResponseCode.Session(TpmRc.Nonce, n), "password session with a nonce");
                }

                sessions.Add(new SessionArea(handle, nonce, attributes, hmac));
                continue;
            }

            var session = LoadedSession(handle)
                ?? throw new TpmException((TpmRc)((uint)TpmRc.ReferenceS0 + (uint)(n - 1)), $"session 0x{handle:x8} is not loaded");
            if (session.Handle != handle || sessions.Any(s => s.Handle == handle))
            {
                throw new TpmException(TpmResponseCode.Session(TpmRc.Handle, n), $"session 0x{handle:x8}: wrong type or listed twice");
            }

            if ((attributes & TpmaSession.Decrypt) != 0)
            {
                if ((descriptor.Flags & CommandFlags.DecryptFirst) == 0 || sessions.Any(s => (s.Attributes & TpmaSession.Decrypt) != 0))
                {
                    throw new TpmException(TpmResponseCode.Session(TpmRc.Attributes, n), "decrypt: the command has no encryptable parameter, or another session decrypts");
                }

                if (!ParameterEncryption.CanEncrypt(session.Symmetric))
                {
                    throw new TpmException(TpmResponseCode.Session(TpmRc.Symmetric, n), "decrypt with a session without a symmetric algorithm");
                }
            }

            if ((attributes & TpmaSession.Encrypt) != 0)
            {
                if ((descriptor.Flags & CommandFlags.EncryptFirst) == 0 || sessions.Any(s => (s.Attributes & TpmaSession.Encrypt) != 0))
                {
                    throw new TpmException(TpmResponseCode.Session(TpmRc.Attributes, n), "encrypt: the response has no encryptable parameter, or another session encrypts");
                }

                if (!ParameterEncryption.CanEncrypt(session.Symmetric))
                {
                    throw new TpmException(TpmResponseCode.Session(TpmRc.Symmetric, n), "encrypt with a session without a symmetric algorithm");
                }
            }

            if ((attributes & TpmaSession.Audit) != 0
                && (session.IsPolicy || sessions.Any(s => (s.Attributes & TpmaSession.Audit) != 0)))
            {
                throw new TpmException(TpmResponseCode.Session(TpmRc.Attributes, n), "audit: a policy session, or another audit session");
            }

            sessions.Add(new SessionArea(handle, nonce, attributes, hmac));
        }
    }

    internal static HandleKinds KindOf(uint handle) => (handle >> 24) switch
    {
        0x00 => HandleKinds.Pcr,
        0x01 => HandleKinds.NvIndex,
        0x02 => HandleKinds.HmacSession,
        0x03 => HandleKinds.PolicySession,
        0x80 => HandleKinds.Transient,
        0x81 => HandleKinds.Persistent,
        0x40 => handle switch
        {
            TpmRh.Owner => HandleKinds.Owner,
            TpmRh.Endorsement => HandleKinds.Endorsement,
            TpmRh.Platform => HandleKinds.Platform,
            TpmRh.Lockout => HandleKinds.Lockout,
            TpmRh.Null => HandleKinds.Null,
            _ => HandleKinds.None,
        },
        _ => HandleKinds.None,
    };

    /// <summary>The Name used in cpHash for a handle: the entity's Name, else the handle itself.</summary>
    internal static byte[] NameOf(uint handle, IAuthEntity? entity) => entity switch
    {
        TpmObject o => o.Name,
        NvIndex nv => nv.Name,
        _ => PermanentEntity.BigEndian(handle),
    };

    private byte[] BuildResponse(TpmSt tag, CommandContext context)
    {
        var w = new TpmWriter(64 + context.Output.Length);
        w.WriteU16((ushort)tag);
        var sizeMark = w.BeginSize32();
        w.WriteU32((uint)TpmRc.Success);
        foreach (var h in context.ResponseHandles)
        {
            w.WriteU32(h);
        }

        if (tag == TpmSt.Sessions)
        {
            // Part 1 §21 / reference BuildResponseSession: new nonces, then parameter encryption, then rpHash and HMACs.
            RollNonces(context);
            var output = context.Output.ToArray();
            EncryptResponseParameter(context, output);
            w.WriteU32(checked((uint)output.Length));
            w.WriteBytes(output);
            WriteResponseSessions(w, context, output);
        }
        else
        {
            w.WriteBytes(context.Output.WrittenSpan);
        }

        w.EndSize32(sizeMark, includeField: true);
        return w.ToArray();
    }
}

/// <summary>One TPMS_AUTH_COMMAND of the authorization area.</summary>
internal readonly record struct SessionArea(uint Handle, byte[] Nonce, TpmaSession Attributes, byte[] Hmac);
