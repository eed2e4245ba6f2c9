using TrustStack.Certs.Vmek;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TrustStack.Certs.Vmek in a service collection.</summary>
public static class VmekServiceCollectionExtensions
{
    /// <summary>Adds the Certs.Vmek services; repeated calls are harmless.</summary>
    /// <param name="services">The collection.</param>
    /// <param name="configure">Optional options callback.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddVmek(this IServiceCollection services, Action<VmekOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<VmekOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
