using TrustStack.Certs.Vmek;
using TrustStack.VTpm.Core;
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

    /// <summary>
    /// Plugs the VMEK scheme into the vTPM manager: registers the <see cref="VmekCredentialProvider"/>
    /// made by <paramref name="factory"/> (a certified VMEK and the hardware EK credentials) as the
    /// manager's <see cref="IVTpmCredentialProvider"/>, replacing the no-op default, so every new
    /// vTPM gets its vEK certificate. Call before or after AddVTpmCore.
    /// </summary>
    /// <param name="services">The collection.</param>
    /// <param name="factory">Makes the provider.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddVmekCredentials(this IServiceCollection services, Func<IServiceProvider, VmekCredentialProvider> factory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(factory);
        services.AddVmek();
        services.TryAddSingleton(factory);
        services.Replace(ServiceDescriptor.Singleton<IVTpmCredentialProvider>(sp => sp.GetRequiredService<VmekCredentialProvider>()));
        return services;
    }
}
