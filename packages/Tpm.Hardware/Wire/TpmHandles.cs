namespace TrustStack.Tpm.Hardware;

/// <summary>TPM_HT: the handle type in the most significant octet of a handle (TPM 2.0 Part 2 §7.2).</summary>
public enum TpmHt : byte
{
    /// <summary>TPM_HT_PCR.</summary>
    Pcr = 0x00,
    /// <summary>TPM_HT_NV_INDEX.</summary>
    NvIndex = 0x01,
    /// <summary>TPM_HT_HMAC_SESSION (also TPM_HT_LOADED_SESSION).</summary>
    HmacSession = 0x02,
    /// <summary>TPM_HT_POLICY_SESSION (also TPM_HT_SAVED_SESSION).</summary>
    PolicySession = 0x03,
    /// <summary>TPM_HT_PERMANENT.</summary>
    Permanent = 0x40,
    /// <summary>TPM_HT_TRANSIENT.</summary>
    Transient = 0x80,
    /// <summary>TPM_HT_PERSISTENT.</summary>
    Persistent = 0x81,
}

/// <summary>Well-known permanent handles (TPM_RH, TPM 2.0 Part 2 §7.4) and handle ranges.</summary>
public static class TpmRh
{
    /// <summary>TPM_RH_OWNER: the storage hierarchy.</summary>
    public const uint Owner = 0x40000001;
    /// <summary>TPM_RH_NULL: the null hierarchy, also "no handle".</summary>
    public const uint Null = 0x40000007;
    /// <summary>TPM_RS_PW: the password authorization pseudo-session.</summary>
    public const uint Password = 0x40000009;
    /// <summary>TPM_RH_LOCKOUT.</summary>
    public const uint Lockout = 0x4000000A;
    /// <summary>TPM_RH_ENDORSEMENT: the endorsement hierarchy.</summary>
    public const uint Endorsement = 0x4000000B;
    /// <summary>TPM_RH_PLATFORM: the platform hierarchy.</summary>
    public const uint Platform = 0x4000000C;
    /// <summary>TPM_RH_PLATFORM_NV.</summary>
    public const uint PlatformNv = 0x4000000D;
    /// <summary>First transient object handle (TPM_HT_TRANSIENT &lt;&lt; 24).</summary>
    public const uint TransientFirst = 0x80000000;
    /// <summary>First persistent object handle.</summary>
    public const uint PersistentFirst = 0x81000000;
    /// <summary>First HMAC session handle.</summary>
    public const uint HmacSessionFirst = 0x02000000;
    /// <summary>First policy session handle.</summary>
    public const uint PolicySessionFirst = 0x03000000;
    /// <summary>First NV index handle.</summary>
    public const uint NvIndexFirst = 0x01000000;

    /// <summary>The handle type (most significant octet) of <paramref name="handle"/>.</summary>
    public static TpmHt TypeOf(uint handle) => (TpmHt)(handle >> 24);
}

/// <summary>TPMA_OBJECT: object attributes (TPM 2.0 Part 2 §8.3).</summary>
[Flags]
public enum TpmaObject : uint
{
    /// <summary>No attributes.</summary>
    None = 0,
    /// <summary>fixedTPM: cannot be duplicated.</summary>
    FixedTpm = 0x00000002,
    /// <summary>stClear: cannot be context-loaded after a TPM Reset/Restart.</summary>
    StClear = 0x00000004,
    /// <summary>fixedParent: parent cannot change.</summary>
    FixedParent = 0x00000010,
    /// <summary>sensitiveDataOrigin: the TPM generated the sensitive data.</summary>
    SensitiveDataOrigin = 0x00000020,
    /// <summary>userWithAuth: USER role may use authValue or an HMAC session.</summary>
    UserWithAuth = 0x00000040,
    /// <summary>adminWithPolicy: ADMIN role needs a policy session.</summary>
    AdminWithPolicy = 0x00000080,
    /// <summary>noDA: not subject to dictionary-attack protection.</summary>
    NoDA = 0x00000400,
    /// <summary>encryptedDuplication.</summary>
    EncryptedDuplication = 0x00000800,
    /// <summary>restricted: signs or decrypts only TPM-generated structures.</summary>
    Restricted = 0x00010000,
    /// <summary>decrypt: a decryption (or storage) key.</summary>
    Decrypt = 0x00020000,
    /// <summary>sign / encrypt.</summary>
    Sign = 0x00040000,
    /// <summary>x509sign.</summary>
    X509Sign = 0x00080000,
}

/// <summary>TPMA_SESSION: session attributes (TPM 2.0 Part 2 §8.4).</summary>
[Flags]
public enum TpmaSession : byte
{
    /// <summary>No attributes.</summary>
    None = 0,
    /// <summary>continueSession: keep the session after the command.</summary>
    ContinueSession = 0x01,
    /// <summary>auditExclusive.</summary>
    AuditExclusive = 0x02,
    /// <summary>auditReset.</summary>
    AuditReset = 0x04,
    /// <summary>decrypt: the first command parameter is encrypted.</summary>
    Decrypt = 0x20,
    /// <summary>encrypt: the first response parameter is encrypted.</summary>
    Encrypt = 0x40,
    /// <summary>audit.</summary>
    Audit = 0x80,
}

/// <summary>TPMA_NV: NV index attributes (TPM 2.0 Part 2 §13.4).</summary>
[Flags]
public enum TpmaNv : uint
{
    /// <summary>No attributes.</summary>
    None = 0,
    /// <summary>TPMA_NV_PPWRITE.</summary>
    PpWrite = 0x00000001,
    /// <summary>TPMA_NV_OWNERWRITE.</summary>
    OwnerWrite = 0x00000002,
    /// <summary>TPMA_NV_AUTHWRITE.</summary>
    AuthWrite = 0x00000004,
    /// <summary>TPMA_NV_POLICYWRITE.</summary>
    PolicyWrite = 0x00000008,
    /// <summary>TPM_NT_COUNTER in the TPM_NT field.</summary>
    TypeCounter = 0x00000010,
    /// <summary>TPM_NT_BITS in the TPM_NT field.</summary>
    TypeBits = 0x00000020,
    /// <summary>TPM_NT_EXTEND in the TPM_NT field.</summary>
    TypeExtend = 0x00000040,
    /// <summary>Mask of the TPM_NT field (bits 4..7).</summary>
    TypeMask = 0x000000F0,
    /// <summary>TPMA_NV_POLICY_DELETE.</summary>
    PolicyDelete = 0x00000400,
    /// <summary>TPMA_NV_WRITELOCKED.</summary>
    WriteLocked = 0x00000800,
    /// <summary>TPMA_NV_WRITEALL.</summary>
    WriteAll = 0x00001000,
    /// <summary>TPMA_NV_WRITEDEFINE.</summary>
    WriteDefine = 0x00002000,
    /// <summary>TPMA_NV_WRITE_STCLEAR.</summary>
    WriteStClear = 0x00004000,
    /// <summary>TPMA_NV_GLOBALLOCK.</summary>
    GlobalLock = 0x00008000,
    /// <summary>TPMA_NV_PPREAD.</summary>
    PpRead = 0x00010000,
    /// <summary>TPMA_NV_OWNERREAD.</summary>
    OwnerRead = 0x00020000,
    /// <summary>TPMA_NV_AUTHREAD.</summary>
    AuthRead = 0x00040000,
    /// <summary>TPMA_NV_POLICYREAD.</summary>
    PolicyRead = 0x00080000,
    /// <summary>TPMA_NV_NO_DA.</summary>
    NoDA = 0x02000000,
    /// <summary>TPMA_NV_ORDERLY.</summary>
    Orderly = 0x04000000,
    /// <summary>TPMA_NV_CLEAR_STCLEAR.</summary>
    ClearStClear = 0x08000000,
    /// <summary>TPMA_NV_READLOCKED.</summary>
    ReadLocked = 0x10000000,
    /// <summary>TPMA_NV_WRITTEN.</summary>
    Written = 0x20000000,
    /// <summary>TPMA_NV_PLATFORMCREATE.</summary>
    PlatformCreate = 0x40000000,
    /// <summary>TPMA_NV_READ_STCLEAR.</summary>
    ReadStClear = 0x80000000,
}
