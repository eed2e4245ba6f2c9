using Microsoft.AspNetCore.Builder;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Attestation.TvpPca.Tests;

/// <summary>A served platform: the host's and its Privacy CA's routes on an ephemeral 127.0.0.1 port, and clients to it.</summary>
internal sealed class ServedHost : IAsyncDisposable
{
    private readonly List<HttpClient> _clients = [];

    private ServedHost(TvpPcaHost host, TvpPcaHttpServer server)
    {
        Host = host;
        Server = server;
    }

    public TvpPcaHost Host { get; }

    public TvpPcaHttpServer Server { get; }

    public static async Task<ServedHost> StartAsync(TvpPcaHost host) =>
        new(host, await TvpPcaHttpServer.StartAsync(app => app.MapTvpPca(host)));

    public HttpClient Client(HttpMessageHandler? handler = null)
    {
        var c = handler is null ? new HttpClient() : new HttpClient(handler);
        c.BaseAddress = Server.BaseAddress;
        _clients.Add(c);
        return c;
    }

    public HttpTvpPcaTransport Transport() => new(Client());

    /// <summary>A remote challenger: the host over HTTP, the PCA over HTTP (authenticated answers), trusting only the PCA certificate.</summary>
    public Challenger RemoteChallenger(TestPlatforms p, ulong seed, HttpMessageHandler? pcaHandler = null, ITvpPcaTransport? transport = null)
    {
        var directory = new HttpEndorsementDirectory(Client(pcaHandler), p.Pca.Ca.Certificate, p.Clock, DeterministicRandomSource.FromSeed(seed + 1000));
        return new Challenger(transport ?? Transport(), directory.CreateVerifier(TvpPcaHost.ExpectedReferences), DeterministicRandomSource.FromSeed(seed));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients)
        {
            c.Dispose();
        }

        await Server.DisposeAsync();
        Host.Dispose();
    }
}

/// <summary>A man in the middle on the wire: rewrites response bodies.</summary>
internal sealed class RewritingHandler(Func<string, byte[], byte[]> rewrite) : DelegatingHandler(new HttpClientHandler())
{
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = base.Send(request, cancellationToken);
        var body = response.Content.ReadAsByteArrayAsync(cancellationToken).GetAwaiter().GetResult();
        var type = response.Content.Headers.ContentType;
        response.Content = new ByteArrayContent(rewrite(request.RequestUri!.AbsolutePath, body));
        response.Content.Headers.ContentType = type;
        return response;
    }
}
