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
    /// <see cref="TimeProvider"/> and <see cref="ILoggerFactory"/> when present. Also registers the
    /// migration endpoints over that manager: <see cref="VTpmMigrationSource"/> and
    /// <see cref="VTpmMigrationDestination"/> (the latter needs the hardware <see cref="Tpm2"/>).
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
        services.TryAddSingleton<IVTpmCredentialProvider>(NoVTpmCredentials.Instance);
        services.TryAddSingleton(sp => new VTpmManager(
            sp.GetRequiredService<IOptions<VTpmCoreOptions>>().Value,
            sp.GetService<Tpm2>(),
            sp.GetRequiredService<ITpmSecretStore>(),
            sp.GetServices<IVTpmLaunchObserver>(),
            sp.GetService<IRandomSource>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>())
        {
            CredentialProvider = sp.GetRequiredService<IVTpmCredentialProvider>(),
        });
        services.TryAddSingleton(sp => new VTpmMigrationSource(sp.GetRequiredService<VTpmManager>()));
        services.TryAddSingleton(sp => new VTpmMigrationDestination(sp.GetRequiredService<VTpmManager>()));

        // The TVP-QT trust chain is opt-in (AddTvpQtTrustChain): its junction point refuses launches
        // until the host has measured its platform boot profile into the hardware TPM.
        return services;
    }

    /// <summary>
    /// Adds the TVP-QT waterfall trust chain (book ch. 2): <see cref="PlatformMeasurement"/> over the
    /// platform's hardware <see cref="Tpm2"/> (from AddTpmHardware or the caller), and the
    /// <see cref="TrustedJunctionPoint"/> as an <see cref="IVTpmLaunchObserver"/> so that the vTPM
    /// manager has it measure every vTPM at launch. The host must call
    /// <see cref="PlatformMeasurement.MeasureBoot"/> before the first vTPM starts.
    /// </summary>
    /// <param name="services">The collection.</param>
    /// <param name="configure">Optional options callback (the junction PCR).</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddTvpQtTrustChain(this IServiceCollection services, Action<TvpQtOptions>? configure = null) =>
        TrustChainRegistration.AddTvpQt(services, configure);

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
