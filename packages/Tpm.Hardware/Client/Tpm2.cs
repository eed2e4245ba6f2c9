using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>A TPM 2.0 response: its handle (if any) and its parameter area.</summary>
/// <param name="Handles">Response handles.</param>
/// <param name="Parameters">The response parameters, to unmarshal with a <see cref="TpmReader"/>.</param>
public sealed record TpmResponse(uint[] Handles, byte[] Parameters)
{
    /// <summary>A reader over <see cref="Parameters"/>.</summary>
    public TpmReader Reader() => new(Parameters);
}

/// <summary>
/// The typed TPM 2.0 client: marshals commands, sends them over an <see cref="ITpmTransport"/>,
/// checks response HMACs, and unmarshals responses. A response code other than success
/// raises one <see cref="TpmException"/> carrying it. Not thread-safe: one command at a time.
/// </summary>
public sealed partial class Tpm2 : IDisposable
{
    private readonly bool _ownsTransport;
    private readonly Dictionary<uint, byte[]> _names = [];

    /// <summary>Creates a client over <paramref name="transport"/>.</summary>
    /// <param name="transport">The TPM.</param>
    /// <param name="random">Source of caller nonces; the OS CSPRNG by default.</param>
    /// <param name="ownsTransport">Dispose the transport with the client.</param>
    public Tpm2(ITpmTransport transport, IRandomSource? random = null, bool ownsTransport = false)
    {
        Transport = transport ?? throw new ArgumentNullException(nameof(transport));
        Random = random ?? SystemRandomSource.Instance;
        _ownsTransport = ownsTransport;
    }

    /// <summary>The transport commands go over.</summary>
    public ITpmTransport Transport { get; }

    /// <summary>
    /// A session (started with a symmetric algorithm) that the client adds after the authorizations
    /// of every command with an encryptable parameter, with continueSession and decrypt and/or
    /// encrypt as the command allows (TPM 2.0 Part 1 §21), so typed methods send their secrets
    /// encrypted; null (the default) for none. Salt it (tpmKey) so that its key is secret.
    /// </summary>
    /// <exception cref="ArgumentException">The session has no symmetric algorithm.</exception>
    public TpmSession? EncryptionSession
    {
        get => _encryptionSession;
        set
        {
            if (value is not null && !ParameterEncryption.CanEncrypt(value.Symmetric))
            {
                throw new ArgumentException("The encryption session was started without a symmetric algorithm.", nameof(value));
            }

            _encryptionSession = value;
        }
    }

    private TpmSession? _encryptionSession;

    internal IRandomSource Random { get; }

    /// <summary>Sends one command. Most callers use the typed methods; this is the escape hatch.</summary>
    /// <param name="code">The command code.</param>
    /// <param name="handles">The handle area.</param>
    /// <param name="authorizations">One authorization per handle that needs one, in handle order (empty for none).</param>
    /// <param name="parameters">Writes the parameter area.</param>
    /// <param name="responseHandleCount">How many handles the response carries.</param>
    /// <exception cref="TpmException">The TPM answered with an error.</exception>
    /// <exception cref="CryptographicException">A response HMAC did not verify.</exception>
    public TpmResponse Execute(TpmCc code, ReadOnlySpan<uint> handles, IReadOnlyList<TpmAuthorization> authorizations, Action<TpmWriter>? parameters, int responseHandleCount = 0)
    {
        ArgumentNullException.ThrowIfNull(authorizations);
        authorizations = WithEncryptionSession(code, authorizations);
        var paramWriter = new TpmWriter();
        parameters?.Invoke(paramWriter);
        var paramBytes = paramWriter.ToArray();
        var hasSessions = authorizations.Count > 0;

        var w = new TpmWriter(64 + paramBytes.Length);
        w.WriteU16((ushort)(hasSessions ? TpmSt.Sessions : TpmSt.NoSessions));
        var sizeMark = w.BeginSize32();
        w.WriteU32((uint)code);
        foreach (var h in handles)
        {
            w.WriteU32(h);
        }

        byte[]? cpHash = null;
        TpmAlgId cpAlg = 0;
        if (hasSessions)
        {
            // Names for cpHash first: reading one is a command of its own, which must not roll a
            // session's nonces between the parameter encryption and the HMAC of this command.
            if (authorizations.Any(a => a is SessionAuthorization))
            {
                foreach (var h in handles)
                {
                    _ = GetName(h);
                }
            }

            // Fresh caller nonces first: the decrypt session's nonce keys the parameter encryption,
            // which must happen before cpHash is computed over the encrypted parameters (Part 1 §21).
            foreach (var authorization in authorizations)
            {
                if (authorization is SessionAuthorization s)
                {
                    ObjectDisposedException.ThrowIf(s.UsedSession.IsClosed, s.UsedSession);
                    s.UsedSession.NonceCaller = Random.GetBytes(TpmHash.DigestSize(s.UsedSession.AuthHash));
                }
            }

            EncryptCommandParameter(authorizations, paramBytes);

            var authMark = w.BeginSize32();
            for (var i = 0; i < authorizations.Count; i++)
            {
                switch (authorizations[i])
                {
                    case PasswordAuthorization p:
                        w.WriteU32(TpmRh.Password);
                        w.WriteTpm2b([]);
                        w.WriteU8((byte)TpmaSession.ContinueSession);
                        w.WriteTpm2b(p.AuthValue);
                        break;
                    case SessionAuthorization s:
                        var session = s.UsedSession;
                        w.WriteU32(session.Handle);
                        w.WriteTpm2b(session.NonceCaller);
                        w.WriteU8((byte)s.Attributes);
                        if (session.Type == TpmSe.Policy && session.NeedsPassword)
                        {
                            w.WriteTpm2b(s.AuthValue);
                        }
                        else
                        {
                            if (cpHash is null || cpAlg != session.AuthHash)
                            {
                                cpHash = CpHash(session.AuthHash, code, handles, paramBytes);
                                cpAlg = session.AuthHash;
                            }

                            var key = SessionHmacKey(session, s.AuthValue, i < handles.Length ? handles[i] : 0);
                            w.WriteTpm2b(TpmHash.Hmac(session.AuthHash, key, cpHash, session.NonceCaller, session.NonceTpm, [(byte)s.Attributes]));
                            CryptographicOperations.ZeroMemory(key);
                        }

                        break;
                    default:
                        throw new ArgumentException("Unknown authorization kind.", nameof(authorizations));
                }
            }

            w.EndSize32(authMark);
        }

        w.WriteBytes(paramBytes);
        w.EndSize32(sizeMark, includeField: true);

        // TPM_RC_RETRY, _YIELDED and _TESTING mean the TPM did not run the command: send it again,
        // as tpm2-tss does (libtpms answers RETRY, for example, while it completes a self test).
        var response = Transport.Execute(w.WrittenSpan);
        for (var attempt = 1; attempt < MaxRetries && IsRetryable(response); attempt++)
        {
            response = Transport.Execute(w.WrittenSpan);
        }

        return ParseResponse(code, response, authorizations, responseHandleCount, handles);
    }

    private const int MaxRetries = 8;

    private static bool IsRetryable(byte[] response) =>
        response.Length >= 10 && (TpmRc)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)) is TpmRc.Retry or TpmRc.Yielded or TpmRc.Testing;

    /// <summary>Records the Name of an object or NV handle (used for cpHash of HMAC sessions).</summary>
    public void SetName(uint handle, byte[] name)
    {
        ArgumentNullException.ThrowIfNull(name);
        _names[handle] = name;
    }

    /// <summary>Forgets a handle's Name (after it is flushed or evicted).</summary>
    public void ForgetName(uint handle) => _names.Remove(handle);

    /// <summary>The Name of a handle: recorded, else read from the TPM for objects, else the handle itself.</summary>
    public byte[] GetName(uint handle)
    {
        if (_names.TryGetValue(handle, out var name))
        {
            return name;
        }

        switch (TpmRh.TypeOf(handle))
        {
            case TpmHt.Transient or TpmHt.Persistent:
                var rp = Execute(TpmCc.ReadPublic, [handle], [], null);
                var r = rp.Reader();
                _ = TpmtPublic.UnmarshalSized(ref r);
                name = r.ReadTpm2b();
                _names[handle] = name;
                return name;
            case TpmHt.NvIndex:
                var nv = Execute(TpmCc.NvReadPublic, [handle], [], null);
                var nr = nv.Reader();
                _ = TpmsNvPublic.UnmarshalSized(ref nr);
                name = nr.ReadTpm2b();
                _names[handle] = name;
                return name;
            default:
                return PermanentEntity.BigEndian(handle);
        }
    }

    /// <summary>Disposes the transport when the client owns it.</summary>
    public void Dispose()
    {
        if (_ownsTransport)
        {
            Transport.Dispose();
        }
    }

    private byte[] CpHash(TpmAlgId alg, TpmCc code, ReadOnlySpan<uint> handles, byte[] parameters)
    {
        var w = new TpmWriter(64 + parameters.Length);
        w.WriteU32((uint)code);
        foreach (var h in handles)
        {
            w.WriteBytes(GetName(h));
        }

        w.WriteBytes(parameters);
        return TpmHash.Hash(alg, w.WrittenSpan);
    }

    private byte[] SessionHmacKey(TpmSession session, byte[] authValue, uint authorizedHandle)
    {
        var boundHere = authorizedHandle != 0 && IsBoundTo(session, authorizedHandle);
        var includeAuth = session.Type == TpmSe.Policy ? session.NeedsAuthValue : !boundHere;
        return SoftwareTpm.Concat(session.SessionKey, includeAuth ? TpmObject.TrimAuth(authValue) : []);
    }

    /// <summary>Appends <see cref="EncryptionSession"/> when the command has an encryptable parameter and no session already encrypts.</summary>
    private IReadOnlyList<TpmAuthorization> WithEncryptionSession(TpmCc code, IReadOnlyList<TpmAuthorization> authorizations)
    {
        var session = _encryptionSession;
        if (session is null || session.IsClosed || authorizations.Count >= 3
            || authorizations.Any(a => a is SessionAuthorization s && (s.UsedSession == session || (s.Attributes & (TpmaSession.Decrypt | TpmaSession.Encrypt)) != 0)))
        {
            return authorizations;
        }

        var attributes = TpmaSession.ContinueSession
            | (ParameterEncryption.DecryptableCommands.Contains(code) ? TpmaSession.Decrypt : TpmaSession.None)
            | (ParameterEncryption.EncryptableResponses.Contains(code) ? TpmaSession.Encrypt : TpmaSession.None);
        return attributes == TpmaSession.ContinueSession ? authorizations : [.. authorizations, TpmAuthorization.Session(session, default, attributes)];
    }

    /// <summary>With a decrypt session, encrypts the data of the first command parameter (a TPM2B) in place.</summary>
    private static void EncryptCommandParameter(IReadOnlyList<TpmAuthorization> authorizations, byte[] parameters)
    {
        if (FindEncryptionSession(authorizations, TpmaSession.Decrypt) is not { } s)
        {
            return;
        }

        if (!ParameterEncryption.TryGetFirstTpm2b(parameters, out var data))
        {
            throw new ArgumentException("A decrypt session needs a command whose first parameter is a TPM2B.", nameof(authorizations));
        }

        var session = s.UsedSession;
        ParameterEncryption.Apply(session.Symmetric, session.AuthHash, session.SessionKey, TpmObject.TrimAuth(s.AuthValue), session.NonceCaller, session.NonceTpm, ParameterEncryption.Direction.Command, encrypt: true, data);
    }

    /// <summary>With an encrypt session, decrypts the data of the first response parameter in place (after the response HMACs verified).</summary>
    private static void DecryptResponseParameter(IReadOnlyList<TpmAuthorization> authorizations, byte[] parameters)
    {
        if (FindEncryptionSession(authorizations, TpmaSession.Encrypt) is not { } s || !ParameterEncryption.TryGetFirstTpm2b(parameters, out var data))
        {
            return;
        }

        var session = s.UsedSession;
        ParameterEncryption.Apply(session.Symmetric, session.AuthHash, session.SessionKey, TpmObject.TrimAuth(s.AuthValue), session.NonceCaller, session.NonceTpm, ParameterEncryption.Direction.Response, encrypt: false, data);
    }

    private static SessionAuthorization? FindEncryptionSession(IReadOnlyList<TpmAuthorization> authorizations, TpmaSession attribute)
    {
        SessionAuthorization? found = null;
        foreach (var authorization in authorizations)
        {
            if (authorization is SessionAuthorization s && (s.Attributes & attribute) != 0)
            {
                if (found is not null)
                {
                    throw new ArgumentException($"Only one session may have the {attribute} attribute.", nameof(authorizations));
                }

                if (!ParameterEncryption.CanEncrypt(s.UsedSession.Symmetric))
                {
                    throw new ArgumentException($"Session 0x{s.UsedSession.Handle:x8} was started without a symmetric algorithm and cannot {attribute.ToString().ToLowerInvariant()}.", nameof(authorizations));
                }

                found = s;
            }
        }

        return found;
    }

    private TpmResponse ParseResponse(TpmCc code, byte[] response, IReadOnlyList<TpmAuthorization> authorizations, int responseHandleCount, ReadOnlySpan<uint> handles)
    {
        var r = new TpmReader(response);
        var tag = (TpmSt)r.ReadU16();
        var size = r.ReadU32();
        var rc = (TpmRc)r.ReadU32();
        if (size != response.Length)
        {
            throw new TpmException(TpmRc.Size, $"{code}: responseSize {size} but {response.Length} octets received");
        }

        if (rc != TpmRc.Success)
        {
            throw new TpmException(rc, $"{code} failed: {TpmResponseCode.Describe(rc)}");
        }

        var outHandles = new uint[responseHandleCount];
        for (var i = 0; i < responseHandleCount; i++)
        {
            outHandles[i] = r.ReadU32();
        }

        if (tag != TpmSt.Sessions)
        {
            return new TpmResponse(outHandles, r.RemainingSpan.ToArray());
        }

        var paramSize = r.ReadU32();
        var parameters = r.ReadBytes((int)paramSize).ToArray();
        byte[]? rpHash = null;
        TpmAlgId rpAlg = 0;
        for (var i = 0; i < authorizations.Count; i++)
        {
            var nonce = r.ReadTpm2b(64);
            var attributes = (TpmaSession)r.ReadU8();
            var hmac = r.ReadTpm2b(128);
            if (authorizations[i] is not SessionAuthorization s)
            {
                continue;
            }

            var session = s.UsedSession;
            session.NonceTpm = nonce;
            if (!(session.Type == TpmSe.Policy && session.NeedsPassword))
            {
                if (rpHash is null || rpAlg != session.AuthHash)
                {
                    var rp = new TpmWriter(8 + parameters.Length);
                    rp.WriteU32(0);
                    rp.WriteU32((uint)code);
                    rp.WriteBytes(parameters);
                    rpHash = TpmHash.Hash(session.AuthHash, rp.WrittenSpan);
                    rpAlg = session.AuthHash;
                }

                var key = SessionHmacKey(session, s.ResponseAuthValue ?? s.AuthValue, i < handles.Length ? handles[i] : 0);
                var expected = TpmHash.Hmac(session.AuthHash, key, rpHash, session.NonceTpm, session.NonceCaller, [(byte)attributes]);
                CryptographicOperations.ZeroMemory(key);
                if (!CryptographicOperations.FixedTimeEquals(expected, hmac))
                {
                    throw new CryptographicException($"{code}: the response HMAC of session 0x{session.Handle:x8} does not verify.");
                }
            }

            if ((attributes & TpmaSession.ContinueSession) == 0)
            {
                session.IsClosed = true;
            }
            else if (session.Type == TpmSe.Policy)
            {
                // The TPM restarts a policy session's policy once it has authorized a command.
                session.NeedsAuthValue = false;
                session.NeedsPassword = false;
            }
        }

        DecryptResponseParameter(authorizations, parameters);
        return new TpmResponse(outHandles, parameters);
    }
}
