using TrustStack.Attestation.TvpPca;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TrustStack.Attestation.TvpPca in a service collection.</summary>
public static class TvpPcaServiceCollectionExtensions
{
    /// <summary>Adds the Attestation.TvpPca services; repeated calls are harmless.</summary>
    /// <param name="services">The collection.</param>
    /// <param name="configure">Optional options callback.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddTvpPca(this IServiceCollection services, Action<TvpPcaOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<TvpPcaOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
