namespace TrustStack.Tpm.Hardware;

/// <summary>The result of TPM2_CreatePrimary.</summary>
/// <param name="Handle">The transient handle of the new primary object.</param>
/// <param name="Public">Its public area.</param>
/// <param name="Name">Its Name.</param>
/// <param name="CreationData">What the TPM recorded about its creation.</param>
/// <param name="CreationHash">H_nameAlg(TPMS_CREATION_DATA).</param>
/// <param name="CreationTicket">Proof that this TPM created the object with that creation data.</param>
public sealed record CreatePrimaryResult(uint Handle, TpmtPublic Public, byte[] Name, TpmsCreationData CreationData, byte[] CreationHash, TpmtTicket CreationTicket);

/// <summary>The result of TPM2_Create: the new object's protected private area and public area.</summary>
/// <param name="Private">TPM2B_PRIVATE contents: the sensitive area wrapped under the parent (pass to <see cref="Tpm2.Load"/>).</param>
/// <param name="Public">The public area.</param>
/// <param name="CreationData">What the TPM recorded about its creation.</param>
/// <param name="CreationHash">H_nameAlg(TPMS_CREATION_DATA).</param>
/// <param name="CreationTicket">Proof that this TPM created the object with that creation data.</param>
public sealed record CreateResult(byte[] Private, TpmtPublic Public, TpmsCreationData CreationData, byte[] CreationHash, TpmtTicket CreationTicket)
{
    /// <summary>The object's Name.</summary>
    public byte[] Name => Public.GetName();
}

/// <summary>The result of TPM2_Load or TPM2_LoadExternal.</summary>
/// <param name="Handle">The transient handle.</param>
/// <param name="Name">The object's Name.</param>
public sealed record LoadResult(uint Handle, byte[] Name);

/// <summary>The result of TPM2_ReadPublic.</summary>
/// <param name="Public">The public area.</param>
/// <param name="Name">The Name.</param>
/// <param name="QualifiedName">The qualified name (Name of the hierarchy path).</param>
public sealed record ReadPublicResult(TpmtPublic Public, byte[] Name, byte[] QualifiedName);

/// <summary>Object commands: CreatePrimary, Create, Load, LoadExternal, ReadPublic, Unseal.</summary>
public sealed partial class Tpm2
{
    /// <summary>TPM2_CreatePrimary: creates (or re-creates: the same template gives the same key) a primary object in a hierarchy.</summary>
    /// <param name="hierarchy">TPM_RH_OWNER, TPM_RH_ENDORSEMENT, TPM_RH_PLATFORM or TPM_RH_NULL.</param>
    /// <param name="template">The public template, for example from <see cref="TpmTemplates"/>.</param>
    /// <param name="sensitive">The object's authValue and data; empty by default.</param>
    /// <param name="hierarchyAuth">Authorization of the hierarchy; the empty password by default.</param>
    /// <param name="creationPcrs">PCRs to record in the creation data; none by default.</param>
    /// <param name="outsideInfo">Data to record in the creation data.</param>
    /// <exception cref="TpmException">For example TPM_RC_OBJECT_MEMORY, or TPM_RC_ATTRIBUTES + parameter 2 for an inconsistent template.</exception>
    public CreatePrimaryResult CreatePrimary(uint hierarchy, TpmtPublic template, TpmsSensitiveCreate? sensitive = null, TpmAuthorization? hierarchyAuth = null, PcrSelectionList? creationPcrs = null, byte[]? outsideInfo = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        var response = Execute(
            TpmCc.CreatePrimary,
            [hierarchy],
            [hierarchyAuth ?? TpmAuthorization.EmptyPassword],
            w => WriteCreationParameters(w, template, sensitive, creationPcrs, outsideInfo),
            responseHandleCount: 1);
        var r = response.Reader();
        var outPublic = TpmtPublic.UnmarshalSized(ref r);
        var (creationData, creationHash, ticket) = ReadCreationOutputs(ref r);
        var name = r.ReadTpm2b();
        r.EnsureConsumed();
        var handle = response.Handles[0];
        SetName(handle, name);
        return new CreatePrimaryResult(handle, outPublic, name, creationData, creationHash, ticket);
    }

    /// <summary>TPM2_Create: creates an ordinary object under a storage parent; load it with <see cref="Load"/>.</summary>
    /// <param name="parent">The storage parent's handle.</param>
    /// <param name="template">The public template.</param>
    /// <param name="sensitive">The object's authValue and data (the data to seal for a sealed data object).</param>
    /// <param name="parentAuth">Authorization of the parent; the empty password by default.</param>
    /// <param name="creationPcrs">PCRs to record in the creation data.</param>
    /// <param name="outsideInfo">Data to record in the creation data.</param>
    /// <exception cref="TpmException">For example TPM_RC_TYPE + handle 1 when the parent is not a storage key.</exception>
    public CreateResult Create(uint parent, TpmtPublic template, TpmsSensitiveCreate? sensitive = null, TpmAuthorization? parentAuth = null, PcrSelectionList? creationPcrs = null, byte[]? outsideInfo = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        var response = Execute(
            TpmCc.Create,
            [parent],
            [parentAuth ?? TpmAuthorization.EmptyPassword],
            w => WriteCreationParameters(w, template, sensitive, creationPcrs, outsideInfo));
        var r = response.Reader();
        var outPrivate = r.ReadTpm2b();
        var outPublic = TpmtPublic.UnmarshalSized(ref r);
        var (creationData, creationHash, ticket) = ReadCreationOutputs(ref r);
        r.EnsureConsumed();
        return new CreateResult(outPrivate, outPublic, creationData, creationHash, ticket);
    }

    /// <summary>TPM2_Load: loads an object created under <paramref name="parent"/>.</summary>
    /// <param name="parent">The parent's handle.</param>
    /// <param name="inPrivate">The private area from <see cref="Create"/>.</param>
    /// <param name="inPublic">The public area from <see cref="Create"/>.</param>
    /// <param name="parentAuth">Authorization of the parent; the empty password by default.</param>
    /// <exception cref="TpmException">For example TPM_RC_INTEGRITY + parameter 1 when the private area was altered or belongs to another parent.</exception>
    public LoadResult Load(uint parent, byte[] inPrivate, TpmtPublic inPublic, TpmAuthorization? parentAuth = null)
    {
        ArgumentNullException.ThrowIfNull(inPrivate);
        ArgumentNullException.ThrowIfNull(inPublic);
        var response = Execute(
            TpmCc.Load,
            [parent],
            [parentAuth ?? TpmAuthorization.EmptyPassword],
            w =>
            {
                w.WriteTpm2b(inPrivate);
                inPublic.MarshalSized(w);
            },
            responseHandleCount: 1);
        return FinishLoad(response);
    }

    /// <summary>TPM2_LoadExternal: loads a public key (for verification) or, in TPM_RH_NULL only, a key with its sensitive area.</summary>
    /// <param name="inPublic">The public area.</param>
    /// <param name="sensitive">The sensitive area, or null to load the public part only.</param>
    /// <param name="hierarchy">The hierarchy the object is associated with (tickets); TPM_RH_NULL by default.</param>
    /// <exception cref="TpmException">For example TPM_RC_BINDING when the sensitive area does not belong to the public area.</exception>
    public LoadResult LoadExternal(TpmtPublic inPublic, TpmtSensitive? sensitive = null, uint hierarchy = TpmRh.Null)
    {
        ArgumentNullException.ThrowIfNull(inPublic);
        var response = Execute(
            TpmCc.LoadExternal,
            [],
            [],
            w =>
            {
                var mark = w.BeginSize16();
                sensitive?.Marshal(w);
                w.EndSize16(mark);
                inPublic.MarshalSized(w);
                w.WriteU32(hierarchy);
            },
            responseHandleCount: 1);
        return FinishLoad(response);
    }

    /// <summary>TPM2_ReadPublic: an object's public area, Name and qualified name (records the Name for later HMAC sessions).</summary>
    /// <param name="handle">A loaded or persistent object.</param>
    public ReadPublicResult ReadPublic(uint handle)
    {
        var r = Execute(TpmCc.ReadPublic, [handle], [], null).Reader();
        var outPublic = TpmtPublic.UnmarshalSized(ref r);
        var name = r.ReadTpm2b();
        var qualifiedName = r.ReadTpm2b();
        r.EnsureConsumed();
        SetName(handle, name);
        return new ReadPublicResult(outPublic, name, qualifiedName);
    }

    /// <summary>TPM2_Unseal: the data of a sealed data object.</summary>
    /// <param name="handle">The sealed object.</param>
    /// <param name="auth">Its authorization: its password, or a policy session that satisfies its policy; the empty password by default.</param>
    /// <exception cref="TpmException">For example TPM_RC_POLICY_FAIL when the session's policy does not match.</exception>
    public byte[] Unseal(uint handle, TpmAuthorization? auth = null)
    {
        var r = Execute(TpmCc.Unseal, [handle], [auth ?? TpmAuthorization.EmptyPassword], null).Reader();
        var data = r.ReadTpm2b();
        r.EnsureConsumed();
        return data;
    }

    private static void WriteCreationParameters(TpmWriter w, TpmtPublic template, TpmsSensitiveCreate? sensitive, PcrSelectionList? creationPcrs, byte[]? outsideInfo)
    {
        (sensitive ?? TpmsSensitiveCreate.Empty).MarshalSized(w);
        template.MarshalSized(w);
        w.WriteTpm2b(outsideInfo ?? []);
        (creationPcrs ?? PcrSelectionList.Empty).Marshal(w);
    }

    private static (TpmsCreationData Data, byte[] Hash, TpmtTicket Ticket) ReadCreationOutputs(ref TpmReader r)
    {
        var inner = r.ReadSized16();
        var data = TpmsCreationData.Unmarshal(ref inner);
        inner.EnsureConsumed();
        var hash = r.ReadTpm2b();
        var ticket = TpmtTicket.Unmarshal(ref r);
        return (data, hash, ticket);
    }

    private LoadResult FinishLoad(TpmResponse response)
    {
        var r = response.Reader();
        var name = r.ReadTpm2b();
        r.EnsureConsumed();
        var handle = response.Handles[0];
        SetName(handle, name);
        return new LoadResult(handle, name);
    }
}
