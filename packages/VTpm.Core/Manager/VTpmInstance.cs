namespace TrustStack.VTpm.Core;

/// <summary>The lifecycle state of a vTPM instance.</summary>
public enum VTpmInstanceState
{
    /// <summary>Created or stopped: no engine in memory; its state (if any) is at rest, encrypted.</summary>
    Stopped,

    /// <summary>Started: the engine is in memory and serves its guest.</summary>
    Running,

    /// <summary>Suspended: the engine is frozen in memory (volatile state kept), serves nothing, and its state at rest is current.</summary>
    Suspended,

    /// <summary>Locked for an outgoing migration: serves nothing and cannot be started until the migration commits (then it is destroyed) or rolls back.</summary>
    Migrating,

    /// <summary>Received by an incoming migration and kept inactive (encrypted at rest) until the source commits; serves nothing.</summary>
    Incoming,
}

/// <summary>An immutable snapshot of one vTPM instance, for listing and inspection.</summary>
/// <param name="VmId">The VM the vTPM is bound to.</param>
/// <param name="State">Its lifecycle state.</param>
/// <param name="EkName">The vEK's Name once the instance has started in this manager, else null.</param>
/// <param name="EkPublicDigest">SHA-256 of the vEK's TPMT_PUBLIC once started, else null.</param>
/// <param name="Port">The swtpm command port while served (the control port is one above), else null.</param>
/// <param name="StatePath">The encrypted state file, or null for an in-memory manager.</param>
public sealed record VTpmInstance(Guid VmId, VTpmInstanceState State, byte[]? EkName, byte[]? EkPublicDigest, int? Port, string? StatePath);
