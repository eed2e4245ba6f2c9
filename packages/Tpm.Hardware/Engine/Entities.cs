using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>Something a handle can authorize: a hierarchy, object, NV index or PCR (TPM 2.0 Part 1 §19).</summary>
internal interface IAuthEntity
{
    /// <summary>The entity's Name (handle for permanent entities and PCRs).</summary>
    byte[] Name { get; }

    /// <summary>The authValue (no trailing zeros, Part 1 §19.6.5).</summary>
    byte[] AuthValue { get; }

    /// <summary>The authPolicy digest (empty for none).</summary>
    byte[] AuthPolicy { get; }

    /// <summary>Policy hash algorithm of <see cref="AuthPolicy"/>.</summary>
    TpmAlgId PolicyAlg { get; }

    /// <summary>Subject to dictionary-attack protection.</summary>
    bool IsDaProtected { get; }
}

/// <summary>A hierarchy or other permanent entity (TPM_RH_OWNER, ENDORSEMENT, PLATFORM, LOCKOUT, NULL).</summary>
internal sealed class PermanentEntity : IAuthEntity
{
    public PermanentEntity(uint handle)
    {
        Handle = handle;
        Name = BigEndian(handle);
    }

    public uint Handle { get; }

    public byte[] Name { get; }

    public byte[] AuthValue { get; set; } = [];

    public byte[] AuthPolicy { get; set; } = [];

    public TpmAlgId PolicyAlg { get; set; } = TpmAlgId.Null;

    public bool IsDaProtected => Handle == TpmRh.Lockout;

    public bool Enabled { get; set; } = true;

    /// <summary>The Name of a permanent entity or PCR: its handle, big-endian.</summary>
    public static byte[] BigEndian(uint handle) => TpmWriter.U32Bytes(handle);
}

/// <summary>A PCR as an authorization entity: empty auth, no policy (PCR auth/policy groups are not implemented).</summary>
internal sealed class PcrEntity(uint index) : IAuthEntity
{
    public uint Index { get; } = index;

    public byte[] Name { get; } = PermanentEntity.BigEndian(index);

    public byte[] AuthValue => [];

    public byte[] AuthPolicy => [];

    public TpmAlgId PolicyAlg => TpmAlgId.Null;

    public bool IsDaProtected => false;
}

/// <summary>A loaded (transient) or persistent object.</summary>
internal sealed class TpmObject : IAuthEntity, IDisposable
{
    private TpmPrivateKey? _key;

    public TpmObject(TpmtPublic publicArea, ITpmSecret sensitive, byte[] authValue, uint hierarchy, byte[] qualifiedName, bool isPrimary, byte[]? name = null)
    {
        Public = publicArea;
        Sensitive = sensitive;
        AuthValue = TrimAuth(authValue);
        Hierarchy = hierarchy;
        Name = name ?? publicArea.GetName();
        QualifiedName = qualifiedName;
        IsPrimary = isPrimary;
    }

    /// <summary>The handle the object is loaded at (transient or persistent).</summary>
    public uint Handle { get; set; }

    public TpmtPublic Public { get; }

    /// <summary>Marshalled TPMT_SENSITIVE in the engine's secret store.</summary>
    public ITpmSecret Sensitive { get; }

    public uint Hierarchy { get; }

    public bool IsPrimary { get; }

    public byte[] Name { get; }

    public byte[] QualifiedName { get; }

    public byte[] AuthValue { get; }

    public byte[] AuthPolicy => Public.AuthPolicy;

    public TpmAlgId PolicyAlg => Public.NameAlg;

    public bool IsDaProtected => (Public.ObjectAttributes & TpmaObject.NoDA) == 0;

    public TpmaObject Attributes => Public.ObjectAttributes;

    /// <summary>Loaded by TPM2_LoadExternal: its qualified name is its Name and it is never a parent.</summary>
    public bool IsExternal { get; init; }

    /// <summary>Set for a hash or event sequence object (TPM2_HashSequenceStart): it occupies a transient slot but is no key.</summary>
    public HashSequence? Sequence { get; init; }

    /// <summary>Loaded without a sensitive area (a public key for verification).</summary>
    public bool IsPublicOnly => Sensitive.Length == 0;

    /// <summary>Ordinary storage parent: a restricted decryption key (not KEYEDHASH) with a sensitive area, not external.</summary>
    public bool IsStorageParent => (Attributes & (TpmaObject.Restricted | TpmaObject.Decrypt | TpmaObject.Sign)) == (TpmaObject.Restricted | TpmaObject.Decrypt)
        && Public.Type != TpmAlgId.Keyedhash && !IsExternal && !IsPublicOnly;

    /// <summary>Materializes the private key for asymmetric objects; cached only when the store allows it.</summary>
    public TpmPrivateKey GetPrivateKey(bool allowCaching, out bool callerDisposes)
    {
        if (_key is not null)
        {
            callerDisposes = false;
            return _key;
        }

        using var sensitive = SecretMarshal.LoadSensitive(Sensitive);
        var key = new TpmPrivateKey(Public, sensitive);
        if (allowCaching)
        {
            _key = key;
            callerDisposes = false;
        }
        else
        {
            callerDisposes = true;
        }

        return key;
    }

    /// <summary>Reads the sensitive area (dispose it to zero the copy).</summary>
    public TpmtSensitive ReadSensitive() => SecretMarshal.LoadSensitive(Sensitive);

    /// <summary>
    /// Writes TPM2B_PUBLIC ‖ TPM2B(TPMT_SENSITIVE, empty for a public-only object) ‖ TPM2B(qualified
    /// name): what a saved context and the state file keep of an object besides its handle.
    /// </summary>
    public void WriteTo(TpmWriter w)
    {
        Public.MarshalSized(w);
        var sensitive = Sensitive.Reveal();
        w.WriteTpm2b(sensitive);
        CryptographicOperations.ZeroMemory(sensitive);
        w.WriteTpm2b(QualifiedName);
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote, storing the sensitive area in <paramref name="store"/>; set <see cref="Handle"/> afterwards.</summary>
    public static TpmObject ReadFrom(ref TpmReader r, ITpmSecretStore store, string purpose, uint hierarchy, bool isPrimary, bool isExternal)
    {
        var publicArea = TpmtPublic.UnmarshalSized(ref r);
        var sensitiveBytes = r.ReadTpm2b();
        TpmtSensitive? sensitive = null;
        try
        {
            if (sensitiveBytes.Length != 0)
            {
                var sr = new TpmReader(sensitiveBytes);
                sensitive = TpmtSensitive.Unmarshal(ref sr);
            }

            var qualifiedName = r.ReadTpm2b(2 + 64);
            var secret = sensitive is null ? store.Store([], $"{purpose} (public only)") : SecretMarshal.StoreSensitive(store, sensitive, purpose);
            return new TpmObject(publicArea, secret, sensitive?.AuthValue ?? [], hierarchy, qualifiedName, isPrimary) { IsExternal = isExternal };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sensitiveBytes);
            sensitive?.Dispose();
        }
    }

    public void Dispose()
    {
        _key?.Dispose();
        _key = null;
        Sensitive.Dispose();
        Sequence?.Dispose();
    }

    /// <summary>Part 1 §19.6.5: trailing zero octets of an authValue are not significant.</summary>
    public static byte[] TrimAuth(ReadOnlySpan<byte> auth) => auth[..TrimmedLength(auth)].ToArray();

    /// <summary>Constant-time equality of two authValues, trailing zero octets ignored (Part 1 §19.6.5).</summary>
    public static bool AuthEquals(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        a = a[..TrimmedLength(a)];
        b = b[..TrimmedLength(b)];
        return a.Length == b.Length && CryptographicOperations.FixedTimeEquals(a, b);
    }

    /// <summary>The length of <paramref name="auth"/> without its trailing zero octets.</summary>
    public static int TrimmedLength(ReadOnlySpan<byte> auth)
    {
        var n = auth.Length;
        while (n > 0 && auth[n - 1] == 0)
        {
            n--;
        }

        return n;
    }

    public override string ToString() => $"object 0x{Handle:x8} {Public.Type}";
}

/// <summary>An NV index: its public area and data.</summary>
internal sealed class NvIndex : IAuthEntity
{
    public NvIndex(TpmsNvPublic publicArea, byte[] authValue, byte[] data)
    {
        Public = publicArea;
        AuthValue = TpmObject.TrimAuth(authValue);
        Data = data;
    }

    public TpmsNvPublic Public { get; set; }

    public byte[] Data { get; set; }

    public byte[] Name => Public.GetName();

    public byte[] AuthValue { get; set; }

    public byte[] AuthPolicy => Public.AuthPolicy;

    public TpmAlgId PolicyAlg => Public.NameAlg;

    public bool IsDaProtected => (Public.Attributes & TpmaNv.NoDA) == 0;

    public bool IsPlatformCreated => (Public.Attributes & TpmaNv.PlatformCreate) != 0;

    public void SetAttribute(TpmaNv attribute, bool on) =>
        Public = Public with { Attributes = on ? Public.Attributes | attribute : Public.Attributes & ~attribute };
}

/// <summary>An authorization session: HMAC, policy or trial (TPM 2.0 Part 1 §19.6).</summary>
internal sealed class AuthSession : IDisposable
{
    public AuthSession(uint handle, TpmSe type, TpmAlgId authHash, TpmtSymDef symmetric, byte[] nonceTpm, byte[] sessionKey, byte[]? boundEntityName, byte[]? boundEntityAuth = null)
    {
        Handle = handle;
        Type = type;
        AuthHash = authHash;
        Symmetric = symmetric;
        NonceTpm = nonceTpm;
        SessionKey = sessionKey;
        BoundEntityName = boundEntityName;
        BoundEntityAuth = boundEntityName is null ? null : TpmObject.TrimAuth(boundEntityAuth ?? []);
        PolicyDigest = new byte[TpmHash.DigestSize(authHash)];
    }

    public uint Handle { get; }

    public TpmSe Type { get; }

    public TpmAlgId AuthHash { get; }

    public TpmtSymDef Symmetric { get; }

    public byte[] NonceTpm { get; set; }

    public byte[] NonceCaller { get; set; } = [];

    public byte[] SessionKey { get; }

    /// <summary>Name of the bind entity; a bound session's authValue is already in the key (Part 1 §19.6.11).</summary>
    public byte[]? BoundEntityName { get; }

    /// <summary>The bind entity's authValue when the session started (part of the bind check).</summary>
    public byte[]? BoundEntityAuth { get; }

    /// <summary>
    /// True while <paramref name="entity"/> is the bind entity: the same Name AND the same authValue
    /// as at StartAuthSession (Part 1 §19.6.11). Once the entity's authValue changes, the session
    /// counts as unbound for it and the HMAC key includes the new authValue.
    /// </summary>
    public bool IsBoundTo(IAuthEntity entity) =>
        BoundEntityName is not null && BoundEntityAuth is not null
        && BoundEntityName.AsSpan().SequenceEqual(entity.Name)
        && TpmObject.AuthEquals(BoundEntityAuth, entity.AuthValue);

    public byte[] PolicyDigest { get; set; }

    /// <summary>PolicyCommandCode restriction (0 for none).</summary>
    public TpmCc CommandCode { get; set; }

    /// <summary>PolicyAuthValue was asserted: the HMAC must include the entity authValue.</summary>
    public bool IsAuthValueNeeded { get; set; }

    /// <summary>PolicyPassword was asserted: the HMAC field carries the plain authValue.</summary>
    public bool IsPasswordNeeded { get; set; }

    /// <summary>PCR update counter recorded by PolicyPCR; -1 when PolicyPCR has not run.</summary>
    public long PcrCounter { get; set; } = -1;

    /// <summary>PolicyCpHash/PolicyNameHash value (empty for none).</summary>
    public byte[] CpHash { get; set; } = [];

    /// <summary>Set when the session was context-saved (the handle stays reserved).</summary>
    public bool IsSaved { get; set; }

    /// <summary>The sequence of the latest ContextSave while saved: only that context may load (no replay).</summary>
    public ulong SavedSequence { get; set; }

    public bool IsPolicy => Type is TpmSe.Policy or TpmSe.Trial;

    public bool IsTrial => Type == TpmSe.Trial;

    /// <summary>PolicyRestart: back to the initial state.</summary>
    public void ResetPolicy()
    {
        PolicyDigest = new byte[TpmHash.DigestSize(AuthHash)];
        CommandCode = 0;
        IsAuthValueNeeded = false;
        IsPasswordNeeded = false;
        PcrCounter = -1;
        CpHash = [];
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(SessionKey);
        if (BoundEntityAuth is not null)
        {
            CryptographicOperations.ZeroMemory(BoundEntityAuth);
        }
    }

    public override string ToString() => $"session 0x{Handle:x8} {Type}";
}
