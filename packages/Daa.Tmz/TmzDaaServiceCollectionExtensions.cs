using TrustStack.Daa.Tmz;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TrustStack.Daa.Tmz in a service collection.</summary>
public static class TmzDaaServiceCollectionExtensions
{
    /// <summary>Adds the Daa.Tmz services; repeated calls are harmless.</summary>
    /// <param name="services">The collection.</param>
    /// <param name="configure">Optional options callback.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddTmzDaa(this IServiceCollection services, Action<TmzDaaOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<TmzDaaOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
