using TrustStack.VTpm.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TrustStack.VTpm.Core in a service collection.</summary>
public static class VTpmCoreServiceCollectionExtensions
{
    /// <summary>Adds the VTpm.Core services; repeated calls are harmless.</summary>
    /// <param name="services">The collection.</param>
    /// <param name="configure">Optional options callback.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddVTpmCore(this IServiceCollection services, Action<VTpmCoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<VTpmCoreOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
