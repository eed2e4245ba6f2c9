using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TrustStack.Daa.Tmz;
using TrustStack.Tpm.Hardware;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TrustStack.Daa.Tmz in a service collection.</summary>
public static class TmzDaaServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Daa.Tmz services: the configured <see cref="DaaGroup"/>, the <see cref="NsCpuProfile"/>
    /// and (unless one is registered) the system <see cref="IRandomSource"/>; repeated calls are harmless.
    /// </summary>
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

        options.Validate(o => DaaGroup.All.Any(g => string.Equals(g.Name, o.Group, StringComparison.OrdinalIgnoreCase)), "Group must be ristretto255 or p256")
            .Validate(o => o.CpuProfilePath is null || File.Exists(o.CpuProfilePath), "CpuProfilePath does not exist")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRandomSource>(SystemRandomSource.Instance);
        services.TryAddSingleton(sp => DaaGroup.FromName(sp.GetRequiredService<IOptions<TmzDaaOptions>>().Value.Group));
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<TmzDaaOptions>>().Value.CpuProfilePath is { } path ? NsCpuProfile.Load(path) : NsCpuProfile.Default);
        return services;
    }
}
