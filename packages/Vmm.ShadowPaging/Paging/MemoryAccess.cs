namespace TrustStack.Vmm.ShadowPaging;

/// <summary>The kind of a memory access.</summary>
public enum AccessKind : byte
{
    /// <summary>A data read.</summary>
    Read,

    /// <summary>A data write.</summary>
    Write,

    /// <summary>An instruction fetch.</summary>
    Execute,
}

/// <summary>The privilege level an access is made at (CPL 0 or 3).</summary>
public enum PrivilegeLevel : byte
{
    /// <summary>Kernel mode (CPL 0).</summary>
    Supervisor,

    /// <summary>User mode (CPL 3).</summary>
    User,
}

/// <summary>The outcome of a translation or access.</summary>
public enum TranslationStatus : byte
{
    /// <summary>Translated; the access may proceed.</summary>
    Ok,

    /// <summary>The guest's own page tables do not permit it (the VMM injects #PF into the guest).</summary>
    GuestPageFault,

    /// <summary>The guest frame is not backed by a machine frame in the physical-to-machine map.</summary>
    NotBacked,

    /// <summary>MMU-vTPM denied it: the machine frame is vTPM private memory of another context (audited).</summary>
    Denied,

    /// <summary>The address is not canonical (#GP).</summary>
    NonCanonical,
}

/// <summary>Which part of the MMU answered a translation.</summary>
public enum TranslationPath : byte
{
    /// <summary>The context's TLB.</summary>
    TlbHit,

    /// <summary>A walk of the shadow page tables (TLB miss, shadow entry present).</summary>
    ShadowHit,

    /// <summary>A shadow page fault: guest walk, P2M, then a new shadow entry.</summary>
    ShadowFill,
}

/// <summary>The result of <see cref="Hypervisor.Translate"/>.</summary>
/// <param name="Status">Whether it succeeded.</param>
/// <param name="MachineAddress">The machine address when <see cref="TranslationStatus.Ok"/>.</param>
/// <param name="Path">Which part of the MMU answered.</param>
public readonly record struct Translation(TranslationStatus Status, ulong MachineAddress, TranslationPath Path)
{
    /// <summary>Whether the access may proceed.</summary>
    public bool IsOk => Status == TranslationStatus.Ok;

    /// <summary>The machine frame number when translated.</summary>
    public ulong MachineFrame => MachineAddress >> MachineMemory.FrameShift;
}
