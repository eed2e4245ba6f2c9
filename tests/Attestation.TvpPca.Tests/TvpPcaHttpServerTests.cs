using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TrustStack.Attestation.TvpPca.Tests;

/// <summary>
/// Malformed HTTP framing sent over raw sockets (issue 19, finding 13): every POST route answers
/// 4xx with a reason, never 500 — chunk sizes that overflow or are not hex, truncated bodies,
/// oversized bodies (declared or streamed), wrong or missing content types.
/// </summary>
public sealed class TvpPcaHttpServerTests : IAsyncLifetime
{
    private static readonly string[] Routes = ["vms/{vm}/top", "bottom", "pca/endorsement"];
    private readonly TestPlatforms _p = new();
    private ServedHost _served = null!;

    public async Task InitializeAsync() => _served = await ServedHost.StartAsync(_p.Host());

    public async Task DisposeAsync() => await _served.DisposeAsync();

    public static TheoryData<string, string> Framings() => new()
    {
        { "chunk size ffffffffffff", "400" },
        { "chunk size not hex", "400" },
        { "chunk longer than its size", "400" },
        { "declared body over 64 KiB", "413" },
        { "chunked body over 64 KiB", "413" },
        { "text/plain body", "415" },
        { "no content type", "415" },
    };

    [Theory]
    [MemberData(nameof(Framings))]
    public async Task Post_MalformedFraming_Answers4xxWithReasonOnEveryRoute(string framing, string status)
    {
        foreach (var route in Routes)
        {
            var (code, reason) = await SendAsync(Request(Path(route), framing), halfClose: false);

            Assert.True(code == status, $"{framing} on {route}: HTTP {code} ({reason})");
            Assert.False(string.IsNullOrWhiteSpace(reason), $"{framing} on {route}: no reason");
        }
    }

    [Theory]
    [InlineData("truncated chunked body")]
    [InlineData("truncated Content-Length body")]
    public async Task Post_BodyCutShortAndConnectionKeptOpen_Answers408WithReasonOnEveryRoute(string framing)
    {
        // Kestrel's minimum request body data rate (240 octets/s after a 5 s grace) ends the wait.
        var answers = await Task.WhenAll(Routes.Select(route => SendAsync(Request(Path(route), framing), halfClose: false)));

        Assert.All(answers, a => Assert.Equal("408", a.Code));
        Assert.All(answers, a => Assert.Contains("Malformed HTTP framing", a.Body, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("truncated chunked body")]
    [InlineData("truncated Content-Length body")]
    public async Task Post_BodyCutShortAndClientGone_NoServerErrorAndServerStillServes(string framing)
    {
        // The client closed its side: Kestrel drops the connection (nobody is left to answer), and nothing is a 5xx.
        foreach (var route in Routes)
        {
            var (code, _) = await SendAsync(Request(Path(route), framing), halfClose: true);
            Assert.False(code.StartsWith('5'), $"{framing} on {route}: HTTP {code}");
        }

        Assert.Equal(_served.Host.Agents.Select(a => a.VmId), _served.Transport().GetVms());
    }

    [Fact]
    public async Task Post_ValidChunkedChallenge_Answered()
    {
        // The same framing done right: the bottom challenge in two chunks.
        var body = TvpPcaCodec.Encode(new BottomChallenge(_served.Host.Agents[0].VmId, new byte[32]));
        var head = $"POST /{TvpPcaRoutes.Bottom} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {TvpPcaCodec.MediaType}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        byte[] request = [.. Encoding.ASCII.GetBytes(head), .. Chunk(body[..10]), .. Chunk(body[10..]), .. "0\r\n\r\n"u8];

        var (code, _) = await SendAsync(request, halfClose: false);

        Assert.Equal("200", code);
    }

    private string Path(string route) => "/" + TvpPcaRoutes.Prefix + "/" + route.Replace("{vm}", _served.Host.Agents[0].VmId.ToString(), StringComparison.Ordinal);

    private static byte[] Chunk(byte[] data) => [.. Encoding.ASCII.GetBytes($"{data.Length:x}\r\n"), .. data, .. "\r\n"u8];

    private static byte[] Request(string path, string framing)
    {
        string Head(string type, string framingHeader) =>
            $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{(type.Length > 0 ? $"Content-Type: {type}\r\n" : "")}{framingHeader}Connection: close\r\n\r\n";
        var media = TvpPcaCodec.MediaType;
        const string Chunked = "Transfer-Encoding: chunked\r\n";
        return framing switch
        {
            "chunk size ffffffffffff" => Encoding.ASCII.GetBytes(Head(media, Chunked) + "ffffffffffff\r\n" + new string('a', 64) + "\r\n"),
            "chunk size not hex" => Encoding.ASCII.GetBytes(Head(media, Chunked) + "zz\r\nabc\r\n0\r\n\r\n"),
            "chunk longer than its size" => Encoding.ASCII.GetBytes(Head(media, Chunked) + "2\r\nabcdef\r\n0\r\n\r\n"),
            "truncated chunked body" => Encoding.ASCII.GetBytes(Head(media, Chunked) + "40\r\nabc"),
            "truncated Content-Length body" => Encoding.ASCII.GetBytes(Head(media, "Content-Length: 100\r\n") + "0123456789"),
            "declared body over 64 KiB" => Encoding.ASCII.GetBytes(Head(media, "Content-Length: 1048576\r\n")),
            "chunked body over 64 KiB" => [.. Encoding.ASCII.GetBytes(Head(media, Chunked)), .. Enumerable.Range(0, 70).SelectMany(_ => Chunk(new byte[1024])), .. "0\r\n\r\n"u8],
            "text/plain body" => Encoding.ASCII.GetBytes(Head("text/plain", "Content-Length: 3\r\n") + "abc"),
            "no content type" => Encoding.ASCII.GetBytes(Head("", "Content-Length: 3\r\n") + "abc"),
            _ => throw new ArgumentOutOfRangeException(nameof(framing)),
        };
    }

    /// <summary>Sends raw octets, optionally closes the sending side (a truncated body), and reads the status code and body.</summary>
    private async Task<(string Code, string Body)> SendAsync(byte[] request, bool halfClose)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _served.Server.BaseAddress.Port, timeout.Token);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, timeout.Token);
        }
        catch (IOException)
        {
            // The server may answer and close before it has read an oversized request.
        }

        if (halfClose)
        {
            client.Client.Shutdown(SocketShutdown.Send);
        }

        using var response = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                response.Write(buffer, 0, n);
            }
        }
        catch (IOException) when (response.Length > 0)
        {
            // A reset after the answer (Kestrel drops the rest of a rejected request).
        }
        catch (IOException)
        {
            return ("reset", string.Empty);
        }

        var text = Encoding.UTF8.GetString(response.ToArray());
        var status = text.Length >= 12 ? text[9..12] : $"no answer: '{text}'";
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var body = split < 0 ? string.Empty : text[(split + 4)..];
        if (text.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = string.Join("", body.Split("\r\n").Where((_, i) => i % 2 == 1));
        }

        return (status, body.Trim());
    }
}
