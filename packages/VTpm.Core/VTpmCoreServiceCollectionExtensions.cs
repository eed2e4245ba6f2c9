using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TrustStack.VTpm.Core in a service collection.</summary>
public static class VTpmCoreServiceCollectionExtensions
{
    /// <summary>
    /// Adds the vTPM manager (<see cref="VTpmManager"/>, a singleton) and its options; repeated
    /// calls are harmless. The manager takes from the container: the platform's hardware
    /// <see cref="Tpm2"/> (from AddTpmHardware, or any transport the platform registers) to seal
    /// its state key, the <see cref="ITpmSecretStore"/> every vTPM engine keeps its secrets in
    /// (register another store, such as Vmm.ShadowPaging's MMU-vTPM store, to replace the
    /// default), every <see cref="IVTpmLaunchObserver"/>, <see cref="IRandomSource"/>,
    /// <see cref="TimeProvider"/> and <see cref="ILoggerFactory"/> when present.
    /// </summary>
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
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<VTpmCoreOptions>, VTpmCoreOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ITpmSecretStore>(ManagedSecretStore.Instance);
        services.TryAddSingleton(sp => new VTpmManager(
            sp.GetRequiredService<IOptions<VTpmCoreOptions>>().Value,
            sp.GetService<Tpm2>(),
            sp.GetRequiredService<ITpmSecretStore>(),
            sp.GetServices<IVTpmLaunchObserver>(),
            sp.GetService<IRandomSource>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()));

        // ---- TVP-QT trust chain (branch tvpqt, packages/VTpm.Core/TrustChain/) ----
        // The trusted junction point registers here as an IVTpmLaunchObserver
        // (services.TryAddEnumerable(ServiceDescriptor.Singleton<IVTpmLaunchObserver, ...>())),
        // together with the platform boot profile and the verifier.
        // ---- end of the trust chain registrations ----
        return services;
    }

    private sealed class VTpmCoreOptionsValidator : IValidateOptions<VTpmCoreOptions>
    {
        public ValidateOptionsResult Validate(string? name, VTpmCoreOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
