namespace TrustStack.Tpm.Hardware;

/// <summary>Which handle types a command accepts in one handle slot (the TPMI_ handle types of Part 2).</summary>
[Flags]
internal enum HandleKinds
{
    None = 0,
    Transient = 1 << 0,
    Persistent = 1 << 1,
    Pcr = 1 << 2,
    NvIndex = 1 << 3,
    Owner = 1 << 4,
    Endorsement = 1 << 5,
    Platform = 1 << 6,
    Lockout = 1 << 7,
    Null = 1 << 8,
    HmacSession = 1 << 9,
    PolicySession = 1 << 10,

    /// <summary>TPMI_DH_OBJECT.</summary>
    Object = Transient | Persistent,

    /// <summary>TPMI_DH_ENTITY-like: anything with an authValue.</summary>
    Entity = Object | Pcr | NvIndex | Owner | Endorsement | Platform | Lockout,

    /// <summary>TPMI_RH_HIERARCHY (+NULL).</summary>
    Hierarchy = Owner | Endorsement | Platform | Null,

    /// <summary>TPMI_RH_PROVISION.</summary>
    Provision = Owner | Platform,

    /// <summary>TPMI_RH_NV_AUTH: the index itself or owner/platform.</summary>
    NvAuth = NvIndex | Owner | Platform,

    /// <summary>TPMI_SH_AUTH_SESSION / TPMI_DH_CONTEXT sessions.</summary>
    Session = HmacSession | PolicySession,
}

/// <summary>The authorization role a handle is used in (TPM 2.0 Part 1 §19.2).</summary>
internal enum AuthRole
{
    /// <summary>The handle needs no authorization.</summary>
    None,

    /// <summary>USER role: authValue/HMAC if userWithAuth, else a policy.</summary>
    User,

    /// <summary>ADMIN role: a policy (with PolicyCommandCode) if adminWithPolicy.</summary>
    Admin,

    /// <summary>DUP role: always a policy.</summary>
    Dup,
}

/// <summary>One handle slot of a command.</summary>
internal readonly record struct HandleSpec(HandleKinds Allowed, AuthRole Role = AuthRole.None, bool AllowNull = false);

[Flags]
internal enum CommandFlags
{
    None = 0,

    /// <summary>Changes persistent state: the state folder is written after success.</summary>
    WritesNv = 1,

    /// <summary>Allowed before TPM2_Startup (only Startup itself).</summary>
    BeforeStartup = 2,

    /// <summary>The first command parameter is a TPM2B and may be encrypted by a session.</summary>
    DecryptFirst = 4,

    /// <summary>The first response parameter is a TPM2B and may be encrypted by a session.</summary>
    EncryptFirst = 8,

    /// <summary>No authorization session may be used (context commands).</summary>
    NoSessions = 16,
}

/// <summary>Runs one command after the dispatcher has checked handles and authorization.</summary>
internal delegate void CommandHandler(CommandContext context);

/// <summary>How the dispatcher handles one command code.</summary>
internal sealed record CommandDescriptor(TpmCc Code, HandleSpec[] Handles, int ResponseHandles, CommandHandler Handler, CommandFlags Flags = CommandFlags.None)
{
    /// <summary>How many handles need an authorization (computed once: the dispatcher asks for every command).</summary>
    public int AuthHandleCount { get; } = Handles.Count(h => h.Role != AuthRole.None);
}

/// <summary>The commands an engine implements, registered by command groups.</summary>
internal sealed class CommandTable
{
    private readonly Dictionary<TpmCc, CommandDescriptor> _commands = [];

    public void Add(TpmCc code, HandleSpec[] handles, int responseHandles, CommandHandler handler, CommandFlags flags = CommandFlags.None)
    {
        if (!_commands.TryAdd(code, new CommandDescriptor(code, handles, responseHandles, handler, flags)))
        {
            throw new InvalidOperationException($"Command {code} registered twice.");
        }
    }

    public bool TryGet(TpmCc code, out CommandDescriptor descriptor) => _commands.TryGetValue(code, out descriptor!);

    public bool Contains(TpmCc code) => _commands.ContainsKey(code);

    public IEnumerable<TpmCc> Codes => _commands.Keys.Order();

    public int Count => _commands.Count;
}

/// <summary>A group of related commands in its own file (PCR, objects, sessions, NV, ...).</summary>
internal interface ICommandGroup
{
    void Register(CommandTable table);
}
