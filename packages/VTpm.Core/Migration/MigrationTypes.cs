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

    /// <summary>
    /// True when a message is still owed to the destination (the commit or the abort was not
    /// acknowledged): the migration stays in <see cref="VTpmMigrationSource.Pending"/> until
    /// <see cref="VTpmMigrationSource.ResolveAsync"/> or <see cref="VTpmMigrationSource.RecoverAsync"/> delivers it.
    /// Always true for <see cref="VTpmMigrationOutcome.CommitPending"/>.
    /// </summary>
    public bool AwaitsDestination { get; init; }

    /// <inheritdoc />
    public override string ToString() => Reasons.Count == 0 ? $"{Outcome} (VM {VmId}, migration {MigrationId})" : $"{Outcome} (VM {VmId}, migration {MigrationId}): {string.Join("; ", Reasons)}";
}

/// <summary>Where an unfinished outgoing migration stands in the source's journal.</summary>
public enum VTpmPendingMigrationState
{
    /// <summary>The vTPM is locked and exported, no decision taken: resolving rolls it back (the destination cannot activate without the commit secret) and sends the abort.</summary>
    Locked,

    /// <summary>Decided to roll back: resolving unlocks the vTPM here (if not yet) and resends the abort until acknowledged.</summary>
    Aborting,

    /// <summary>Decided to commit after the destination's signed receipt: resolving destroys the local copy (if not yet) and resends the commit until acknowledged; the vTPM is live nowhere until then.</summary>
    Committed,

    /// <summary>The journal entry cannot be read (<see cref="VTpmPendingMigration.Problem"/> names the file and why); its VM stays locked, since only the entry says whether the commit secret was revealed.</summary>
    Unreadable,
}

/// <summary>An unfinished outgoing migration recorded in the source's journal.</summary>
/// <param name="MigrationId">The destination's migration id.</param>
/// <param name="VmId">The VM (empty when the entry is unreadable).</param>
/// <param name="Endpoint">The destination (empty when unreadable).</param>
/// <param name="State">Where it stands.</param>
public sealed record VTpmPendingMigration(Guid MigrationId, Guid VmId, string Endpoint, VTpmPendingMigrationState State)
{
    /// <summary>Why an <see cref="VTpmPendingMigrationState.Unreadable"/> entry cannot be used, naming its file; else null.</summary>
    public string? Problem { get; init; }
}

/// <summary>
/// Bounds on what unauthenticated parties can make a migration destination do (issue 19, finding
/// 12): every offer request costs the destination hardware-TPM work (an AK and a migration key
/// derived, a quote and a certification, about 53 ms) and a journal entry, so offers are rate
/// limited (a token bucket), the migrations in progress are counted, and an offer that is not
/// followed by a prepare within <see cref="OfferTimeout"/> is forgotten (its journal entry
/// deleted). A refused offer is answered with an error the source reports as Refused.
/// </summary>
public sealed class VTpmMigrationDestinationOptions
{
    /// <summary>Offer requests admitted per second on average (token bucket refill). Default 10.</summary>
    public double OffersPerSecond { get; set; } = 10;

    /// <summary>Offer requests admitted at once before the rate applies (bucket size). Default 20.</summary>
    public int OfferBurst { get; set; } = 20;

    /// <summary>
    /// Migrations in progress at most: offered but not prepared, and prepared but not yet
    /// committed or aborted. A prepared migration is never dropped (its source may already have
    /// destroyed its copy), so it counts until its commit or abort. Default 16.
    /// </summary>
    public int MaxPendingMigrations { get; set; } = 16;

    /// <summary>How long an offer waits for its prepare before it is forgotten; an offer made before a restart is forgotten this long after it. Default 60 s.</summary>
    public TimeSpan OfferTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public void Validate()
    {
        if (!(OffersPerSecond > 0) || double.IsInfinity(OffersPerSecond))
        {
            throw new ArgumentOutOfRangeException(nameof(OffersPerSecond), OffersPerSecond, "OffersPerSecond must be a positive number.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(OfferBurst, 1, nameof(OfferBurst));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingMigrations, 1, nameof(MaxPendingMigrations));
        if (OfferTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(OfferTimeout), OfferTimeout, "OfferTimeout must be positive.");
        }
    }
}

/// <summary>Options of a migration source.</summary>
public sealed class VTpmMigrationSourceOptions
{
    /// <summary>
    /// Whether the constructor finishes the local part of unfinished migrations (default true: a
    /// lock without a decision is rolled back, a committed vTPM destroyed). A host that reports them
    /// and leaves them to an operator (<c>truststack vtpm serve</c>, with <c>vtpm migrate --resolve</c>)
    /// sets false and calls <see cref="VTpmMigrationSource.ResolveAsync"/>.
    /// </summary>
    public bool RecoverOnStart { get; set; } = true;

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
