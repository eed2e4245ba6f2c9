namespace TrustStack.Tpm.Hardware;

/// <summary>How one authorization was given, for handlers that care (NV, policy checks).</summary>
internal sealed record SessionUse(uint Handle, AuthSession? Session, TpmaSession Attributes, byte[] NonceCaller, byte[] Hmac, int AuthorizedHandleIndex)
{
    /// <summary>The authValue that keys the response HMAC (empty when not included).</summary>
    public byte[] ResponseAuth { get; set; } = [];

    /// <summary>The HMAC key includes the entity's authValue (not bound to it, or PolicyAuthValue): a changed authValue keys the response.</summary>
    public bool IncludesAuth { get; set; }

    public bool IsPassword => Handle == TpmRh.Password;

    public bool IsPolicy => Session?.IsPolicy == true;
}

/// <summary>One executing command: its handles, entities, parameters and response.</summary>
internal sealed class CommandContext
{
    public CommandContext(SoftwareTpm tpm, CommandDescriptor descriptor, uint[] handles, IAuthEntity?[] entities, byte[] parameters, IReadOnlyList<SessionUse> sessions, byte locality)
    {
        Tpm = tpm;
        Descriptor = descriptor;
        Handles = handles;
        Entities = entities;
        Parameters = parameters;
        Sessions = sessions;
        Locality = locality;
    }

    public SoftwareTpm Tpm { get; }

    public EngineState State => Tpm.State;

    public CommandDescriptor Descriptor { get; }

    public TpmCc Code => Descriptor.Code;

    public uint[] Handles { get; }

    /// <summary>Entity resolved for each handle (null for sessions and TPM_RH_NULL).</summary>
    public IAuthEntity?[] Entities { get; }

    public byte[] Parameters { get; }

    public IReadOnlyList<SessionUse> Sessions { get; }

    public byte Locality { get; }

    /// <summary>Response parameters.</summary>
    public TpmWriter Output { get; } = new();

    /// <summary>Response handles (at most one in TPM 2.0).</summary>
    public List<uint> ResponseHandles { get; } = [];

    /// <summary>Set by commands that change the authorizing entity's authValue: the response HMAC uses the new one.</summary>
    public byte[]? NewAuthValue { get; set; }

    /// <summary>A reader over the parameters, numbering errors from parameter 1.</summary>
    public TpmReader ReadParameters() => new(Parameters) { Parameter = 1, IsCommandParameterArea = true };

    /// <summary>The object at handle slot <paramref name="index"/> (0-based).</summary>
    public TpmObject Object(int index) => Entities[index] as TpmObject
        ?? throw new TpmException(TpmResponseCode.Handle(TpmRc.Handle, index + 1), $"handle {index + 1} (0x{Handles[index]:x8}) is not a loaded object");

    /// <summary>The NV index at handle slot <paramref name="index"/>.</summary>
    public NvIndex Nv(int index) => Entities[index] as NvIndex
        ?? throw new TpmException(TpmResponseCode.Handle(TpmRc.Handle, index + 1), $"handle {index + 1} (0x{Handles[index]:x8}) is not an NV index");

    /// <summary>Throws TPM_RC_x + parameter n.</summary>
    public static TpmException ParameterError(TpmRc code, int parameter, string detail) =>
        new(TpmResponseCode.Parameter(code, parameter), $"{TpmResponseCode.Describe(TpmResponseCode.Parameter(code, parameter))}: {detail}");

    /// <summary>
    /// A base-code error from the crypto layer numbered for parameter <paramref name="parameter"/>
    /// (ms-tpm-20-ref RcSafeAddToResult); an error that already carries a number, or is not
    /// format-one, is returned as it is.
    /// </summary>
    public static TpmException Numbered(TpmException e, int parameter) =>
        TpmResponseCode.IsFormatOne(e.ResponseCode) && ((uint)e.ResponseCode & 0xF00) == 0
            ? new TpmException(TpmResponseCode.Parameter(e.ResponseCode, parameter), $"{TpmResponseCode.Describe(TpmResponseCode.Parameter(e.ResponseCode, parameter))}: {e.Message}", e)
            : e;

    /// <summary>Throws TPM_RC_x + handle n (1-based).</summary>
    public static TpmException HandleError(TpmRc code, int handle, string detail) =>
        new(TpmResponseCode.Handle(code, handle), $"{TpmResponseCode.Describe(TpmResponseCode.Handle(code, handle))}: {detail}");
}
