namespace TrustStack.Vmm.ShadowPaging;

/// <summary>Why MMU-vTPM refused an access.</summary>
public enum DenialReason
{
    /// <summary>A shadow page fault would have installed a mapping of another context's vTPM private frame.</summary>
    ProtectedFrameOnShadowFill,

    /// <summary>A shadow page-table entry (left from before the protection) maps another context's vTPM private frame.</summary>
    ProtectedFrameOnShadowHit,

    /// <summary>A TLB entry (stale, from before the protection) maps another context's vTPM private frame.</summary>
    ProtectedFrameOnTlbHit,

    /// <summary>The guest's page-table walk would read a vTPM private frame as a page table.</summary>
    ProtectedPageTable,
}

/// <summary>One denied access in the MMU-vTPM audit log. Holds no frame contents.</summary>
/// <param name="Sequence">1, 2, 3, ... in the order of denial.</param>
/// <param name="Time">When (from the hypervisor's <see cref="TimeProvider"/>).</param>
/// <param name="ContextId">The context that tried.</param>
/// <param name="ContextName">Its name.</param>
/// <param name="DomainName">Its domain.</param>
/// <param name="DomainKind">What its domain is.</param>
/// <param name="VirtualAddress">The guest-virtual address used.</param>
/// <param name="MachineFrame">The protected machine frame.</param>
/// <param name="Access">Read, write or execute.</param>
/// <param name="Privilege">Supervisor or user.</param>
/// <param name="Reason">Why.</param>
/// <param name="OwnerContextName">The context that owns the frame.</param>
public sealed record AccessDenial(
    long Sequence,
    DateTimeOffset Time,
    int ContextId,
    string ContextName,
    string DomainName,
    DomainKind DomainKind,
    ulong VirtualAddress,
    ulong MachineFrame,
    AccessKind Access,
    PrivilegeLevel Privilege,
    DenialReason Reason,
    string OwnerContextName)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"#{Sequence} {ContextName} ({DomainKind} {DomainName}) {Privilege} {Access} va 0x{VirtualAddress:x} -> mfn 0x{MachineFrame:x} owned by {OwnerContextName}: {Reason}";
}
