// Generated from /usr/include/tss2/tss2_tpm2_types.h (libtss2-dev) by eng/gen-constants.py; regenerate, do not edit.
#pragma warning disable CA1028, CA1008, CA1069, CA1720, CA1711, CA1027, CS1591
namespace TrustStack.Tpm.Hardware;

/// <summary>TPM_CC: command codes (TPM 2.0 Part 2 §6.5).</summary>
public enum TpmCc : uint
{
    /// <summary>TPM2_CC_NV_UndefineSpaceSpecial</summary>
    NvUndefineSpaceSpecial = unchecked((uint)(0x0000011f)),
    /// <summary>TPM2_CC_EvictControl</summary>
    EvictControl = unchecked((uint)(0x00000120)),
    /// <summary>TPM2_CC_HierarchyControl</summary>
    HierarchyControl = unchecked((uint)(0x00000121)),
    /// <summary>TPM2_CC_NV_UndefineSpace</summary>
    NvUndefineSpace = unchecked((uint)(0x00000122)),
    /// <summary>TPM2_CC_ChangeEPS</summary>
    ChangeEPS = unchecked((uint)(0x00000124)),
    /// <summary>TPM2_CC_ChangePPS</summary>
    ChangePPS = unchecked((uint)(0x00000125)),
    /// <summary>TPM2_CC_Clear</summary>
    Clear = unchecked((uint)(0x00000126)),
    /// <summary>TPM2_CC_ClearControl</summary>
    ClearControl = unchecked((uint)(0x00000127)),
    /// <summary>TPM2_CC_ClockSet</summary>
    ClockSet = unchecked((uint)(0x00000128)),
    /// <summary>TPM2_CC_HierarchyChangeAuth</summary>
    HierarchyChangeAuth = unchecked((uint)(0x00000129)),
    /// <summary>TPM2_CC_NV_DefineSpace</summary>
    NvDefineSpace = unchecked((uint)(0x0000012a)),
    /// <summary>TPM2_CC_PCR_Allocate</summary>
    PcrAllocate = unchecked((uint)(0x0000012b)),
    /// <summary>TPM2_CC_PCR_SetAuthPolicy</summary>
    PcrSetAuthPolicy = unchecked((uint)(0x0000012c)),
    /// <summary>TPM2_CC_PP_Commands</summary>
    PpCommands = unchecked((uint)(0x0000012d)),
    /// <summary>TPM2_CC_SetPrimaryPolicy</summary>
    SetPrimaryPolicy = unchecked((uint)(0x0000012e)),
    /// <summary>TPM2_CC_FieldUpgradeStart</summary>
    FieldUpgradeStart = unchecked((uint)(0x0000012f)),
    /// <summary>TPM2_CC_ClockRateAdjust</summary>
    ClockRateAdjust = unchecked((uint)(0x00000130)),
    /// <summary>TPM2_CC_CreatePrimary</summary>
    CreatePrimary = unchecked((uint)(0x00000131)),
    /// <summary>TPM2_CC_NV_GlobalWriteLock</summary>
    NvGlobalWriteLock = unchecked((uint)(0x00000132)),
    /// <summary>TPM2_CC_GetCommandAuditDigest</summary>
    GetCommandAuditDigest = unchecked((uint)(0x00000133)),
    /// <summary>TPM2_CC_NV_Increment</summary>
    NvIncrement = unchecked((uint)(0x00000134)),
    /// <summary>TPM2_CC_NV_SetBits</summary>
    NvSetBits = unchecked((uint)(0x00000135)),
    /// <summary>TPM2_CC_NV_Extend</summary>
    NvExtend = unchecked((uint)(0x00000136)),
    /// <summary>TPM2_CC_NV_Write</summary>
    NvWrite = unchecked((uint)(0x00000137)),
    /// <summary>TPM2_CC_NV_WriteLock</summary>
    NvWriteLock = unchecked((uint)(0x00000138)),
    /// <summary>TPM2_CC_DictionaryAttackLockReset</summary>
    DictionaryAttackLockReset = unchecked((uint)(0x00000139)),
    /// <summary>TPM2_CC_DictionaryAttackParameters</summary>
    DictionaryAttackParameters = unchecked((uint)(0x0000013a)),
    /// <summary>TPM2_CC_NV_ChangeAuth</summary>
    NvChangeAuth = unchecked((uint)(0x0000013b)),
    /// <summary>TPM2_CC_PCR_Event</summary>
    PcrEvent = unchecked((uint)(0x0000013c)),
    /// <summary>TPM2_CC_PCR_Reset</summary>
    PcrReset = unchecked((uint)(0x0000013d)),
    /// <summary>TPM2_CC_SequenceComplete</summary>
    SequenceComplete = unchecked((uint)(0x0000013e)),
    /// <summary>TPM2_CC_SetAlgorithmSet</summary>
    SetAlgorithmSet = unchecked((uint)(0x0000013f)),
    /// <summary>TPM2_CC_SetCommandCodeAuditStatus</summary>
    SetCommandCodeAuditStatus = unchecked((uint)(0x00000140)),
    /// <summary>TPM2_CC_FieldUpgradeData</summary>
    FieldUpgradeData = unchecked((uint)(0x00000141)),
    /// <summary>TPM2_CC_IncrementalSelfTest</summary>
    IncrementalSelfTest = unchecked((uint)(0x00000142)),
    /// <summary>TPM2_CC_SelfTest</summary>
    SelfTest = unchecked((uint)(0x00000143)),
    /// <summary>TPM2_CC_Startup</summary>
    Startup = unchecked((uint)(0x00000144)),
    /// <summary>TPM2_CC_Shutdown</summary>
    Shutdown = unchecked((uint)(0x00000145)),
    /// <summary>TPM2_CC_StirRandom</summary>
    StirRandom = unchecked((uint)(0x00000146)),
    /// <summary>TPM2_CC_ActivateCredential</summary>
    ActivateCredential = unchecked((uint)(0x00000147)),
    /// <summary>TPM2_CC_Certify</summary>
    Certify = unchecked((uint)(0x00000148)),
    /// <summary>TPM2_CC_PolicyNV</summary>
    PolicyNV = unchecked((uint)(0x00000149)),
    /// <summary>TPM2_CC_CertifyCreation</summary>
    CertifyCreation = unchecked((uint)(0x0000014a)),
    /// <summary>TPM2_CC_Duplicate</summary>
    Duplicate = unchecked((uint)(0x0000014b)),
    /// <summary>TPM2_CC_GetTime</summary>
    GetTime = unchecked((uint)(0x0000014c)),
    /// <summary>TPM2_CC_GetSessionAuditDigest</summary>
    GetSessionAuditDigest = unchecked((uint)(0x0000014d)),
    /// <summary>TPM2_CC_NV_Read</summary>
    NvRead = unchecked((uint)(0x0000014e)),
    /// <summary>TPM2_CC_NV_ReadLock</summary>
    NvReadLock = unchecked((uint)(0x0000014f)),
    /// <summary>TPM2_CC_ObjectChangeAuth</summary>
    ObjectChangeAuth = unchecked((uint)(0x00000150)),
    /// <summary>TPM2_CC_PolicySecret</summary>
    PolicySecret = unchecked((uint)(0x00000151)),
    /// <summary>TPM2_CC_Rewrap</summary>
    Rewrap = unchecked((uint)(0x00000152)),
    /// <summary>TPM2_CC_Create</summary>
    Create = unchecked((uint)(0x00000153)),
    /// <summary>TPM2_CC_ECDH_ZGen</summary>
    EcdhZGen = unchecked((uint)(0x00000154)),
    /// <summary>TPM2_CC_HMAC</summary>
    Hmac = unchecked((uint)(0x00000155)),
    /// <summary>TPM2_CC_Import</summary>
    Import = unchecked((uint)(0x00000156)),
    /// <summary>TPM2_CC_Load</summary>
    Load = unchecked((uint)(0x00000157)),
    /// <summary>TPM2_CC_Quote</summary>
    Quote = unchecked((uint)(0x00000158)),
    /// <summary>TPM2_CC_RSA_Decrypt</summary>
    RsaDecrypt = unchecked((uint)(0x00000159)),
    /// <summary>TPM2_CC_HMAC_Start</summary>
    HmacStart = unchecked((uint)(0x0000015b)),
    /// <summary>TPM2_CC_SequenceUpdate</summary>
    SequenceUpdate = unchecked((uint)(0x0000015c)),
    /// <summary>TPM2_CC_Sign</summary>
    Sign = unchecked((uint)(0x0000015d)),
    /// <summary>TPM2_CC_Unseal</summary>
    Unseal = unchecked((uint)(0x0000015e)),
    /// <summary>TPM2_CC_PolicySigned</summary>
    PolicySigned = unchecked((uint)(0x00000160)),
    /// <summary>TPM2_CC_ContextLoad</summary>
    ContextLoad = unchecked((uint)(0x00000161)),
    /// <summary>TPM2_CC_ContextSave</summary>
    ContextSave = unchecked((uint)(0x00000162)),
    /// <summary>TPM2_CC_ECDH_KeyGen</summary>
    EcdhKeyGen = unchecked((uint)(0x00000163)),
    /// <summary>TPM2_CC_EncryptDecrypt</summary>
    EncryptDecrypt = unchecked((uint)(0x00000164)),
    /// <summary>TPM2_CC_FlushContext</summary>
    FlushContext = unchecked((uint)(0x00000165)),
    /// <summary>TPM2_CC_LoadExternal</summary>
    LoadExternal = unchecked((uint)(0x00000167)),
    /// <summary>TPM2_CC_MakeCredential</summary>
    MakeCredential = unchecked((uint)(0x00000168)),
    /// <summary>TPM2_CC_NV_ReadPublic</summary>
    NvReadPublic = unchecked((uint)(0x00000169)),
    /// <summary>TPM2_CC_PolicyAuthorize</summary>
    PolicyAuthorize = unchecked((uint)(0x0000016a)),
    /// <summary>TPM2_CC_PolicyAuthValue</summary>
    PolicyAuthValue = unchecked((uint)(0x0000016b)),
    /// <summary>TPM2_CC_PolicyCommandCode</summary>
    PolicyCommandCode = unchecked((uint)(0x0000016c)),
    /// <summary>TPM2_CC_PolicyCounterTimer</summary>
    PolicyCounterTimer = unchecked((uint)(0x0000016d)),
    /// <summary>TPM2_CC_PolicyCpHash</summary>
    PolicyCpHash = unchecked((uint)(0x0000016e)),
    /// <summary>TPM2_CC_PolicyLocality</summary>
    PolicyLocality = unchecked((uint)(0x0000016f)),
    /// <summary>TPM2_CC_PolicyNameHash</summary>
    PolicyNameHash = unchecked((uint)(0x00000170)),
    /// <summary>TPM2_CC_PolicyOR</summary>
    PolicyOR = unchecked((uint)(0x00000171)),
    /// <summary>TPM2_CC_PolicyTicket</summary>
    PolicyTicket = unchecked((uint)(0x00000172)),
    /// <summary>TPM2_CC_ReadPublic</summary>
    ReadPublic = unchecked((uint)(0x00000173)),
    /// <summary>TPM2_CC_RSA_Encrypt</summary>
    RsaEncrypt = unchecked((uint)(0x00000174)),
    /// <summary>TPM2_CC_StartAuthSession</summary>
    StartAuthSession = unchecked((uint)(0x00000176)),
    /// <summary>TPM2_CC_VerifySignature</summary>
    VerifySignature = unchecked((uint)(0x00000177)),
    /// <summary>TPM2_CC_ECC_Parameters</summary>
    EccParameters = unchecked((uint)(0x00000178)),
    /// <summary>TPM2_CC_FirmwareRead</summary>
    FirmwareRead = unchecked((uint)(0x00000179)),
    /// <summary>TPM2_CC_GetCapability</summary>
    GetCapability = unchecked((uint)(0x0000017a)),
    /// <summary>TPM2_CC_GetRandom</summary>
    GetRandom = unchecked((uint)(0x0000017b)),
    /// <summary>TPM2_CC_GetTestResult</summary>
    GetTestResult = unchecked((uint)(0x0000017c)),
    /// <summary>TPM2_CC_Hash</summary>
    Hash = unchecked((uint)(0x0000017d)),
    /// <summary>TPM2_CC_PCR_Read</summary>
    PcrRead = unchecked((uint)(0x0000017e)),
    /// <summary>TPM2_CC_PolicyPCR</summary>
    PolicyPCR = unchecked((uint)(0x0000017f)),
    /// <summary>TPM2_CC_PolicyRestart</summary>
    PolicyRestart = unchecked((uint)(0x00000180)),
    /// <summary>TPM2_CC_ReadClock</summary>
    ReadClock = unchecked((uint)(0x00000181)),
    /// <summary>TPM2_CC_PCR_Extend</summary>
    PcrExtend = unchecked((uint)(0x00000182)),
    /// <summary>TPM2_CC_PCR_SetAuthValue</summary>
    PcrSetAuthValue = unchecked((uint)(0x00000183)),
    /// <summary>TPM2_CC_NV_Certify</summary>
    NvCertify = unchecked((uint)(0x00000184)),
    /// <summary>TPM2_CC_EventSequenceComplete</summary>
    EventSequenceComplete = unchecked((uint)(0x00000185)),
    /// <summary>TPM2_CC_HashSequenceStart</summary>
    HashSequenceStart = unchecked((uint)(0x00000186)),
    /// <summary>TPM2_CC_PolicyPhysicalPresence</summary>
    PolicyPhysicalPresence = unchecked((uint)(0x00000187)),
    /// <summary>TPM2_CC_PolicyDuplicationSelect</summary>
    PolicyDuplicationSelect = unchecked((uint)(0x00000188)),
    /// <summary>TPM2_CC_PolicyGetDigest</summary>
    PolicyGetDigest = unchecked((uint)(0x00000189)),
    /// <summary>TPM2_CC_TestParms</summary>
    TestParms = unchecked((uint)(0x0000018a)),
    /// <summary>TPM2_CC_Commit</summary>
    Commit = unchecked((uint)(0x0000018b)),
    /// <summary>TPM2_CC_PolicyPassword</summary>
    PolicyPassword = unchecked((uint)(0x0000018c)),
    /// <summary>TPM2_CC_ZGen_2Phase</summary>
    ZGen2Phase = unchecked((uint)(0x0000018d)),
    /// <summary>TPM2_CC_EC_Ephemeral</summary>
    EcEphemeral = unchecked((uint)(0x0000018e)),
    /// <summary>TPM2_CC_PolicyNvWritten</summary>
    PolicyNvWritten = unchecked((uint)(0x0000018f)),
    /// <summary>TPM2_CC_PolicyTemplate</summary>
    PolicyTemplate = unchecked((uint)(0x00000190)),
    /// <summary>TPM2_CC_CreateLoaded</summary>
    CreateLoaded = unchecked((uint)(0x00000191)),
    /// <summary>TPM2_CC_PolicyAuthorizeNV</summary>
    PolicyAuthorizeNV = unchecked((uint)(0x00000192)),
    /// <summary>TPM2_CC_EncryptDecrypt2</summary>
    EncryptDecrypt2 = unchecked((uint)(0x00000193)),
    /// <summary>TPM2_CC_AC_GetCapability</summary>
    AcGetCapability = unchecked((uint)(0x00000194)),
    /// <summary>TPM2_CC_AC_Send</summary>
    AcSend = unchecked((uint)(0x00000195)),
    /// <summary>TPM2_CC_Policy_AC_SendSelect</summary>
    PolicyAcSendSelect = unchecked((uint)(0x00000196)),
    /// <summary>TPM2_CC_CertifyX509</summary>
    CertifyX509 = unchecked((uint)(0x00000197)),
    /// <summary>TPM2_CC_ACT_SetTimeout</summary>
    ActSetTimeout = unchecked((uint)(0x00000198)),
}

/// <summary>TPM_ALG_ID: algorithm identifiers (TPM 2.0 Part 2 §6.3).</summary>
public enum TpmAlgId : ushort
{
    /// <summary>TPM2_ALG_ERROR</summary>
    Error = unchecked((ushort)(0x0000)),
    /// <summary>TPM2_ALG_RSA</summary>
    Rsa = unchecked((ushort)(0x0001)),
    /// <summary>TPM2_ALG_TDES</summary>
    Tdes = unchecked((ushort)(0x0003)),
    /// <summary>TPM2_ALG_SHA1</summary>
    Sha1 = unchecked((ushort)(0x0004)),
    /// <summary>TPM2_ALG_HMAC</summary>
    Hmac = unchecked((ushort)(0x0005)),
    /// <summary>TPM2_ALG_AES</summary>
    Aes = unchecked((ushort)(0x0006)),
    /// <summary>TPM2_ALG_MGF1</summary>
    Mgf1 = unchecked((ushort)(0x0007)),
    /// <summary>TPM2_ALG_KEYEDHASH</summary>
    Keyedhash = unchecked((ushort)(0x0008)),
    /// <summary>TPM2_ALG_XOR</summary>
    Xor = unchecked((ushort)(0x000A)),
    /// <summary>TPM2_ALG_SHA256</summary>
    Sha256 = unchecked((ushort)(0x000B)),
    /// <summary>TPM2_ALG_SHA384</summary>
    Sha384 = unchecked((ushort)(0x000C)),
    /// <summary>TPM2_ALG_SHA512</summary>
    Sha512 = unchecked((ushort)(0x000D)),
    /// <summary>TPM2_ALG_NULL</summary>
    Null = unchecked((ushort)(0x0010)),
    /// <summary>TPM2_ALG_SM3_256</summary>
    Sm3256 = unchecked((ushort)(0x0012)),
    /// <summary>TPM2_ALG_SM4</summary>
    Sm4 = unchecked((ushort)(0x0013)),
    /// <summary>TPM2_ALG_RSASSA</summary>
    Rsassa = unchecked((ushort)(0x0014)),
    /// <summary>TPM2_ALG_RSAES</summary>
    Rsaes = unchecked((ushort)(0x0015)),
    /// <summary>TPM2_ALG_RSAPSS</summary>
    Rsapss = unchecked((ushort)(0x0016)),
    /// <summary>TPM2_ALG_OAEP</summary>
    Oaep = unchecked((ushort)(0x0017)),
    /// <summary>TPM2_ALG_ECDSA</summary>
    Ecdsa = unchecked((ushort)(0x0018)),
    /// <summary>TPM2_ALG_ECDH</summary>
    Ecdh = unchecked((ushort)(0x0019)),
    /// <summary>TPM2_ALG_ECDAA</summary>
    Ecdaa = unchecked((ushort)(0x001A)),
    /// <summary>TPM2_ALG_SM2</summary>
    Sm2 = unchecked((ushort)(0x001B)),
    /// <summary>TPM2_ALG_ECSCHNORR</summary>
    Ecschnorr = unchecked((ushort)(0x001C)),
    /// <summary>TPM2_ALG_ECMQV</summary>
    Ecmqv = unchecked((ushort)(0x001D)),
    /// <summary>TPM2_ALG_KDF1_SP800_56A</summary>
    Kdf1Sp80056a = unchecked((ushort)(0x0020)),
    /// <summary>TPM2_ALG_KDF2</summary>
    Kdf2 = unchecked((ushort)(0x0021)),
    /// <summary>TPM2_ALG_KDF1_SP800_108</summary>
    Kdf1Sp800108 = unchecked((ushort)(0x0022)),
    /// <summary>TPM2_ALG_ECC</summary>
    Ecc = unchecked((ushort)(0x0023)),
    /// <summary>TPM2_ALG_SYMCIPHER</summary>
    Symcipher = unchecked((ushort)(0x0025)),
    /// <summary>TPM2_ALG_CAMELLIA</summary>
    Camellia = unchecked((ushort)(0x0026)),
    /// <summary>TPM2_ALG_CMAC</summary>
    Cmac = unchecked((ushort)(0x003F)),
    /// <summary>TPM2_ALG_CTR</summary>
    Ctr = unchecked((ushort)(0x0040)),
    /// <summary>TPM2_ALG_SHA3_256</summary>
    Sha3256 = unchecked((ushort)(0x0027)),
    /// <summary>TPM2_ALG_SHA3_384</summary>
    Sha3384 = unchecked((ushort)(0x0028)),
    /// <summary>TPM2_ALG_SHA3_512</summary>
    Sha3512 = unchecked((ushort)(0x0029)),
    /// <summary>TPM2_ALG_OFB</summary>
    Ofb = unchecked((ushort)(0x0041)),
    /// <summary>TPM2_ALG_CBC</summary>
    Cbc = unchecked((ushort)(0x0042)),
    /// <summary>TPM2_ALG_CFB</summary>
    Cfb = unchecked((ushort)(0x0043)),
    /// <summary>TPM2_ALG_ECB</summary>
    Ecb = unchecked((ushort)(0x0044)),
}

/// <summary>TPM_ST: structure tags (TPM 2.0 Part 2 §6.9).</summary>
public enum TpmSt : ushort
{
    /// <summary>TPM2_ST_RSP_COMMAND</summary>
    RspCommand = unchecked((ushort)(0x00C4)),
    /// <summary>TPM2_ST_NULL</summary>
    Null = unchecked((ushort)(0X8000)),
    /// <summary>TPM2_ST_NO_SESSIONS</summary>
    NoSessions = unchecked((ushort)(0x8001)),
    /// <summary>TPM2_ST_SESSIONS</summary>
    Sessions = unchecked((ushort)(0x8002)),
    /// <summary>TPM2_ST_RESERVED1</summary>
    Reserved1 = unchecked((ushort)(0x8003)),
    /// <summary>TPM2_ST_RESERVED2</summary>
    Reserved2 = unchecked((ushort)(0x8004)),
    /// <summary>TPM2_ST_ATTEST_NV</summary>
    AttestNv = unchecked((ushort)(0x8014)),
    /// <summary>TPM2_ST_ATTEST_COMMAND_AUDIT</summary>
    AttestCommandAudit = unchecked((ushort)(0x8015)),
    /// <summary>TPM2_ST_ATTEST_SESSION_AUDIT</summary>
    AttestSessionAudit = unchecked((ushort)(0x8016)),
    /// <summary>TPM2_ST_ATTEST_CERTIFY</summary>
    AttestCertify = unchecked((ushort)(0x8017)),
    /// <summary>TPM2_ST_ATTEST_QUOTE</summary>
    AttestQuote = unchecked((ushort)(0x8018)),
    /// <summary>TPM2_ST_ATTEST_TIME</summary>
    AttestTime = unchecked((ushort)(0x8019)),
    /// <summary>TPM2_ST_ATTEST_CREATION</summary>
    AttestCreation = unchecked((ushort)(0x801A)),
    /// <summary>TPM2_ST_RESERVED3</summary>
    Reserved3 = unchecked((ushort)(0x801B)),
    /// <summary>TPM2_ST_CREATION</summary>
    Creation = unchecked((ushort)(0x8021)),
    /// <summary>TPM2_ST_VERIFIED</summary>
    Verified = unchecked((ushort)(0x8022)),
    /// <summary>TPM2_ST_AUTH_SECRET</summary>
    AuthSecret = unchecked((ushort)(0x8023)),
    /// <summary>TPM2_ST_HASHCHECK</summary>
    Hashcheck = unchecked((ushort)(0x8024)),
    /// <summary>TPM2_ST_AUTH_SIGNED</summary>
    AuthSigned = unchecked((ushort)(0x8025)),
    /// <summary>TPM2_ST_FU_MANIFEST</summary>
    FuManifest = unchecked((ushort)(0x8029)),
}

/// <summary>TPM_CAP: capability selectors (TPM 2.0 Part 2 §6.12).</summary>
public enum TpmCap : uint
{
    /// <summary>TPM2_CAP_ALGS</summary>
    Algs = unchecked((uint)(0x00000000)),
    /// <summary>TPM2_CAP_HANDLES</summary>
    Handles = unchecked((uint)(0x00000001)),
    /// <summary>TPM2_CAP_COMMANDS</summary>
    Commands = unchecked((uint)(0x00000002)),
    /// <summary>TPM2_CAP_PP_COMMANDS</summary>
    PpCommands = unchecked((uint)(0x00000003)),
    /// <summary>TPM2_CAP_AUDIT_COMMANDS</summary>
    AuditCommands = unchecked((uint)(0x00000004)),
    /// <summary>TPM2_CAP_PCRS</summary>
    Pcrs = unchecked((uint)(0x00000005)),
    /// <summary>TPM2_CAP_TPM_PROPERTIES</summary>
    TpmProperties = unchecked((uint)(0x00000006)),
    /// <summary>TPM2_CAP_PCR_PROPERTIES</summary>
    PcrProperties = unchecked((uint)(0x00000007)),
    /// <summary>TPM2_CAP_ECC_CURVES</summary>
    EccCurves = unchecked((uint)(0x00000008)),
    /// <summary>TPM2_CAP_AUTH_POLICIES</summary>
    AuthPolicies = unchecked((uint)(0x00000009)),
    /// <summary>TPM2_CAP_ACT</summary>
    Act = unchecked((uint)(0x0000000A)),
    /// <summary>TPM2_CAP_VENDOR_PROPERTY</summary>
    VendorProperty = unchecked((uint)(0x00000100)),
}

/// <summary>TPM_SU: startup types (TPM 2.0 Part 2 §6.6).</summary>
public enum TpmSu : ushort
{
    /// <summary>TPM2_SU_CLEAR</summary>
    Clear = unchecked((ushort)(0x0000)),
    /// <summary>TPM2_SU_STATE</summary>
    State = unchecked((ushort)(0x0001)),
}

/// <summary>TPM_ECC_CURVE: curve identifiers (TPM 2.0 Part 2 §6.4).</summary>
public enum TpmEccCurve : ushort
{
    /// <summary>TPM2_ECC_NONE</summary>
    None = unchecked((ushort)(0x0000)),
    /// <summary>TPM2_ECC_NIST_P192</summary>
    NistP192 = unchecked((ushort)(0x0001)),
    /// <summary>TPM2_ECC_NIST_P224</summary>
    NistP224 = unchecked((ushort)(0x0002)),
    /// <summary>TPM2_ECC_NIST_P256</summary>
    NistP256 = unchecked((ushort)(0x0003)),
    /// <summary>TPM2_ECC_NIST_P384</summary>
    NistP384 = unchecked((ushort)(0x0004)),
    /// <summary>TPM2_ECC_NIST_P521</summary>
    NistP521 = unchecked((ushort)(0x0005)),
    /// <summary>TPM2_ECC_BN_P256</summary>
    BnP256 = unchecked((ushort)(0x0010)),
    /// <summary>TPM2_ECC_BN_P638</summary>
    BnP638 = unchecked((ushort)(0x0011)),
    /// <summary>TPM2_ECC_SM2_P256</summary>
    Sm2P256 = unchecked((ushort)(0x0020)),
}

/// <summary>TPM_SE: session types (TPM 2.0 Part 2 §6.11).</summary>
public enum TpmSe : byte
{
    /// <summary>TPM2_SE_HMAC</summary>
    Hmac = unchecked((byte)(0x00)),
    /// <summary>TPM2_SE_POLICY</summary>
    Policy = unchecked((byte)(0x01)),
    /// <summary>TPM2_SE_TRIAL</summary>
    Trial = unchecked((byte)(0x03)),
}

/// <summary>TPM_RC: response codes (TPM 2.0 Part 2 §6.6). Format-one codes add <c>H</c>/<c>P</c>/<c>S</c> plus a number.</summary>
public enum TpmRc : uint
{
    /// <summary>TPM2_RC_SUCCESS</summary>
    Success = unchecked((uint)(0x000)),
    /// <summary>TPM2_RC_BAD_TAG</summary>
    BadTag = unchecked((uint)(0x01E)),
    /// <summary>TPM2_RC_VER1</summary>
    Ver1 = unchecked((uint)(0x100)),
    /// <summary>TPM2_RC_INITIALIZE</summary>
    Initialize = unchecked((uint)(Ver1 + 0x000)),
    /// <summary>TPM2_RC_FAILURE</summary>
    Failure = unchecked((uint)(Ver1 + 0x001)),
    /// <summary>TPM2_RC_SEQUENCE</summary>
    Sequence = unchecked((uint)(Ver1 + 0x003)),
    /// <summary>TPM2_RC_PRIVATE</summary>
    Private = unchecked((uint)(Ver1 + 0x00B)),
    /// <summary>TPM2_RC_HMAC</summary>
    Hmac = unchecked((uint)(Ver1 + 0x019)),
    /// <summary>TPM2_RC_DISABLED</summary>
    Disabled = unchecked((uint)(Ver1 + 0x020)),
    /// <summary>TPM2_RC_EXCLUSIVE</summary>
    Exclusive = unchecked((uint)(Ver1 + 0x021)),
    /// <summary>TPM2_RC_AUTH_TYPE</summary>
    AuthType = unchecked((uint)(Ver1 + 0x024)),
    /// <summary>TPM2_RC_AUTH_MISSING</summary>
    AuthMissing = unchecked((uint)(Ver1 + 0x025)),
    /// <summary>TPM2_RC_POLICY</summary>
    Policy = unchecked((uint)(Ver1 + 0x026)),
    /// <summary>TPM2_RC_PCR</summary>
    Pcr = unchecked((uint)(Ver1 + 0x027)),
    /// <summary>TPM2_RC_PCR_CHANGED</summary>
    PcrChanged = unchecked((uint)(Ver1 + 0x028)),
    /// <summary>TPM2_RC_UPGRADE</summary>
    Upgrade = unchecked((uint)(Ver1 + 0x02D)),
    /// <summary>TPM2_RC_TOO_MANY_CONTEXTS</summary>
    TooManyContexts = unchecked((uint)(Ver1 + 0x02E)),
    /// <summary>TPM2_RC_AUTH_UNAVAILABLE</summary>
    AuthUnavailable = unchecked((uint)(Ver1 + 0x02F)),
    /// <summary>TPM2_RC_REBOOT</summary>
    Reboot = unchecked((uint)(Ver1 + 0x030)),
    /// <summary>TPM2_RC_UNBALANCED</summary>
    Unbalanced = unchecked((uint)(Ver1 + 0x031)),
    /// <summary>TPM2_RC_COMMAND_SIZE</summary>
    CommandSize = unchecked((uint)(Ver1 + 0x042)),
    /// <summary>TPM2_RC_COMMAND_CODE</summary>
    CommandCode = unchecked((uint)(Ver1 + 0x043)),
    /// <summary>TPM2_RC_AUTHSIZE</summary>
    Authsize = unchecked((uint)(Ver1 + 0x044)),
    /// <summary>TPM2_RC_AUTH_CONTEXT</summary>
    AuthContext = unchecked((uint)(Ver1 + 0x045)),
    /// <summary>TPM2_RC_NV_RANGE</summary>
    NvRange = unchecked((uint)(Ver1 + 0x046)),
    /// <summary>TPM2_RC_NV_SIZE</summary>
    NvSize = unchecked((uint)(Ver1 + 0x047)),
    /// <summary>TPM2_RC_NV_LOCKED</summary>
    NvLocked = unchecked((uint)(Ver1 + 0x048)),
    /// <summary>TPM2_RC_NV_AUTHORIZATION</summary>
    NvAuthorization = unchecked((uint)(Ver1 + 0x049)),
    /// <summary>TPM2_RC_NV_UNINITIALIZED</summary>
    NvUninitialized = unchecked((uint)(Ver1 + 0x04A)),
    /// <summary>TPM2_RC_NV_SPACE</summary>
    NvSpace = unchecked((uint)(Ver1 + 0x04B)),
    /// <summary>TPM2_RC_NV_DEFINED</summary>
    NvDefined = unchecked((uint)(Ver1 + 0x04C)),
    /// <summary>TPM2_RC_BAD_CONTEXT</summary>
    BadContext = unchecked((uint)(Ver1 + 0x050)),
    /// <summary>TPM2_RC_CPHASH</summary>
    Cphash = unchecked((uint)(Ver1 + 0x051)),
    /// <summary>TPM2_RC_PARENT</summary>
    Parent = unchecked((uint)(Ver1 + 0x052)),
    /// <summary>TPM2_RC_NEEDS_TEST</summary>
    NeedsTest = unchecked((uint)(Ver1 + 0x053)),
    /// <summary>TPM2_RC_NO_RESULT</summary>
    NoResult = unchecked((uint)(Ver1 + 0x054)),
    /// <summary>TPM2_RC_SENSITIVE</summary>
    Sensitive = unchecked((uint)(Ver1 + 0x055)),
    /// <summary>TPM2_RC_MAX_FM0</summary>
    MaxFm0 = unchecked((uint)(Ver1 + 0x07F)),
    /// <summary>TPM2_RC_FMT1</summary>
    Fmt1 = unchecked((uint)(0x080)),
    /// <summary>TPM2_RC_ASYMMETRIC</summary>
    Asymmetric = unchecked((uint)(Fmt1 + 0x001)),
    /// <summary>TPM2_RC_ATTRIBUTES</summary>
    Attributes = unchecked((uint)(Fmt1 + 0x002)),
    /// <summary>TPM2_RC_HASH</summary>
    Hash = unchecked((uint)(Fmt1 + 0x003)),
    /// <summary>TPM2_RC_VALUE</summary>
    Value = unchecked((uint)(Fmt1 + 0x004)),
    /// <summary>TPM2_RC_HIERARCHY</summary>
    Hierarchy = unchecked((uint)(Fmt1 + 0x005)),
    /// <summary>TPM2_RC_KEY_SIZE</summary>
    KeySize = unchecked((uint)(Fmt1 + 0x007)),
    /// <summary>TPM2_RC_MGF</summary>
    Mgf = unchecked((uint)(Fmt1 + 0x008)),
    /// <summary>TPM2_RC_MODE</summary>
    Mode = unchecked((uint)(Fmt1 + 0x009)),
    /// <summary>TPM2_RC_TYPE</summary>
    Type = unchecked((uint)(Fmt1 + 0x00A)),
    /// <summary>TPM2_RC_HANDLE</summary>
    Handle = unchecked((uint)(Fmt1 + 0x00B)),
    /// <summary>TPM2_RC_KDF</summary>
    Kdf = unchecked((uint)(Fmt1 + 0x00C)),
    /// <summary>TPM2_RC_RANGE</summary>
    Range = unchecked((uint)(Fmt1 + 0x00D)),
    /// <summary>TPM2_RC_AUTH_FAIL</summary>
    AuthFail = unchecked((uint)(Fmt1 + 0x00E)),
    /// <summary>TPM2_RC_NONCE</summary>
    Nonce = unchecked((uint)(Fmt1 + 0x00F)),
    /// <summary>TPM2_RC_PP</summary>
    Pp = unchecked((uint)(Fmt1 + 0x010)),
    /// <summary>TPM2_RC_SCHEME</summary>
    Scheme = unchecked((uint)(Fmt1 + 0x012)),
    /// <summary>TPM2_RC_SIZE</summary>
    Size = unchecked((uint)(Fmt1 + 0x015)),
    /// <summary>TPM2_RC_SYMMETRIC</summary>
    Symmetric = unchecked((uint)(Fmt1 + 0x016)),
    /// <summary>TPM2_RC_TAG</summary>
    Tag = unchecked((uint)(Fmt1 + 0x017)),
    /// <summary>TPM2_RC_SELECTOR</summary>
    Selector = unchecked((uint)(Fmt1 + 0x018)),
    /// <summary>TPM2_RC_INSUFFICIENT</summary>
    Insufficient = unchecked((uint)(Fmt1 + 0x01A)),
    /// <summary>TPM2_RC_SIGNATURE</summary>
    Signature = unchecked((uint)(Fmt1 + 0x01B)),
    /// <summary>TPM2_RC_KEY</summary>
    Key = unchecked((uint)(Fmt1 + 0x01C)),
    /// <summary>TPM2_RC_POLICY_FAIL</summary>
    PolicyFail = unchecked((uint)(Fmt1 + 0x01D)),
    /// <summary>TPM2_RC_INTEGRITY</summary>
    Integrity = unchecked((uint)(Fmt1 + 0x01F)),
    /// <summary>TPM2_RC_TICKET</summary>
    Ticket = unchecked((uint)(Fmt1 + 0x020)),
    /// <summary>TPM2_RC_RESERVED_BITS</summary>
    ReservedBits = unchecked((uint)(Fmt1 + 0x021)),
    /// <summary>TPM2_RC_BAD_AUTH</summary>
    BadAuth = unchecked((uint)(Fmt1 + 0x022)),
    /// <summary>TPM2_RC_EXPIRED</summary>
    Expired = unchecked((uint)(Fmt1 + 0x023)),
    /// <summary>TPM2_RC_POLICY_CC</summary>
    PolicyCc = unchecked((uint)(Fmt1 + 0x024)),
    /// <summary>TPM2_RC_BINDING</summary>
    Binding = unchecked((uint)(Fmt1 + 0x025)),
    /// <summary>TPM2_RC_CURVE</summary>
    Curve = unchecked((uint)(Fmt1 + 0x026)),
    /// <summary>TPM2_RC_ECC_POINT</summary>
    EccPoint = unchecked((uint)(Fmt1 + 0x027)),
    /// <summary>TPM2_RC_WARN</summary>
    Warn = unchecked((uint)(0x900)),
    /// <summary>TPM2_RC_CONTEXT_GAP</summary>
    ContextGap = unchecked((uint)(Warn + 0x001)),
    /// <summary>TPM2_RC_OBJECT_MEMORY</summary>
    ObjectMemory = unchecked((uint)(Warn + 0x002)),
    /// <summary>TPM2_RC_SESSION_MEMORY</summary>
    SessionMemory = unchecked((uint)(Warn + 0x003)),
    /// <summary>TPM2_RC_MEMORY</summary>
    Memory = unchecked((uint)(Warn + 0x004)),
    /// <summary>TPM2_RC_SESSION_HANDLES</summary>
    SessionHandles = unchecked((uint)(Warn + 0x005)),
    /// <summary>TPM2_RC_OBJECT_HANDLES</summary>
    ObjectHandles = unchecked((uint)(Warn + 0x006)),
    /// <summary>TPM2_RC_LOCALITY</summary>
    Locality = unchecked((uint)(Warn + 0x007)),
    /// <summary>TPM2_RC_YIELDED</summary>
    Yielded = unchecked((uint)(Warn + 0x008)),
    /// <summary>TPM2_RC_CANCELED</summary>
    Canceled = unchecked((uint)(Warn + 0x009)),
    /// <summary>TPM2_RC_TESTING</summary>
    Testing = unchecked((uint)(Warn + 0x00A)),
    /// <summary>TPM2_RC_REFERENCE_H0</summary>
    ReferenceH0 = unchecked((uint)(Warn + 0x010)),
    /// <summary>TPM2_RC_REFERENCE_H1</summary>
    ReferenceH1 = unchecked((uint)(Warn + 0x011)),
    /// <summary>TPM2_RC_REFERENCE_H2</summary>
    ReferenceH2 = unchecked((uint)(Warn + 0x012)),
    /// <summary>TPM2_RC_REFERENCE_H3</summary>
    ReferenceH3 = unchecked((uint)(Warn + 0x013)),
    /// <summary>TPM2_RC_REFERENCE_H4</summary>
    ReferenceH4 = unchecked((uint)(Warn + 0x014)),
    /// <summary>TPM2_RC_REFERENCE_H5</summary>
    ReferenceH5 = unchecked((uint)(Warn + 0x015)),
    /// <summary>TPM2_RC_REFERENCE_H6</summary>
    ReferenceH6 = unchecked((uint)(Warn + 0x016)),
    /// <summary>TPM2_RC_REFERENCE_S0</summary>
    ReferenceS0 = unchecked((uint)(Warn + 0x018)),
    /// <summary>TPM2_RC_REFERENCE_S1</summary>
    ReferenceS1 = unchecked((uint)(Warn + 0x019)),
    /// <summary>TPM2_RC_REFERENCE_S2</summary>
    ReferenceS2 = unchecked((uint)(Warn + 0x01A)),
    /// <summary>TPM2_RC_REFERENCE_S3</summary>
    ReferenceS3 = unchecked((uint)(Warn + 0x01B)),
    /// <summary>TPM2_RC_REFERENCE_S4</summary>
    ReferenceS4 = unchecked((uint)(Warn + 0x01C)),
    /// <summary>TPM2_RC_REFERENCE_S5</summary>
    ReferenceS5 = unchecked((uint)(Warn + 0x01D)),
    /// <summary>TPM2_RC_REFERENCE_S6</summary>
    ReferenceS6 = unchecked((uint)(Warn + 0x01E)),
    /// <summary>TPM2_RC_NV_RATE</summary>
    NvRate = unchecked((uint)(Warn + 0x020)),
    /// <summary>TPM2_RC_LOCKOUT</summary>
    Lockout = unchecked((uint)(Warn + 0x021)),
    /// <summary>TPM2_RC_RETRY</summary>
    Retry = unchecked((uint)(Warn + 0x022)),
    /// <summary>TPM2_RC_NV_UNAVAILABLE</summary>
    NvUnavailable = unchecked((uint)(Warn + 0x023)),
    /// <summary>TPM2_RC_NOT_USED</summary>
    NotUsed = unchecked((uint)(Warn + 0x07F)),
    /// <summary>TPM2_RC_H</summary>
    H = unchecked((uint)(0x000)),
    /// <summary>TPM2_RC_P</summary>
    P = unchecked((uint)(0x040)),
    /// <summary>TPM2_RC_S</summary>
    S = unchecked((uint)(0x800)),
    /// <summary>TPM2_RC_1</summary>
    V1 = unchecked((uint)(0x100)),
    /// <summary>TPM2_RC_2</summary>
    V2 = unchecked((uint)(0x200)),
    /// <summary>TPM2_RC_3</summary>
    V3 = unchecked((uint)(0x300)),
    /// <summary>TPM2_RC_4</summary>
    V4 = unchecked((uint)(0x400)),
    /// <summary>TPM2_RC_5</summary>
    V5 = unchecked((uint)(0x500)),
    /// <summary>TPM2_RC_6</summary>
    V6 = unchecked((uint)(0x600)),
    /// <summary>TPM2_RC_7</summary>
    V7 = unchecked((uint)(0x700)),
    /// <summary>TPM2_RC_8</summary>
    V8 = unchecked((uint)(0x800)),
    /// <summary>TPM2_RC_9</summary>
    V9 = unchecked((uint)(0x900)),
    /// <summary>TPM2_RC_A</summary>
    A = unchecked((uint)(0xA00)),
    /// <summary>TPM2_RC_B</summary>
    B = unchecked((uint)(0xB00)),
    /// <summary>TPM2_RC_C</summary>
    C = unchecked((uint)(0xC00)),
    /// <summary>TPM2_RC_D</summary>
    D = unchecked((uint)(0xD00)),
    /// <summary>TPM2_RC_E</summary>
    E = unchecked((uint)(0xE00)),
    /// <summary>TPM2_RC_F</summary>
    F = unchecked((uint)(0xF00)),
    /// <summary>TPM2_RC_N_MASK</summary>
    NMask = unchecked((uint)(0xF00)),
}

/// <summary>TPM_PT: property tags for TPM_CAP_TPM_PROPERTIES (TPM 2.0 Part 2 §6.13).</summary>
public enum TpmPt : uint
{
    /// <summary>TPM2_PT_NONE</summary>
    None = unchecked((uint)(0x00000000)),
    /// <summary>TPM2_PT_GROUP</summary>
    Group = unchecked((uint)(0x00000100)),
    /// <summary>TPM2_PT_FIXED</summary>
    Fixed = unchecked((uint)(Group * 1)),
    /// <summary>TPM2_PT_FAMILY_INDICATOR</summary>
    FamilyIndicator = unchecked((uint)(Fixed + 0)),
    /// <summary>TPM2_PT_LEVEL</summary>
    Level = unchecked((uint)(Fixed + 1)),
    /// <summary>TPM2_PT_REVISION</summary>
    Revision = unchecked((uint)(Fixed + 2)),
    /// <summary>TPM2_PT_DAY_OF_YEAR</summary>
    DayOfYear = unchecked((uint)(Fixed + 3)),
    /// <summary>TPM2_PT_YEAR</summary>
    Year = unchecked((uint)(Fixed + 4)),
    /// <summary>TPM2_PT_MANUFACTURER</summary>
    Manufacturer = unchecked((uint)(Fixed + 5)),
    /// <summary>TPM2_PT_VENDOR_STRING_1</summary>
    VendorString1 = unchecked((uint)(Fixed + 6)),
    /// <summary>TPM2_PT_VENDOR_STRING_2</summary>
    VendorString2 = unchecked((uint)(Fixed + 7)),
    /// <summary>TPM2_PT_VENDOR_STRING_3</summary>
    VendorString3 = unchecked((uint)(Fixed + 8)),
    /// <summary>TPM2_PT_VENDOR_STRING_4</summary>
    VendorString4 = unchecked((uint)(Fixed + 9)),
    /// <summary>TPM2_PT_VENDOR_TPM_TYPE</summary>
    VendorTpmType = unchecked((uint)(Fixed + 10)),
    /// <summary>TPM2_PT_FIRMWARE_VERSION_1</summary>
    FirmwareVersion1 = unchecked((uint)(Fixed + 11)),
    /// <summary>TPM2_PT_FIRMWARE_VERSION_2</summary>
    FirmwareVersion2 = unchecked((uint)(Fixed + 12)),
    /// <summary>TPM2_PT_INPUT_BUFFER</summary>
    InputBuffer = unchecked((uint)(Fixed + 13)),
    /// <summary>TPM2_PT_HR_TRANSIENT_MIN</summary>
    HrTransientMin = unchecked((uint)(Fixed + 14)),
    /// <summary>TPM2_PT_HR_PERSISTENT_MIN</summary>
    HrPersistentMin = unchecked((uint)(Fixed + 15)),
    /// <summary>TPM2_PT_HR_LOADED_MIN</summary>
    HrLoadedMin = unchecked((uint)(Fixed + 16)),
    /// <summary>TPM2_PT_ACTIVE_SESSIONS_MAX</summary>
    ActiveSessionsMax = unchecked((uint)(Fixed + 17)),
    /// <summary>TPM2_PT_PCR_COUNT</summary>
    PcrCount = unchecked((uint)(Fixed + 18)),
    /// <summary>TPM2_PT_PCR_SELECT_MIN</summary>
    PcrSelectMin = unchecked((uint)(Fixed + 19)),
    /// <summary>TPM2_PT_CONTEXT_GAP_MAX</summary>
    ContextGapMax = unchecked((uint)(Fixed + 20)),
    /// <summary>TPM2_PT_NV_COUNTERS_MAX</summary>
    NvCountersMax = unchecked((uint)(Fixed + 22)),
    /// <summary>TPM2_PT_NV_INDEX_MAX</summary>
    NvIndexMax = unchecked((uint)(Fixed + 23)),
    /// <summary>TPM2_PT_MEMORY</summary>
    Memory = unchecked((uint)(Fixed + 24)),
    /// <summary>TPM2_PT_CLOCK_UPDATE</summary>
    ClockUpdate = unchecked((uint)(Fixed + 25)),
    /// <summary>TPM2_PT_CONTEXT_HASH</summary>
    ContextHash = unchecked((uint)(Fixed + 26)),
    /// <summary>TPM2_PT_CONTEXT_SYM</summary>
    ContextSym = unchecked((uint)(Fixed + 27)),
    /// <summary>TPM2_PT_CONTEXT_SYM_SIZE</summary>
    ContextSymSize = unchecked((uint)(Fixed + 28)),
    /// <summary>TPM2_PT_ORDERLY_COUNT</summary>
    OrderlyCount = unchecked((uint)(Fixed + 29)),
    /// <summary>TPM2_PT_MAX_COMMAND_SIZE</summary>
    MaxCommandSize = unchecked((uint)(Fixed + 30)),
    /// <summary>TPM2_PT_MAX_RESPONSE_SIZE</summary>
    MaxResponseSize = unchecked((uint)(Fixed + 31)),
    /// <summary>TPM2_PT_MAX_DIGEST</summary>
    MaxDigest = unchecked((uint)(Fixed + 32)),
    /// <summary>TPM2_PT_MAX_OBJECT_CONTEXT</summary>
    MaxObjectContext = unchecked((uint)(Fixed + 33)),
    /// <summary>TPM2_PT_MAX_SESSION_CONTEXT</summary>
    MaxSessionContext = unchecked((uint)(Fixed + 34)),
    /// <summary>TPM2_PT_PS_FAMILY_INDICATOR</summary>
    PsFamilyIndicator = unchecked((uint)(Fixed + 35)),
    /// <summary>TPM2_PT_PS_LEVEL</summary>
    PsLevel = unchecked((uint)(Fixed + 36)),
    /// <summary>TPM2_PT_PS_REVISION</summary>
    PsRevision = unchecked((uint)(Fixed + 37)),
    /// <summary>TPM2_PT_PS_DAY_OF_YEAR</summary>
    PsDayOfYear = unchecked((uint)(Fixed + 38)),
    /// <summary>TPM2_PT_PS_YEAR</summary>
    PsYear = unchecked((uint)(Fixed + 39)),
    /// <summary>TPM2_PT_SPLIT_MAX</summary>
    SplitMax = unchecked((uint)(Fixed + 40)),
    /// <summary>TPM2_PT_TOTAL_COMMANDS</summary>
    TotalCommands = unchecked((uint)(Fixed + 41)),
    /// <summary>TPM2_PT_LIBRARY_COMMANDS</summary>
    LibraryCommands = unchecked((uint)(Fixed + 42)),
    /// <summary>TPM2_PT_VENDOR_COMMANDS</summary>
    VendorCommands = unchecked((uint)(Fixed + 43)),
    /// <summary>TPM2_PT_NV_BUFFER_MAX</summary>
    NvBufferMax = unchecked((uint)(Fixed + 44)),
    /// <summary>TPM2_PT_MODES</summary>
    Modes = unchecked((uint)(Fixed + 45)),
    /// <summary>TPM2_PT_MAX_CAP_BUFFER</summary>
    MaxCapBuffer = unchecked((uint)(Fixed + 46)),
    /// <summary>TPM2_PT_VAR</summary>
    Var = unchecked((uint)(Group * 2)),
    /// <summary>TPM2_PT_PERMANENT</summary>
    Permanent = unchecked((uint)(Var + 0)),
    /// <summary>TPM2_PT_STARTUP_CLEAR</summary>
    StartupClear = unchecked((uint)(Var + 1)),
    /// <summary>TPM2_PT_HR_NV_INDEX</summary>
    HrNvIndex = unchecked((uint)(Var + 2)),
    /// <summary>TPM2_PT_HR_LOADED</summary>
    HrLoaded = unchecked((uint)(Var + 3)),
    /// <summary>TPM2_PT_HR_LOADED_AVAIL</summary>
    HrLoadedAvail = unchecked((uint)(Var + 4)),
    /// <summary>TPM2_PT_HR_ACTIVE</summary>
    HrActive = unchecked((uint)(Var + 5)),
    /// <summary>TPM2_PT_HR_ACTIVE_AVAIL</summary>
    HrActiveAvail = unchecked((uint)(Var + 6)),
    /// <summary>TPM2_PT_HR_TRANSIENT_AVAIL</summary>
    HrTransientAvail = unchecked((uint)(Var + 7)),
    /// <summary>TPM2_PT_HR_PERSISTENT</summary>
    HrPersistent = unchecked((uint)(Var + 8)),
    /// <summary>TPM2_PT_HR_PERSISTENT_AVAIL</summary>
    HrPersistentAvail = unchecked((uint)(Var + 9)),
    /// <summary>TPM2_PT_NV_COUNTERS</summary>
    NvCounters = unchecked((uint)(Var + 10)),
    /// <summary>TPM2_PT_NV_COUNTERS_AVAIL</summary>
    NvCountersAvail = unchecked((uint)(Var + 11)),
    /// <summary>TPM2_PT_ALGORITHM_SET</summary>
    AlgorithmSet = unchecked((uint)(Var + 12)),
    /// <summary>TPM2_PT_LOADED_CURVES</summary>
    LoadedCurves = unchecked((uint)(Var + 13)),
    /// <summary>TPM2_PT_LOCKOUT_COUNTER</summary>
    LockoutCounter = unchecked((uint)(Var + 14)),
    /// <summary>TPM2_PT_MAX_AUTH_FAIL</summary>
    MaxAuthFail = unchecked((uint)(Var + 15)),
    /// <summary>TPM2_PT_LOCKOUT_INTERVAL</summary>
    LockoutInterval = unchecked((uint)(Var + 16)),
    /// <summary>TPM2_PT_LOCKOUT_RECOVERY</summary>
    LockoutRecovery = unchecked((uint)(Var + 17)),
    /// <summary>TPM2_PT_NV_WRITE_RECOVERY</summary>
    NvWriteRecovery = unchecked((uint)(Var + 18)),
    /// <summary>TPM2_PT_AUDIT_COUNTER_0</summary>
    AuditCounter0 = unchecked((uint)(Var + 19)),
    /// <summary>TPM2_PT_AUDIT_COUNTER_1</summary>
    AuditCounter1 = unchecked((uint)(Var + 20)),
}

