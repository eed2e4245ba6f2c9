using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>How the client authorizes one handle of a command: a password, or an HMAC or policy session.</summary>
public abstract class TpmAuthorization
{
    private protected TpmAuthorization()
    {
    }

    /// <summary>The empty password (what most hierarchies and keys have by default).</summary>
    public static TpmAuthorization EmptyPassword { get; } = new PasswordAuthorization([]);

    /// <summary>A password authorization (TPM_RS_PW) with <paramref name="authValue"/>.</summary>
    public static TpmAuthorization Password(ReadOnlySpan<byte> authValue) => authValue.IsEmpty ? EmptyPassword : new PasswordAuthorization(authValue.ToArray());

    /// <summary>
    /// Uses <paramref name="session"/>, with the authorized entity's <paramref name="authValue"/> where the session needs it.
    /// With <see cref="TpmaSession.Decrypt"/> the client encrypts the first command parameter, with
    /// <see cref="TpmaSession.Encrypt"/> the TPM encrypts the first response parameter (TPM 2.0 Part 1 §21;
    /// the session needs a symmetric algorithm). The key includes <paramref name="authValue"/>, so pass the
    /// entity's authValue for a session that authorizes it — also a bound or policy session — and nothing
    /// for a session added after the authorizations only to encrypt.
    /// </summary>
    public static TpmAuthorization Session(TpmSession session, ReadOnlySpan<byte> authValue = default, TpmaSession attributes = TpmaSession.ContinueSession)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new SessionAuthorization(session, authValue.ToArray(), attributes);
    }
}

/// <summary>TPM_RS_PW: the authValue in the clear.</summary>
internal sealed class PasswordAuthorization(byte[] authValue) : TpmAuthorization
{
    public byte[] AuthValue { get; } = authValue;

    public override string ToString() => "password";
}

/// <summary>A session used for one command.</summary>
internal sealed class SessionAuthorization(TpmSession session, byte[] authValue, TpmaSession attributes) : TpmAuthorization
{
    public TpmSession UsedSession { get; } = session;

    public byte[] AuthValue { get; } = authValue;

    public TpmaSession Attributes { get; } = attributes;

    /// <summary>The authValue the TPM keys the response HMAC with, when the command changed it (HierarchyChangeAuth, Clear).</summary>
    public byte[]? ResponseAuthValue { get; init; }

    public override string ToString() => $"session 0x{UsedSession.Handle:x8}";
}

/// <summary>
/// The client's side of an HMAC, policy or trial session: handle, nonces and session key
/// (TPM 2.0 Part 1 §19.6). Created by the client's TPM2_StartAuthSession; dispose to zero the key.
/// </summary>
public sealed class TpmSession : IDisposable
{
    internal TpmSession(uint handle, TpmSe type, TpmAlgId authHash, byte[] nonceTpm, byte[] sessionKey, byte[]? boundEntityName, ReadOnlySpan<byte> boundEntityAuth = default, TpmtSymDef? symmetric = null)
    {
        Handle = handle;
        Type = type;
        AuthHash = authHash;
        NonceTpm = nonceTpm;
        SessionKey = sessionKey;
        BoundEntityName = boundEntityName;
        Symmetric = symmetric ?? TpmtSymDef.Null;
        BoundEntityAuth = boundEntityName is null ? null : TpmObject.TrimAuth(boundEntityAuth);
    }

    /// <summary>The parameter-encryption algorithm the session was started with (<see cref="TpmtSymDef.Null"/> for none).</summary>
    public TpmtSymDef Symmetric { get; }

    /// <summary>The session handle (0x02xxxxxx HMAC, 0x03xxxxxx policy).</summary>
    public uint Handle { get; }

    /// <summary>HMAC, policy or trial.</summary>
    public TpmSe Type { get; }

    /// <summary>The session's hash algorithm.</summary>
    public TpmAlgId AuthHash { get; }

    /// <summary>The TPM's latest nonce.</summary>
    public byte[] NonceTpm { get; internal set; }

    /// <summary>The caller's latest nonce.</summary>
    public byte[] NonceCaller { get; internal set; } = [];

    internal byte[] SessionKey { get; }

    internal byte[]? BoundEntityName { get; }

    /// <summary>The bind entity's authValue at StartAuthSession.</summary>
    internal byte[]? BoundEntityAuth { get; }

    /// <summary>The session was flushed (continueSession clear, or FlushContext).</summary>
    public bool IsClosed { get; internal set; }

    /// <summary>Set after PolicyAuthValue: the command HMAC includes the entity's authValue.</summary>
    public bool NeedsAuthValue { get; internal set; }

    /// <summary>Set after PolicyPassword: the authValue goes in the clear.</summary>
    public bool NeedsPassword { get; internal set; }

    /// <summary>Zeroes the session key.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(SessionKey);
        if (BoundEntityAuth is not null)
        {
            CryptographicOperations.ZeroMemory(BoundEntityAuth);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"TpmSession 0x{Handle:x8} {Type} {AuthHash}";
}
