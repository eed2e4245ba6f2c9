using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TrustStack.Tpm.Hardware;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TrustStack.Tpm.Hardware: the software TPM engine as the platform's TPM, and the typed client.</summary>
public static class TpmHardwareServiceCollectionExtensions
{
    /// <summary>
    /// Adds the embedded software TPM (<see cref="SoftwareTpm"/>) as <see cref="ITpmTransport"/>,
    /// a <see cref="Tpm2"/> client over it, the randomness source (a seeded DRBG when
    /// <see cref="SoftwareTpmOptions.Seed"/> is set), <see cref="TimeProvider"/> and the default
    /// <see cref="ITpmSecretStore"/>. Everything is added with TryAdd, so a caller (or a package
    /// such as Vmm.ShadowPaging) may register its own secret store or transport first.
    /// </summary>
    /// <param name="services">The collection.</param>
    /// <param name="configure">Engine options; <see cref="SoftwareTpmOptions.AutoStartup"/> defaults to true here.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddTpmHardware(this IServiceCollection services, Action<SoftwareTpmOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SoftwareTpmOptions>().Configure(o => o.AutoStartup = true);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SoftwareTpmOptions>, SoftwareTpmOptionsValidator>());
        services.TryAddSingleton<IRandomSource>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<SoftwareTpmOptions>>().Value;
            return o.Seed is { } seed ? DeterministicRandomSource.FromSeed(seed) : SystemRandomSource.Instance;
        });
        services.TryAddSingleton<TimeProvider>(sp =>
            sp.GetRequiredService<IOptions<SoftwareTpmOptions>>().Value.Seed is null ? TimeProvider.System : new FixedTimeProvider());
        services.TryAddSingleton<ITpmSecretStore>(ManagedSecretStore.Instance);
        services.TryAddSingleton(sp => new SoftwareTpm(
            sp.GetRequiredService<IOptions<SoftwareTpmOptions>>().Value,
            sp.GetRequiredService<IRandomSource>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ITpmSecretStore>(),
            sp.GetService<ILogger<SoftwareTpm>>()));
        services.TryAddSingleton<ITpmTransport>(sp => sp.GetRequiredService<SoftwareTpm>());
        services.TryAddSingleton(sp => new Tpm2(sp.GetRequiredService<ITpmTransport>(), sp.GetRequiredService<IRandomSource>()));
        return services;
    }

    private sealed class SoftwareTpmOptionsValidator : IValidateOptions<SoftwareTpmOptions>
    {
        public ValidateOptionsResult Validate(string? name, SoftwareTpmOptions options)
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
