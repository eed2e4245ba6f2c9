using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TrustStack.Attestation.TvpPca;

/// <summary>
/// A minimal Kestrel server on 127.0.0.1 (HTTP/1.1 and HTTP/2 without TLS: prior knowledge) for
/// TVP-PCA routes — what <c>truststack attest serve</c> and the tests run. An app of your own maps
/// the same routes with <see cref="TvpPcaEndpointRouteBuilderExtensions"/>.
/// </summary>
public sealed class TvpPcaHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TvpPcaHttpServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>The largest request body the server reads (64 KiB); larger ones are answered 413.</summary>
    public const int MaxRequestBodySize = 64 * 1024;

    /// <summary>The most connections the server holds at once (1,024); more wait in the listen backlog.</summary>
    public const int MaxConnections = 1024;

    /// <summary>The server's base address, such as <c>http://127.0.0.1:5123/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Starts a server on 127.0.0.1 with the routes <paramref name="map"/> adds.</summary>
    /// <param name="map">Maps the routes, for example <c>app => app.MapTvpPca(host)</c>.</param>
    /// <param name="port">The port; 0 picks a free one.</param>
    /// <param name="loggerFactory">Logging of the server (none when null).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="IOException">The port is taken.</exception>
    public static async Task<TvpPcaHttpServer> StartAsync(Action<IEndpointRouteBuilder> map, int port = 0, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        builder.WebHost.UseKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, port, l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2);
            o.AddServerHeader = false;

            // Bounded, so hostile clients cost little: no TVP-PCA message is near 64 KiB; headers
            // must arrive within 10 s, idle keep-alive connections close after 30 s, and a body
            // slower than Kestrel's minimum data rate is answered 408.
            o.Limits.MaxRequestBodySize = MaxRequestBodySize;
            o.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            o.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            o.Limits.MaxConcurrentConnections = MaxConnections;
        });
        var app = builder.Build();
        map(app);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The server reports no address.");
        return new TvpPcaHttpServer(app, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>Stops the server (in-flight requests finish).</summary>
    /// <param name="cancellationToken">Makes the stop ungraceful.</param>
    /// <returns>A task.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <summary>Stops and disposes the server.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
