using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using TrustStack.Attestation.TvpPca;
using TrustStack.Tpm.Hardware;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Maps the TVP-PCA HTTP routes (<see cref="TvpPcaRoutes"/>) in an ASP.NET Core app: the agents and
/// the Attestation Service of a host, and the Privacy CA's endorsement query. Bodies are
/// <see cref="TvpPcaCodec.MediaType"/>; malformed input is 400 with the reason as text, a VM without
/// an agent here is 404, another media type is 415, a body over 64 KiB is 413, and malformed HTTP
/// framing of the body (bad chunk sizes, a body cut short or too slow) is Kestrel's 4xx with the
/// reason as text — never a 500.
/// </summary>
public static class TvpPcaEndpointRouteBuilderExtensions
{
    private const int MaxRequestBody = TvpPcaHttpServer.MaxRequestBodySize;

    /// <summary>Maps the host's routes (agents, service) and, with <see cref="TvpPcaHost.Pca"/>, the Privacy CA's.</summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="host">The platform.</param>
    /// <param name="includePrivacyCa">Whether to map the Privacy CA routes too (a demo host that carries its PCA).</param>
    /// <returns><paramref name="endpoints"/>.</returns>
    public static IEndpointRouteBuilder MapTvpPca(this IEndpointRouteBuilder endpoints, TvpPcaHost host, bool includePrivacyCa = true)
    {
        ArgumentNullException.ThrowIfNull(host);
        endpoints.MapTvpPcaAttestation(host.Service, host.Agents);
        if (includePrivacyCa)
        {
            endpoints.MapTvpPcaPrivacyCa(host.Pca);
        }

        return endpoints;
    }

    /// <summary>Maps <c>GET vms</c>, <c>POST vms/{vmId}/top</c> (the agents) and <c>POST bottom</c> (the Attestation Service).</summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="service">The host's Attestation Service.</param>
    /// <param name="agents">The agents of its VMs.</param>
    /// <returns><paramref name="endpoints"/>.</returns>
    public static IEndpointRouteBuilder MapTvpPcaAttestation(this IEndpointRouteBuilder endpoints, AttestationService service, IEnumerable<AttestationAgent> agents)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(agents);
        var byVm = agents.ToDictionary(a => a.VmId);
        var vmList = string.Concat(byVm.Keys.Select(k => $"{k:D}\n"));
        endpoints.MapGet("/" + TvpPcaRoutes.Vms, () => Results.Text(vmList, "text/plain"));
        endpoints.MapPost("/" + TvpPcaRoutes.Prefix + "/vms/{vmId}/top", (HttpContext context, string vmId) => Handle(context, "TopChallenge", body =>
        {
            if (!Guid.TryParse(vmId, out var vm))
            {
                return Results.Text($"'{vmId}' is not a VM UUID.", "text/plain", statusCode: StatusCodes.Status400BadRequest);
            }

            if (!byVm.TryGetValue(vm, out var agent))
            {
                return Results.Text($"No attestation agent of VM {vm} on this host.", "text/plain", statusCode: StatusCodes.Status404NotFound);
            }

            var challenge = TvpPcaCodec.DecodeTopChallenge(body);
            if (challenge.VmId != vm)
            {
                return Results.Text($"The challenge is for VM {challenge.VmId}, the route names {vm}.", "text/plain", statusCode: StatusCodes.Status400BadRequest);
            }

            return Encoded(TvpPcaCodec.Encode(agent.Answer(challenge)));
        }));
        endpoints.MapPost("/" + TvpPcaRoutes.Bottom, (Func<HttpContext, Task<IResult>>)(context => Handle(context, "BottomChallenge", body =>
            Encoded(TvpPcaCodec.Encode(service.Answer(TvpPcaCodec.DecodeBottomChallenge(body)))))));
        return endpoints;
    }

    /// <summary>Maps the Privacy CA's routes: <c>POST pca/endorsement</c> (signed answers), <c>GET pca/certificate</c>, <c>GET pca/crl</c>.</summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="pca">The Privacy CA role.</param>
    /// <returns><paramref name="endpoints"/>.</returns>
    public static IEndpointRouteBuilder MapTvpPcaPrivacyCa(this IEndpointRouteBuilder endpoints, TvpPcaPrivacyCa pca)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pca);
        endpoints.MapPost("/" + TvpPcaRoutes.Endorsement, (Func<HttpContext, Task<IResult>>)(context => Handle(context, "EndorsementQuery", body =>
            Encoded(TvpPcaCodec.Encode(pca.Answer(TvpPcaCodec.DecodeEndorsementQuery(body)))))));
        endpoints.MapGet("/" + TvpPcaRoutes.PcaCertificate, () => Results.Bytes(pca.Ca.Certificate.RawData, "application/pkix-cert"));
        endpoints.MapGet("/" + TvpPcaRoutes.PcaCrl, () => Results.Bytes(pca.Ca.BuildCrl(), "application/pkix-crl"));
        return endpoints;
    }

    private static IResult Encoded(byte[] body) => Results.Bytes(body, TvpPcaCodec.MediaType);

    private static async Task<IResult> Handle(HttpContext context, string message, Func<byte[], IResult> answer)
    {
        var type = context.Request.ContentType;
        if (type is null || !type.Split(';')[0].Trim().Equals(TvpPcaCodec.MediaType, StringComparison.OrdinalIgnoreCase))
        {
            return Results.Text($"The body must be a {message} as {TvpPcaCodec.MediaType}, not '{type}'.", "text/plain", statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        if (context.Request.ContentLength > MaxRequestBody)
        {
            return Results.Text($"A {message} of {context.Request.ContentLength} octets is too large (at most {MaxRequestBody}).", "text/plain", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        // Kestrel then refuses to read more than this itself (413), whatever the framing.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxRequestBody;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        try
        {
            int n;
            while ((n = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + n > MaxRequestBody)
                {
                    return Results.Text($"A {message} larger than {MaxRequestBody} octets is refused.", "text/plain", statusCode: StatusCodes.Status413PayloadTooLarge);
                }

                buffer.Write(chunk, 0, n);
            }
        }
        catch (BadHttpRequestException e)
        {
            // Malformed framing found while reading the body (RFC 9112 §7.1: a chunk size that is not
            // hex or overflows, a chunk longer than its size, a body cut short, too slow, too large):
            // Kestrel's status (400, 408, 413) with its reason, never a 500.
            return Results.Text($"Malformed HTTP framing of the {message}: {e.Message}", "text/plain", statusCode: e.StatusCode);
        }
        catch (IOException e) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Kestrel reports a chunk size that overflows as IOException("Bad chunk size data") over an OverflowException.
            return BadRequest($"Malformed HTTP framing of the {message}: {e.Message}");
        }

        try
        {
            // The roles hold their TPM's lock while they quote: run them off the request thread.
            var body = buffer.ToArray();
            return await Task.Run(() => answer(body), context.RequestAborted).ConfigureAwait(false);
        }
        catch (FormatException e)
        {
            return BadRequest($"Malformed {message}: {e.Message}");
        }
        catch (ArgumentException e)
        {
            return BadRequest($"Unusable {message}: {e.Message}");
        }
        catch (TpmException e)
        {
            return BadRequest($"The TPM refused the {message}: {e.Message}");
        }
        catch (CryptographicException e)
        {
            return BadRequest($"Unusable {message}: {e.Message}");
        }
    }

    private static IResult BadRequest(string reason) => Results.Text(reason, "text/plain", statusCode: StatusCodes.Status400BadRequest);
}
