using TrustStack.Evidence.Collector;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TrustStack.Evidence.Collector in a service collection.</summary>
public static class EvidenceCollectorServiceCollectionExtensions
{
    /// <summary>Adds the Evidence.Collector services; repeated calls are harmless.</summary>
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

        options.ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
