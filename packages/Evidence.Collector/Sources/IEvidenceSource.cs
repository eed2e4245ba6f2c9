namespace TrustStack.Evidence.Collector;

/// <summary>
/// A source of runtime evidence. Register implementations in DI
/// (<c>services.TryAddEnumerable(ServiceDescriptor.Singleton&lt;IEvidenceSource, MySource&gt;())</c>);
/// the collector runs every registered source each round, in registration order of their records.
/// A source that throws does not stop the round: the collector records a
/// <see cref="EvidenceRecordTypes.CollectorError"/> record for it.
/// </summary>
public interface IEvidenceSource
{
    /// <summary>A short unique name ([a-z0-9._-]), recorded in collector-error records and progress.</summary>
    string Name { get; }

    /// <summary>Collects this source's records for one round.</summary>
    /// <param name="context">The round's options and shared file hasher.</param>
    /// <param name="cancellationToken">Cancels the round.</param>
    Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken);
}

/// <summary>What a source gets for one collection round.</summary>
/// <param name="Options">The collector options.</param>
/// <param name="Hasher">The round's file hasher (bounded concurrency, results cached per path).</param>
public sealed record EvidenceCollectionContext(EvidenceCollectorOptions Options, FileHasher Hasher);
