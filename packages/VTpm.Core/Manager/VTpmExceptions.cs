using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>A vTPM's state at rest (or the sealed state key) cannot be used: tampered, truncated, of another VM, or unreadable. The manager never starts such a vTPM fresh.</summary>
public sealed class VTpmStateException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The offending file.</param>
    /// <param name="reason">Why it cannot be used.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public VTpmStateException(string path, string reason, Exception? inner = null)
        : base($"vTPM state file '{path}' cannot be used: {reason}", inner)
    {
        Path = path;
    }

    /// <summary>The offending file.</summary>
    public string Path { get; }
}

/// <summary>
/// The hardware TPM refuses to unseal the vTPM state key because the PCRs of the measured
/// virtualization layer differ from their values when the key was sealed: the layer changed,
/// and no vTPM can be opened.
/// </summary>
public sealed class VirtualizationLayerChangedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="sealedKeyPath">The sealed key file.</param>
    /// <param name="changedPcrs">The PCRs whose values differ.</param>
    /// <param name="inner">The TPM error (TPM_RC_POLICY_FAIL).</param>
    public VirtualizationLayerChangedException(string sealedKeyPath, IReadOnlyList<(TpmAlgId Bank, int Pcr)> changedPcrs, Exception? inner = null)
        : base(Describe(changedPcrs), inner)
    {
        ArgumentNullException.ThrowIfNull(changedPcrs);
        SealedKeyPath = sealedKeyPath;
        ChangedPcrs = changedPcrs;
    }

    /// <summary>The sealed state key file that did not open.</summary>
    public string SealedKeyPath { get; }

    /// <summary>The virtualization-layer PCRs whose values differ from those sealed to.</summary>
    public IReadOnlyList<(TpmAlgId Bank, int Pcr)> ChangedPcrs { get; }

    private static string Describe(IReadOnlyList<(TpmAlgId Bank, int Pcr)> changed)
    {
        var list = changed.Count == 0
            ? "(the PCR values match the sealed record, but the hardware TPM's policy check failed)"
            : string.Join(", ", changed.GroupBy(c => c.Bank).Select(g => $"{g.Key.ToString().ToLowerInvariant()}:{string.Join(',', g.Select(c => c.Pcr))}"));
        return $"The virtualization layer changed since the vTPM state was sealed: PCRs {list} differ. No vTPM can be opened.";
    }
}

/// <summary>A launch observer (for example the trusted junction point) rejected a vTPM launch; the vTPM does not start.</summary>
public sealed class VTpmLaunchRejectedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="vmId">The VM whose vTPM did not start.</param>
    /// <param name="observer">The observer's type name.</param>
    /// <param name="inner">What the observer threw.</param>
    public VTpmLaunchRejectedException(Guid vmId, string observer, Exception inner)
        : base($"The launch of the vTPM of VM {vmId} was rejected by {observer}: {inner?.Message}", inner)
    {
        VmId = vmId;
        Observer = observer;
    }

    /// <summary>The VM.</summary>
    public Guid VmId { get; }

    /// <summary>The rejecting observer's type name.</summary>
    public string Observer { get; }
}
