using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Attestation.TvpPca;

/// <summary>The HTTP routes of TVP-PCA (relative to the server's base address).</summary>
public static class TvpPcaRoutes
{
    /// <summary>The prefix of every route.</summary>
    public const string Prefix = "tvppca/v2";

    /// <summary>GET: the VMs whose agents this server hosts, one UUID a line (text/plain).</summary>
    public const string Vms = Prefix + "/vms";

    /// <summary>POST a TopChallenge to <c>tvppca/v2/vms/{vmId}/top</c>: the agent's TopResponse.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>The relative route.</returns>
    public static string Top(Guid vmId) => $"{Prefix}/vms/{vmId:D}/top";

    /// <summary>POST a BottomChallenge: the Attestation Service's BottomResponse.</summary>
    public const string Bottom = Prefix + "/bottom";

    /// <summary>POST an EndorsementQuery: the Privacy CA's signed EndorsementAnswer.</summary>
    public const string Endorsement = Prefix + "/pca/endorsement";

    /// <summary>GET: the Privacy CA certificate (DER, application/pkix-cert) — for convenience; a challenger trusts its own copy.</summary>
    public const string PcaCertificate = Prefix + "/pca/certificate";

    /// <summary>GET: the Privacy CA's current CRL (DER, application/pkix-crl; signed by the PCA).</summary>
    public const string PcaCrl = Prefix + "/pca/crl";

    /// <summary>The clients' default time for one exchange (30 s): a TPM quote takes well under a second, a queue of challengers a few.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(30);
}

/// <summary>An HTTP peer answered with an error status (400 bad input, 404 unknown VM, 415 wrong media type, ...).</summary>
public sealed class TvpPcaHttpException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TvpPcaHttpException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    public TvpPcaHttpException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public TvpPcaHttpException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a status code.</summary>
    /// <param name="statusCode">The status.</param>
    /// <param name="message">What happened.</param>
    public TvpPcaHttpException(HttpStatusCode statusCode, string message)
        : base(message) => StatusCode = statusCode;

    /// <summary>The HTTP status the peer answered with (0 when none).</summary>
    public HttpStatusCode StatusCode { get; }
}

/// <summary>
/// Reaches the agents and the Attestation Service of one host over HTTP (routes in
/// <see cref="TvpPcaRoutes"/>, bodies <see cref="TvpPcaCodec.MediaType"/>). The <see cref="HttpClient"/>'s
/// <see cref="HttpClient.BaseAddress"/> is the host's URL.
/// </summary>
/// <param name="http">The client (its base address is the host).</param>
public sealed class HttpTvpPcaTransport(HttpClient http) : ITvpPcaTransport
{
    private readonly HttpClient _http = http ?? throw new ArgumentNullException(nameof(http));

    /// <summary>
    /// How long one exchange (request sent, whole answer read) may take before it fails with a
    /// <see cref="TimeoutException"/>; default <see cref="TvpPcaRoutes.DefaultTimeout"/> (30 s).
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> leaves only the <see cref="HttpClient.Timeout"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero or negative (and not infinite).</exception>
    public TimeSpan Timeout
    {
        get;
        init => field = TvpPcaHttp.CheckTimeout(value);
    } = TvpPcaRoutes.DefaultTimeout;

    /// <inheritdoc/>
    /// <exception cref="TvpPcaHttpException">The host answered with an error status (404: no agent of that VM).</exception>
    /// <exception cref="FormatException">The answer is malformed.</exception>
    /// <exception cref="HttpRequestException">The host is unreachable.</exception>
    /// <exception cref="TimeoutException">No whole answer within <see cref="Timeout"/>.</exception>
    public TopResponse RequestTop(TopChallenge challenge)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        return TvpPcaCodec.DecodeTopResponse(TvpPcaHttp.Post(_http, TvpPcaRoutes.Top(challenge.VmId), TvpPcaCodec.Encode(challenge), $"the attestation agent of VM {challenge.VmId}", Timeout));
    }

    /// <inheritdoc/>
    /// <exception cref="TvpPcaHttpException">The host answered with an error status.</exception>
    /// <exception cref="FormatException">The answer is malformed.</exception>
    /// <exception cref="HttpRequestException">The host is unreachable.</exception>
    /// <exception cref="TimeoutException">No whole answer within <see cref="Timeout"/>.</exception>
    public BottomResponse RequestBottom(BottomChallenge challenge)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        return TvpPcaCodec.DecodeBottomResponse(TvpPcaHttp.Post(_http, TvpPcaRoutes.Bottom, TvpPcaCodec.Encode(challenge), "the attestation service", Timeout));
    }

    /// <summary>The VMs whose agents the host serves.</summary>
    /// <returns>Their UUIDs.</returns>
    /// <exception cref="TvpPcaHttpException">The host answered with an error status.</exception>
    /// <exception cref="FormatException">The list is not one UUID a line.</exception>
    /// <exception cref="TimeoutException">No whole answer within <see cref="Timeout"/>.</exception>
    public IReadOnlyList<Guid> GetVms()
    {
        var text = System.Text.Encoding.UTF8.GetString(TvpPcaHttp.Get(_http, TvpPcaRoutes.Vms, "the host", Timeout));
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Guid.Parse)];
    }
}

/// <summary>
/// Asks a remote Privacy CA (routes in <see cref="TvpPcaRoutes"/>) through which (v)EK it certified
/// an attestation key, and accepts only answers signed by an endorsement responder the trusted PCA
/// certificate certifies, echoing this query's fresh nonce.
/// </summary>
/// <param name="http">The client (its base address is the Privacy CA).</param>
/// <param name="trustedPca">The Privacy CA certificate the challenger trusts (its own copy, never the server's).</param>
/// <param name="time">The challenger's clock.</param>
/// <param name="random">Source of the query nonces.</param>
public sealed class HttpEndorsementDirectory(HttpClient http, X509Certificate2 trustedPca, TimeProvider time, IRandomSource random) : IEndorsementDirectory
{
    private readonly HttpClient _http = http ?? throw new ArgumentNullException(nameof(http));

    /// <summary>The Privacy CA certificate the challenger trusts.</summary>
    public X509Certificate2 TrustedPca { get; } = trustedPca ?? throw new ArgumentNullException(nameof(trustedPca));

    /// <summary>How long one query may take before it fails with a <see cref="TimeoutException"/>; default <see cref="TvpPcaRoutes.DefaultTimeout"/> (30 s).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero or negative (and not infinite).</exception>
    public TimeSpan Timeout
    {
        get;
        init => field = TvpPcaHttp.CheckTimeout(value);
    } = TvpPcaRoutes.DefaultTimeout;

    /// <inheritdoc/>
    /// <exception cref="EndorsementQueryException">The answer is malformed or could not be authenticated.</exception>
    /// <exception cref="TvpPcaHttpException">The Privacy CA answered with an error status.</exception>
    /// <exception cref="HttpRequestException">The Privacy CA is unreachable.</exception>
    /// <exception cref="TimeoutException">No whole answer within <see cref="Timeout"/>.</exception>
    public byte[]? EndorsementOf(X509Certificate2 attestationKeyCertificate)
    {
        ArgumentNullException.ThrowIfNull(attestationKeyCertificate);
        var query = new EndorsementQuery(random.GetBytes(32), SHA256.HashData(attestationKeyCertificate.RawData));
        var body = TvpPcaHttp.Post(_http, TvpPcaRoutes.Endorsement, TvpPcaCodec.Encode(query), "the Privacy CA", Timeout);
        EndorsementAnswer answer;
        try
        {
            answer = TvpPcaCodec.DecodeEndorsementAnswer(body);
        }
        catch (FormatException e)
        {
            throw new EndorsementQueryException($"The Privacy CA's answer is malformed: {e.Message}", e);
        }

        answer.Authenticate(query, TrustedPca, time);
        return answer.EndorsementKeyName;
    }

    /// <summary>The Privacy CA's current CRL (its signature is checked when the validator uses it).</summary>
    /// <returns>The CRL (DER).</returns>
    /// <exception cref="TvpPcaHttpException">The Privacy CA answered with an error status.</exception>
    /// <exception cref="TimeoutException">No whole answer within <see cref="Timeout"/>.</exception>
    public byte[] GetCrl() => TvpPcaHttp.Get(_http, TvpPcaRoutes.PcaCrl, "the Privacy CA", Timeout);

    /// <summary>A verifier for a remote challenger: trusts <see cref="TrustedPca"/> with its fetched CRL and asks this directory.</summary>
    /// <param name="references">The reference values the challenger trusts (required: there is no default, see <see cref="TvpQtReferenceFile"/>).</param>
    /// <returns>The verifier.</returns>
    /// <exception cref="TvpPcaHttpException">The Privacy CA answered with an error status.</exception>
    /// <exception cref="TimeoutException">The CRL did not arrive within <see cref="Timeout"/>.</exception>
    public TvpPcaVerifier CreateVerifier(TvpQtReferenceValues references)
    {
        ArgumentNullException.ThrowIfNull(references);
        var validator = new CertificateChainValidator([TrustedPca], time);
        validator.AddCrl(GetCrl());
        return new TvpPcaVerifier(this, validator, references);
    }
}

/// <summary>Shared HTTP plumbing of the TVP-PCA clients.</summary>
internal static class TvpPcaHttp
{
    public const int MaxBody = 16 * 1024 * 1024;

    public static TimeSpan CheckTimeout(TimeSpan value) =>
        value > TimeSpan.Zero || value == System.Threading.Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "A timeout is positive or Timeout.InfiniteTimeSpan.");

    public static byte[] Post(HttpClient http, string route, byte[] body, string peer, TimeSpan timeout)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(TvpPcaCodec.MediaType);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(TvpPcaCodec.MediaType));
        return Send(http, request, peer, timeout);
    }

    public static byte[] Get(HttpClient http, string route, string peer, TimeSpan timeout)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, route);
        return Send(http, request, peer, timeout);
    }

    private static byte[] Send(HttpClient http, HttpRequestMessage request, string peer, TimeSpan timeout)
    {
        // One deadline for the whole exchange, the answer's body included: a peer that sends its
        // headers and then trickles (or nothing) is cut off, not waited for.
        var url = request.RequestUri is { IsAbsoluteUri: false } relative && http.BaseAddress is { } b ? new Uri(b, relative) : request.RequestUri;
        using var deadline = new CancellationTokenSource();
        if (timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            deadline.CancelAfter(timeout);
        }

        try
        {
            using var response = http.Send(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);

            // A synchronous read does not watch the token: disposing the response ends it.
            using var abort = deadline.Token.Register(static r => ((HttpResponseMessage)r!).Dispose(), response);
            return Read(url, response, peer, deadline.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException &&
            (deadline.IsCancellationRequested || e.InnerException is TimeoutException))
        {
            throw new TimeoutException(
                $"{peer} at {url} did not answer within {(deadline.IsCancellationRequested ? timeout : http.Timeout).TotalSeconds:0.###} s " +
                $"({(deadline.IsCancellationRequested ? "the transport's Timeout" : "the HttpClient's Timeout")}).", e);
        }
    }

    private static byte[] Read(Uri? url, HttpResponseMessage response, string peer, CancellationToken cancellationToken)
    {
        using var stream = response.Content.ReadAsStream(cancellationToken);
        using var buffer = new MemoryStream(response.Content.Headers.ContentLength is > 0 and <= MaxBody and var length ? (int)length : 0);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int n;
            while ((n = stream.Read(chunk)) > 0)
            {
                if (buffer.Length + n > MaxBody)
                {
                    throw new TvpPcaHttpException(response.StatusCode, $"{peer} at {url} sent more than {MaxBody} octets.");
                }

                buffer.Write(chunk, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        if (!response.IsSuccessStatusCode)
        {
            var reason = System.Text.Encoding.UTF8.GetString(buffer.ToArray()).Trim();
            var what = response.StatusCode switch
            {
                HttpStatusCode.NotFound => "not found",
                HttpStatusCode.BadRequest => "bad request",
                HttpStatusCode.UnsupportedMediaType => "unsupported media type",
                _ => "error",
            };
            throw new TvpPcaHttpException(
                response.StatusCode,
                $"{peer} at {url} answered {(int)response.StatusCode} {response.ReasonPhrase} ({what}){(reason.Length > 0 ? ": " + reason : "")}");
        }

        return buffer.ToArray();
    }
}
