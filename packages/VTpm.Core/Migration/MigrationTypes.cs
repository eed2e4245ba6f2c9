using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// What a migration source requires of a destination before it sends a vTPM: an attestation key
/// it trusts (by TPM Name), a virtualization layer whose PCRs have the expected values, and a
/// migration key that the same AK certified (TPM2_Certify) as a non-duplicable decryption key.
/// </summary>
/// <param name="TrustedAttestationKeyNames">The Names (nameAlg ‖ H(TPMT_PUBLIC)) of the destination AKs the source trusts.</param>
/// <param name="ExpectedLayerPcrs">The expected values of the destination's virtualization-layer PCRs (every PCR of <paramref name="LayerSelection"/>).</param>
/// <param name="LayerSelection">The virtualization-layer PCRs the destination must quote.</param>
public sealed record MigrationTrustPolicy(IReadOnlyList<byte[]> TrustedAttestationKeyNames, PcrValues ExpectedLayerPcrs, PcrSelectionList LayerSelection)
{
    /// <summary>The destination's trusted junction PCR, quoted with the layer (its value grows with every launch, so it is reported, not compared).</summary>
    public uint JunctionPcr { get; init; } = TrustedJunctionPoint.DefaultPcr;

    /// <summary>
    /// A policy for identical hosts: the destination's layer must measure exactly as this host's
    /// (the values are read from <paramref name="hardwareTpm"/>), and its AK must be one of <paramref name="trustedAttestationKeyNames"/>.
    /// </summary>
    /// <param name="hardwareTpm">This host's hardware TPM.</param>
    /// <param name="layerSelection">The virtualization-layer PCRs (as <see cref="VTpmCoreOptions.VirtualizationLayerPcrs"/>).</param>
    /// <param name="trustedAttestationKeyNames">The trusted destination AK Names.</param>
    /// <returns>The policy.</returns>
    /// <exception cref="TpmException">The TPM refused the PCR read.</exception>
    public static MigrationTrustPolicy SameLayerAs(Tpm2 hardwareTpm, PcrSelectionList layerSelection, IEnumerable<byte[]> trustedAttestationKeyNames)
    {
        ArgumentNullException.ThrowIfNull(hardwareTpm);
        ArgumentNullException.ThrowIfNull(layerSelection);
        ArgumentNullException.ThrowIfNull(trustedAttestationKeyNames);
        var values = hardwareTpm.PcrReadAll(layerSelection);
        return new MigrationTrustPolicy([.. trustedAttestationKeyNames], PcrValues.Create(values.Select(kv => (kv.Key.Bank, kv.Key.Pcr, kv.Value))), layerSelection);
    }

    /// <summary>The selection the destination quotes: the layer PCRs plus the junction PCR in the SHA-256 bank.</summary>
    /// <returns>The selection.</returns>
    public PcrSelectionList QuoteSelection()
    {
        var pcrs = LayerSelection.Enumerate().Append((Bank: TpmAlgId.Sha256, Pcr: (int)JunctionPcr)).Distinct();
        return new PcrSelectionList([.. pcrs.GroupBy(p => p.Bank).Select(g => PcrSelection.Create(g.Key, g.Select(p => p.Pcr)))]);
    }
}

/// <summary>How a migration ended, from the source's point of view.</summary>
public enum VTpmMigrationOutcome
{
    /// <summary>The destination activated the vTPM and the source destroyed its copy.</summary>
    Completed,

    /// <summary>The source destroyed its copy after the destination's signed prepare-receipt, but the destination has not confirmed the commit yet; <see cref="VTpmMigrationSource.RecoverAsync"/> resends it. The vTPM is not lost: the destination holds it and activates it on the commit.</summary>
    CommitPending,

    /// <summary>The destination is not trusted (attestation, AK or migration-key checks failed); nothing was sent and the source still serves.</summary>
    Refused,

    /// <summary>The migration failed before the commit and was rolled back; the source serves the vTPM again.</summary>
    RolledBack,
}

/// <summary>The result of a migration, with the reasons when it did not complete.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="MigrationId">The destination's migration id (empty when no offer was received).</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Reasons">Why it was refused or rolled back (empty when it completed).</param>
public sealed record VTpmMigrationResult(Guid VmId, Guid MigrationId, VTpmMigrationOutcome Outcome, IReadOnlyList<string> Reasons)
{
    /// <summary>True when the vTPM now lives at the destination (completed, or committed and awaiting confirmation).</summary>
    public bool Moved => Outcome is VTpmMigrationOutcome.Completed or VTpmMigrationOutcome.CommitPending;

    /// <inheritdoc />
    public override string ToString() => Reasons.Count == 0 ? $"{Outcome} (VM {VmId}, migration {MigrationId})" : $"{Outcome} (VM {VmId}, migration {MigrationId}): {string.Join("; ", Reasons)}";
}

/// <summary>Options of a migration source.</summary>
public sealed class VTpmMigrationSourceOptions
{
    /// <summary>How many times one message is sent before the exchange counts as failed (messages are idempotent). Default 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The pause between attempts. Default 200 ms; tests use zero.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);
}

/// <summary>
/// A request/response channel from a migration source to one destination. Exchanges may fail
/// (the request or its response lost): the source retries, since every message is idempotent.
/// </summary>
public interface IMigrationTransport : IDisposable
{
    /// <summary>Where the destination is (for the journal and logs), for example <c>127.0.0.1:2600</c>.</summary>
    string Endpoint { get; }

    /// <summary>Sends one request and returns the destination's response.</summary>
    /// <param name="request">The encoded message.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>The encoded response.</returns>
    /// <exception cref="IOException">The request or response was lost.</exception>
    ValueTask<byte[]> ExchangeAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default);
}
