namespace TrustStack.Vmm.ShadowPaging;

/// <summary>What happened to the MMU-vTPM module's integrity.</summary>
public enum IntegrityEventKind
{
    /// <summary>Static measurement at load: the image was measured into the hardware PCR and logged.</summary>
    StaticMeasurement,

    /// <summary>The backup was sealed by the hardware TPM.</summary>
    BackupSealed,

    /// <summary>A dynamic measurement found the code pages unchanged.</summary>
    Verified,

    /// <summary>A dynamic measurement found modified code pages.</summary>
    Alert,

    /// <summary>The code pages were restored from the sealed backup and verified.</summary>
    Restored,

    /// <summary>The sealed backup could not be unsealed or did not verify; the module stays modified.</summary>
    RestoreFailed,
}

/// <summary>One entry of the module's integrity record.</summary>
/// <param name="Sequence">1, 2, 3, ...</param>
/// <param name="Time">When (injected <see cref="TimeProvider"/>).</param>
/// <param name="Kind">What happened.</param>
/// <param name="Detail">Human-readable detail (pages, PCR, reason).</param>
/// <param name="Digest">The SHA-256 of the code image measured at that moment.</param>
public sealed record IntegrityEvent(long Sequence, DateTimeOffset Time, IntegrityEventKind Kind, string Detail, ReadOnlyMemory<byte> Digest)
{
    /// <inheritdoc />
    public override string ToString() => $"#{Sequence} {Kind}: {Detail} (sha256 {Convert.ToHexStringLower(Digest.Span)})";
}

/// <summary>The outcome of <see cref="ModuleIntegrityMonitor.Check"/>.</summary>
/// <param name="Intact">The code pages matched the reference when measured.</param>
/// <param name="Restored">They did not, and were restored from the sealed backup (and now match).</param>
/// <param name="ModifiedPages">Indices of the code pages that differed.</param>
/// <param name="MeasuredDigest">SHA-256 of the code image as measured (before any restore).</param>
public sealed record IntegrityCheckResult(bool Intact, bool Restored, IReadOnlyList<int> ModifiedPages, ReadOnlyMemory<byte> MeasuredDigest)
{
    /// <summary>Whether the module is now as loaded (intact, or repaired).</summary>
    public bool IsGood => Intact || Restored;
}
