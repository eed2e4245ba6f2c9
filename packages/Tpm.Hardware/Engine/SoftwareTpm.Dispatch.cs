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

        // Handle area: each handle must be of an accepted type and refer to something present.
        var handles = new uint[descriptor.Handles.Length];
        var entities = new IAuthEntity?[handles.Length];
        for (var i = 0; i < handles.Length; i++)
        {
            if (reader.Remaining < 4)
            {
                throw new TpmException(TpmRc.Insufficient, "handle area truncated");
            }

            handles[i] = reader.ReadU32();
            entities[i] = ResolveHandle(handles[i], descriptor.Handles[i], i + 1);
        }

        // Authorization area.
        var sessionAreas = new List<(uint Handle, byte[] Nonce, TpmaSession Attributes, byte[] Hmac)>();
        if (tag == TpmSt.Sessions)
        {
            if (reader.Remaining < 4)
            {
                throw new TpmException(TpmRc.AuthMissing, "authorization area missing");
            }

            var authSize = reader.ReadU32();
            if (authSize < 9 || authSize > reader.Remaining)
            {
                throw new TpmException(TpmRc.Authsize, $"authorizationSize {authSize}");
            }

            var area = new TpmReader(reader.ReadBytes((int)authSize));
            while (area.Remaining > 0)
            {
                if (sessionAreas.Count == 3)
                {
                    throw new TpmException(TpmRc.Authsize, "more than three sessions");
                }

                try
                {
                    var handle = area.ReadU32();
                    var nonce = area.ReadTpm2b(64);
                    var attributes = (TpmaSession)area.ReadU8();
                    var hmac = area.ReadTpm2b(128);
                    sessionAreas.Add((handle, nonce, attributes, hmac));
                }
                catch (TpmException)
                {
                    throw new TpmException(TpmRc.Authsize, "authorization area does not parse");
                }
            }

            if ((descriptor.Flags & CommandFlags.NoSessions) != 0)
            {
                throw new TpmException(TpmRc.AuthContext, $"{code} takes no sessions");
            }
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
        }

        return BuildResponse(tag, context);
    }

    private IAuthEntity? ResolveHandle(uint handle, HandleSpec spec, int n)
    {
        var kind = KindOf(handle);
        if (kind == HandleKinds.Null && spec.AllowNull)
        {
            return null;
        }

        if (kind == HandleKinds.None || (spec.Allowed & kind) == 0)
        {
            throw new TpmException(TpmResponseCode.Handle(TpmRc.Value, n), $"handle {n} (0x{handle:x8}) is not of a type {spec.Allowed}");
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
                return handle < EngineState.PcrCount
                    ? new PcrEntity(handle)
                    : throw new TpmException(TpmResponseCode.Handle(TpmRc.Value, n), $"PCR {handle} does not exist");
            case HandleKinds.HmacSession or HandleKinds.PolicySession:
                return State.Sessions.TryGetValue(handle, out var session) && !session.IsSaved
                    ? null
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
