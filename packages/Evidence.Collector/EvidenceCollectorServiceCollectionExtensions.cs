using TrustStack.Evidence.Collector;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TrustStack.Evidence.Collector in a service collection.</summary>
public static class EvidenceCollectorServiceCollectionExtensions
{
    /// <summary>
    /// Adds the collector, the built-in Linux evidence sources (memory, CPU, processes, network,
    /// files, policy data, IMA) and the appraiser; repeated calls are harmless. Add your own
    /// source with <c>services.TryAddEnumerable(ServiceDescriptor.Singleton&lt;IEvidenceSource, MySource&gt;())</c>.
    /// </summary>
    /// <param name="services">The collection.</param>
    /// <param name="configure">Optional options callback.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddEvidenceCollector(this IServiceCollection services, Action<EvidenceCollectorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<EvidenceCollectorOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(
            o =>
            {
                try
                {
                    o.Validate();
                    return true;
                }
                catch (ArgumentException)
                {
                    return false;
                }
            },
            "EvidenceCollectorOptions are invalid (EvidencePcr 0..23, HashConcurrency >= 1, a known bank, SealPcrs a PCR list).").ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEvidenceSource, MemoryEvidenceSource>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEvidenceSource, CpuEvidenceSource>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEvidenceSource, ProcessEvidenceSource>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEvidenceSource, NetworkEvidenceSource>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEvidenceSource, FileEvidenceSource>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEvidenceSource, PolicyDataEvidenceSource>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEvidenceSource, ImaEvidenceSource>());
        services.TryAddSingleton<EvidenceCollector>();
        return services;
    }
}
