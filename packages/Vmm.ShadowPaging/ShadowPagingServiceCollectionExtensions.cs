using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TrustStack.Tpm.Hardware;
using TrustStack.Vmm.ShadowPaging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TrustStack.Vmm.ShadowPaging in a service collection.</summary>
public static class ShadowPagingServiceCollectionExtensions
{
    /// <summary>
    /// Adds the MMU-vTPM secret store chosen by <see cref="ShadowPagingOptions.Backend"/> as the
    /// platform's <see cref="ITpmSecretStore"/>, so a SoftwareTpm or vTPM built from DI keeps its
    /// seeds and private keys there. Call it before or after AddTpmHardware/AddVTpmCore: it replaces
    /// their default <see cref="ManagedSecretStore"/> registration (and nothing else a caller
    /// registered). For the model back end it also registers the <see cref="MmuVTpmSecretStore"/>,
    /// <see cref="Hypervisor"/> and <see cref="MmuVTpm"/>. Repeated calls are harmless.
    /// </summary>
    /// <param name="services">The collection.</param>
    /// <param name="configure">Optional options callback.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddShadowPaging(this IServiceCollection services, Action<ShadowPagingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ShadowPagingOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.MachineFrames is >= 64 and <= 262_144, "MachineFrames must be 64..262144.")
            .Validate(o => !string.IsNullOrEmpty(o.VTpmName), "VTpmName must not be empty.")
            .Validate(o => o.IntegrityPcr is >= 0 and <= 23, "IntegrityPcr must be 0..23.")
            .Validate(o => Enum.IsDefined(o.Backend), "Unknown Backend.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ShadowPagingOptions>>().Value;
            return MmuVTpmSecretStore.CreatePlatform(o.MachineFrames, o.VTpmName, sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton(sp => sp.GetRequiredService<MmuVTpmSecretStore>().Module);
        services.TryAddSingleton(sp => sp.GetRequiredService<MmuVTpmSecretStore>().Hypervisor);
        services.TryAddSingleton<GuardedMemorySecretStore>();

        // Replace only Tpm.Hardware's/VTpm.Core's default registration of the managed store.
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(ITpmSecretStore) && !services[i].IsKeyedService && services[i].ImplementationInstance is ManagedSecretStore)
            {
                services.RemoveAt(i);
            }
        }

        services.TryAddSingleton<ITpmSecretStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ShadowPagingOptions>>().Value;
            if (!o.Enabled)
            {
                return ManagedSecretStore.Instance;
            }

            return o.Backend == SecretStoreBackend.GuardedMemory
                ? sp.GetRequiredService<GuardedMemorySecretStore>()
                : sp.GetRequiredService<MmuVTpmSecretStore>();
        });
        return services;
    }
}
