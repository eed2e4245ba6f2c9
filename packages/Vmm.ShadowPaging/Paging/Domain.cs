namespace TrustStack.Vmm.ShadowPaging;

/// <summary>What a domain is in the virtual platform.</summary>
public enum DomainKind
{
    /// <summary>The privileged management domain (Xen dom0, the host of the device models).</summary>
    Management,

    /// <summary>An ordinary guest virtual machine.</summary>
    Guest,

    /// <summary>A domain that runs one software vTPM instance.</summary>
    VTpm,
}

/// <summary>A domain (virtual machine) of the modelled VMM: its pseudo-physical memory through its <see cref="P2M"/> map.</summary>
public sealed class Domain
{
    internal Domain(int id, string name, DomainKind kind, int maxGuestFrames)
    {
        Id = id;
        Name = name;
        Kind = kind;
        P2M = new P2MMap(maxGuestFrames);
    }

    /// <summary>The domain id (0 is the management domain when it was created first).</summary>
    public int Id { get; }

    /// <summary>A name for logs and the audit trail.</summary>
    public string Name { get; }

    /// <summary>What the domain is.</summary>
    public DomainKind Kind { get; }

    /// <summary>The domain's physical-to-machine map.</summary>
    public P2MMap P2M { get; }

    /// <summary>The next guest frame number the domain's own allocator hands out.</summary>
    internal ulong NextGuestFrame { get; set; }

    /// <summary>Guest frames given back (ballooned out), reused first.</summary>
    internal Stack<ulong> FreedGuestFrames { get; } = new();

    /// <inheritdoc />
    public override string ToString() => $"{Name} (d{Id}, {Kind})";
}
