using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>Options of the TVP-QT trust chain.</summary>
public sealed class TvpQtOptions
{
    /// <summary>The hardware PCR of the trusted junction point (default 15, see <see cref="TrustedJunctionPoint"/>).</summary>
    public uint JunctionPcr { get; set; } = TrustedJunctionPoint.DefaultPcr;
}

/// <summary>
/// Registers the TVP-QT trust chain: a <see cref="PlatformMeasurement"/> over the hardware
/// <see cref="Tpm2"/>, the <see cref="TrustedJunctionPoint"/>, and the junction point as an
/// <see cref="IVTpmLaunchObserver"/> so the vTPM manager measures every launch. The host still
/// measures its boot profile (<see cref="PlatformMeasurement.MeasureBoot"/>) before the first
/// vTPM starts.
/// </summary>
internal static class TrustChainRegistration
{
    /// <summary>Adds the TVP-QT services (TryAdd; repeated calls are harmless). Needs a <see cref="Tpm2"/> (for example from AddTpmHardware).</summary>
    /// <param name="services">The collection.</param>
    /// <param name="configure">Optional options callback.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddTvpQt(IServiceCollection services, Action<TvpQtOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<TvpQtOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.JunctionPcr <= 22 && o.JunctionPcr != 16, "JunctionPcr must be 0..22 and not 16 or 23 (resettable at locality 0).").ValidateOnStart();
        services.TryAddSingleton(sp => new PlatformMeasurement(sp.GetRequiredService<Tpm2>()));
        services.TryAddSingleton(sp => new TrustedJunctionPoint(sp.GetRequiredService<PlatformMeasurement>(), sp.GetRequiredService<IOptions<TvpQtOptions>>().Value.JunctionPcr));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IVTpmLaunchObserver, TrustedJunctionPoint>(sp => sp.GetRequiredService<TrustedJunctionPoint>()));
        return services;
    }
}
