using TrustStack.Attestation.TvpPca;
using TrustStack.Tpm.Hardware;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TrustStack.Attestation.TvpPca in a service collection.</summary>
public static class TvpPcaServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Attestation.TvpPca services; repeated calls are harmless. The challenger side
    /// (<see cref="TvpPcaVerifier"/>, <see cref="Challenger"/>) is resolved from a registered
    /// <see cref="TvpPcaPrivacyCa"/> and <see cref="ITvpPcaTransport"/>, the
    /// <see cref="TvpPcaOptions.References"/>, the <see cref="TimeProvider"/> and an
    /// <see cref="IRandomSource"/> (the system source unless one is registered).
    /// </summary>
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
        services.TryAddSingleton<IRandomSource>(SystemRandomSource.Instance);
        services.TryAddSingleton(sp =>
        {
            var pca = sp.GetRequiredService<TvpPcaPrivacyCa>();
            var o = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<TvpPcaOptions>>().Value;
            return TvpPcaHost.CreateVerifier(pca, sp.GetRequiredService<TimeProvider>(), o.References);
        });
        services.TryAddSingleton(sp => new Challenger(sp.GetRequiredService<ITvpPcaTransport>(), sp.GetRequiredService<TvpPcaVerifier>(), sp.GetRequiredService<IRandomSource>()));
        return services;
    }

    /// <summary>Registers the Privacy CA role (the instance that certified the platforms' AIKs and vAIKs, so it knows their EKs).</summary>
    /// <param name="services">The collection.</param>
    /// <param name="pca">The Privacy CA role.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddTvpPcaPrivacyCa(this IServiceCollection services, TvpPcaPrivacyCa pca)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(pca);
        services.TryAddSingleton(pca);
        return services;
    }
}
