using System.Net;
using System.Net.Http.Headers;

namespace TrustStack.Attestation.TvpPca.Tests;

public sealed class HttpTvpPcaTransportTests
{
    private readonly TestPlatforms _p = new();

    [Fact]
    public async Task Attest_TrustedVmsOverLoopback_EveryDecisionHolds()
    {
        await using var served = await ServedHost.StartAsync(_p.Host(new TvpPcaHostOptions { VmCount = 3 }));
        var challenger = served.RemoteChallenger(_p, seed: 1);

        Assert.Equal(served.Host.Agents.Select(a => a.VmId), served.Transport().GetVms());
        foreach (var agent in served.Host.Agents)
        {
            var a = challenger.Attest(agent.VmId);
            Assert.True(a.Result.IsTrusted, string.Join("\n", a.Result.Failures));
            Assert.Contains("lead to hardware EK", a.Result[TvpPcaCheck.SameHardwareEk].Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Attest_TamperedVmOverLoopback_UntrustedWithGuestReason()
    {
        await using var served = await ServedHost.StartAsync(_p.Host(new TvpPcaHostOptions { VmCount = 2, TamperedVms = [1] }));
        var challenger = served.RemoteChallenger(_p, seed: 2);

        Assert.True(challenger.Attest(served.Host.Agents[0].VmId).Result.IsTrusted);
        var r = challenger.Attest(served.Host.Agents[1].VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.Equal([TvpPcaCheck.GuestReferenceValues], r.Failures.Select(f => f.Check));
        Assert.True(r.Bottom.Holds);
        Assert.True(r.Sameness.Holds);
    }

    [Fact]
    public async Task Attest_VmQuoteRelayedFromAnotherServedHost_RejectedForSameness()
    {
        await using var a = await ServedHost.StartAsync(_p.Host());
        await using var b = await ServedHost.StartAsync(_p.Host(new TvpPcaHostOptions { VmCount = 1, Seed = 2 }));
        var vm = a.Host.Agents[0].VmId;
        var otherVm = b.Host.Agents[0].VmId;
        var toB = b.Transport();

        // Cuckoo: host A's VM relays N1 to a genuine VM served by host B; host A's service answers the bottom layer.
        var relay = new TamperingTransport(a.Transport()) { Top = c => toB.RequestTop(c with { VmId = otherVm }) with { VmId = vm } };
        var r = a.RemoteChallenger(_p, seed: 3, transport: relay).Attest(vm).Result;

        Assert.False(r.IsTrusted);
        Assert.True(r.Top.Holds, string.Join("\n", r.Failures));
        Assert.True(r.Bottom.Holds, string.Join("\n", r.Failures));
        Assert.False(r[TvpPcaCheck.JunctionEvent].Passed);
        Assert.False(r[TvpPcaCheck.SameHardwareEk].Passed);
    }

    [Fact]
    public async Task RequestTop_UnknownVm_Throws404()
    {
        await using var served = await ServedHost.StartAsync(_p.Host());
        var vm = Guid.Parse("00000000-0000-4000-8000-000000000001");

        var e = Assert.Throws<TvpPcaHttpException>(() => served.Transport().RequestTop(new TopChallenge(vm, [1, 2, 3])));

        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Contains(vm.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vms/{vm}/top")]
    [InlineData("bottom")]
    [InlineData("pca/endorsement")]
    public async Task Post_MalformedBody_Answers400WithReason(string route)
    {
        await using var served = await ServedHost.StartAsync(_p.Host());
        var client = served.Client();
        var path = TvpPcaRoutes.Prefix + "/" + route.Replace("{vm}", served.Host.Agents[0].VmId.ToString(), StringComparison.Ordinal);

        foreach (var body in new byte[][] { [], [TvpPcaCodec.Version], [1, 1, 0, 0, 0, 16], [TvpPcaCodec.Version, 9, 0], [.. Enumerable.Repeat((byte)0xff, 100)] })
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue(TvpPcaCodec.MediaType);
            using var response = await client.PostAsync(path, content);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.StartsWith("Malformed", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Post_Version1Challenge_Answers400NamingTheVersion()
    {
        await using var served = await ServedHost.StartAsync(_p.Host());
        var vm = served.Host.Agents[0].VmId;
        var body = TvpPcaCodec.Encode(new TopChallenge(vm, [1, 2]));
        body[0] = 1;
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(TvpPcaCodec.MediaType);

        using var response = await served.Client().PostAsync(TvpPcaRoutes.Top(vm), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("version 1", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_OtherMediaType_Answers415()
    {
        await using var served = await ServedHost.StartAsync(_p.Host());
        using var content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");

        using var response = await served.Client().PostAsync(TvpPcaRoutes.Bottom, content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task RequestBottom_EmptyNonce_Throws400()
    {
        await using var served = await ServedHost.StartAsync(_p.Host());

        var e = Assert.Throws<TvpPcaHttpException>(() => served.Transport().RequestBottom(new BottomChallenge(Guid.Empty, [])));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Contains("nonce", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attest_ConcurrentChallengers_AllTrusted()
    {
        await using var served = await ServedHost.StartAsync(_p.Host(new TvpPcaHostOptions { VmCount = 2 }));
        var runs = Enumerable.Range(0, 8).Select(i => Task.Run(() =>
        {
            var challenger = served.RemoteChallenger(_p, seed: 100 + (ulong)i);
            return challenger.Attest(served.Host.Agents[i % 2].VmId);
        }));

        var results = await Task.WhenAll(runs);

        Assert.All(results, a => Assert.True(a.Result.IsTrusted, string.Join("\n", a.Result.Failures)));
        Assert.Equal(8, results.Select(a => Convert.ToHexString(a.TopChallenge.Nonce)).Distinct().Count());
    }

    [Fact]
    public async Task Attest_PcaAnswerTamperedOnTheWire_RejectedForSameHardwareEk()
    {
        await using var served = await ServedHost.StartAsync(_p.Host());
        var tamper = new RewritingHandler((path, body) =>
        {
            if (!path.EndsWith("/pca/endorsement", StringComparison.Ordinal))
            {
                return body;
            }

            // Claim another EK: the signature no longer covers the answer.
            var a = TvpPcaCodec.DecodeEndorsementAnswer(body);
            var name = (byte[])a.EndorsementKeyName!.Clone();
            name[^1] ^= 1;
            return TvpPcaCodec.Encode(a with { EndorsementKeyName = name });
        });

        var r = served.RemoteChallenger(_p, seed: 4, pcaHandler: tamper).Attest(served.Host.Agents[0].VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.Equal([TvpPcaCheck.SameHardwareEk], r.Failures.Select(f => f.Check));
        Assert.Contains("does not verify", r[TvpPcaCheck.SameHardwareEk].Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("did not certify", r[TvpPcaCheck.SameHardwareEk].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attest_PcaOfAnotherCaServedToChallenger_RejectedForSameHardwareEk()
    {
        // The challenger trusts its own PCA; a rogue server answers with a responder of a different PCA.
        await using var served = await ServedHost.StartAsync(_p.Host());
        var rogue = new TestPlatforms(seed: 40);
        var tamper = new RewritingHandler((path, body) =>
        {
            if (!path.EndsWith("/pca/endorsement", StringComparison.Ordinal))
            {
                return body;
            }

            var a = TvpPcaCodec.DecodeEndorsementAnswer(body);
            return TvpPcaCodec.Encode(rogue.Pca.Answer(new EndorsementQuery(a.Nonce, a.CertificateDigest)) with { EndorsementKeyName = a.EndorsementKeyName });
        });

        var r = served.RemoteChallenger(_p, seed: 5, pcaHandler: tamper).Attest(served.Host.Agents[0].VmId).Result;

        Assert.False(r.IsTrusted);
        Assert.Contains("not an endorsement responder of the trusted Privacy CA", r[TvpPcaCheck.SameHardwareEk].Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RequestBottom_PeerSilentOrTrickling_TimeoutExceptionNamingThePeer(bool sendHeaders)
    {
        // A peer that accepts and never answers, or answers headers and then one octet of a 100-octet body.
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var peer = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(stop.Token);
            var buffer = new byte[4096];
            await socket.ReceiveAsync(buffer, stop.Token);
            if (sendHeaders)
            {
                await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.truststack.tvppca.v2\r\nContent-Length: 100\r\n\r\nx"u8.ToArray(), stop.Token);
            }

            await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var transport = new HttpTvpPcaTransport(http) { Timeout = TimeSpan.FromSeconds(1) };
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var e = Assert.Throws<TimeoutException>(() => transport.RequestBottom(new BottomChallenge(Guid.Empty, new byte[32])));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(20));
        Assert.Contains($"the attestation service at http://127.0.0.1:{port}/tvppca/v2/bottom did not answer within 1 s", e.Message, StringComparison.Ordinal);
        await stop.CancelAsync();
        await peer;
    }

    [Fact]
    public void Timeout_ZeroOrNegative_Throws()
    {
        using var http = new HttpClient();

        Assert.Equal(TvpPcaRoutes.DefaultTimeout, new HttpTvpPcaTransport(http).Timeout);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpTvpPcaTransport(http) { Timeout = TimeSpan.Zero });
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpEndorsementDirectory(http, _p.Pca.Ca.Certificate, _p.Clock, TrustStack.Tpm.Hardware.DeterministicRandomSource.FromSeed(1)) { Timeout = TimeSpan.FromSeconds(-1) });
        Assert.Equal(Timeout.InfiniteTimeSpan, new HttpTvpPcaTransport(http) { Timeout = Timeout.InfiniteTimeSpan }.Timeout);
    }
}
