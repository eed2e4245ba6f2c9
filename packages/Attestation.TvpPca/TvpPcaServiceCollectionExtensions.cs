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
    /// <see cref="IRandomSource"/> (the system source unless one is registered). The options are
    /// validated on start: without <see cref="TvpPcaOptions.References"/> the host does not start
    /// (an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> saying what to configure).
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

        // Default deny: no references, no verifier (the validator says what to configure).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Options.IValidateOptions<TvpPcaOptions>, TvpPcaOptionsValidator>());
        options.ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRandomSource>(SystemRandomSource.Instance);
        services.TryAddSingleton(sp =>
        {
            // In process: the registered Privacy CA is the trust anchor and the endorsement record. Remote: a
            // registered IEndorsementDirectory (HttpEndorsementDirectory) and a CertificateChainValidator trusting the PCA.
            var pca = sp.GetService<TvpPcaPrivacyCa>();
            var time = sp.GetRequiredService<TimeProvider>();
            var o = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<TvpPcaOptions>>().Value;
            var directory = sp.GetService<IEndorsementDirectory>() ?? pca
                ?? throw new InvalidOperationException("Register a TvpPcaPrivacyCa (AddTvpPcaPrivacyCa) or an IEndorsementDirectory with a CertificateChainValidator.");
            var validator = sp.GetService<TrustStack.Certs.Vmek.CertificateChainValidator>() ?? (pca is not null ? TvpPcaHost.CreateValidator(pca, time)
                : throw new InvalidOperationException("A remote challenger needs a registered CertificateChainValidator trusting the Privacy CA."));
            return new TvpPcaVerifier(directory, validator, o.References ?? throw new InvalidOperationException(TvpPcaOptionsValidator.MissingReferences)) { RuntimeEvidence = o.RuntimeEvidence };
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
        services.TryAddSingleton<IEndorsementDirectory>(pca);
        return services;
    }
}
