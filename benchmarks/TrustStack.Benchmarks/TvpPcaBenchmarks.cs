using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using TrustStack.Attestation.TvpPca;
using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// A captured TVP-PCA transcript of a seeded one-VM platform under a fixed clock, and the
/// challenger's verifier for it: what the appraisal benchmarks replay.
/// </summary>
internal sealed class TvpPcaTranscript : IDisposable
{
    public TvpPcaTranscript()
    {
        Clock = new FixedTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var manufacturer = new ManufacturerCa(DeterministicRandomSource.FromSeed(11), Clock);
        Pca = new TvpPcaPrivacyCa(new PrivacyCa([manufacturer.Certificate], DeterministicRandomSource.FromSeed(12), Clock));
        Host = TvpPcaHost.Create(Pca, manufacturer, Clock, new TvpPcaHostOptions { VmCount = 1 });
        Verifier = TvpPcaHost.CreateVerifier(Pca, Clock, TvpPcaHost.ExpectedReferences);
        Challenger = new Challenger(Host.Transport, Verifier, DeterministicRandomSource.FromSeed(99));
        Captured = Challenger.Attest(Host.Agents[0].VmId);
        if (!Captured.Result.IsTrusted)
        {
            throw new InvalidOperationException("The captured attestation is not trusted: " + string.Join("; ", Captured.Result.Failures));
        }

        TopChallengeOctets = TvpPcaCodec.Encode(Captured.TopChallenge);
        TopResponseOctets = TvpPcaCodec.Encode(Captured.TopResponse);
        BottomResponseOctets = TvpPcaCodec.Encode(Captured.BottomResponse);
    }

    public FixedTimeProvider Clock { get; }

    public TvpPcaPrivacyCa Pca { get; }

    public TvpPcaHost Host { get; }

    public TvpPcaVerifier Verifier { get; }

    public Challenger Challenger { get; }

    public TvpPcaAttestation Captured { get; }

    public byte[] TopChallengeOctets { get; }

    public byte[] TopResponseOctets { get; }

    public byte[] BottomResponseOctets { get; }

    /// <summary>One appraisal of the captured (decoded) messages: two quotes, the certificate chains, both logs.</summary>
    public TvpPcaResult Appraise() => Verifier.Verify(Captured.TopChallenge, Captured.TopResponse, Captured.BottomResponse);

    /// <summary>One appraisal of the messages as they arrive on a wire: decode all three, then verify.</summary>
    public TvpPcaResult AppraiseFromWire() => Verifier.Verify(
        TvpPcaCodec.DecodeTopChallenge(TopChallengeOctets),
        TvpPcaCodec.DecodeTopResponse(TopResponseOctets),
        TvpPcaCodec.DecodeBottomResponse(BottomResponseOctets));

    public void Dispose() => Host.Dispose();
}

/// <summary>
/// Attestation.TvpPca: the challenger's appraisal of one captured top-down attestation (two quote
/// signatures and PCR digests, the vAIK → vEK → VMEK chain and the AIK certificate, guest and
/// platform log replay, reference values, junction event, nonce chain), the same from the
/// encoded messages, and one whole challenge in process (agent and service quote on their
/// engines, every message through the codec).
/// </summary>
[MemoryDiagnoser]
public class TvpPcaBenchmarks
{
    private TvpPcaTranscript _t = null!;

    private TvpPcaHttpServer _server = null!;
    private HttpClient _http = null!;
    private Challenger _remote = null!;

    [GlobalSetup]
    public void Setup()
    {
        _t = new TvpPcaTranscript();

        // The same host served over HTTP on 127.0.0.1; the remote challenger asks the PCA over HTTP too.
        _server = TvpPcaHttpServer.StartAsync(app => app.MapTvpPca(_t.Host)).GetAwaiter().GetResult();
        _http = new HttpClient { BaseAddress = _server.BaseAddress };
        var directory = new HttpEndorsementDirectory(_http, _t.Pca.Ca.Certificate, _t.Clock, DeterministicRandomSource.FromSeed(98));
        _remote = new Challenger(new HttpTvpPcaTransport(_http), directory.CreateVerifier(TvpPcaHost.ExpectedReferences), DeterministicRandomSource.FromSeed(97));
        if (!EndToEndChallengeLoopback())
        {
            throw new InvalidOperationException("The loopback attestation is not trusted.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _http.Dispose();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _t.Dispose();
    }

    [Benchmark(Description = "Appraisal (TvpPcaVerifier.Verify on a captured transcript)")]
    public bool Appraisal() => _t.Appraise().IsTrusted;

    [Benchmark(Description = "Appraisal from the wire (decode 3 messages + Verify)")]
    public bool AppraisalFromWire() => _t.AppraiseFromWire().IsTrusted;

    [Benchmark(Description = "End-to-end challenge in process (Challenger.Attest)")]
    public bool EndToEndChallenge() => _t.Challenger.Attest(_t.Host.Agents[0].VmId).Result.IsTrusted;

    [Benchmark(Description = "End-to-end challenge over loopback HTTP (agent, service and PCA query on 127.0.0.1)")]
    public bool EndToEndChallengeLoopback() => _remote.Attest(_t.Host.Agents[0].VmId).Result.IsTrusted;
}

/// <summary><c>tvppca-throughput [seconds]</c>: appraisals per second of a captured transcript on 1 and on 2 threads.</summary>
public static class TvpPcaThroughput
{
    /// <summary>Runs the measurement and prints a table.</summary>
    /// <param name="output">Where to print.</param>
    /// <param name="seconds">How long each configuration runs.</param>
    public static void Run(TextWriter output, double seconds = 5)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var t = new TvpPcaTranscript();
        for (var i = 0; i < 50; i++)
        {
            Check(t.Appraise()); // warm up (JIT, caches)
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"TVP-PCA appraisal throughput ({Environment.ProcessorCount} logical processors, {seconds:0.#} s per row)"));
        output.WriteLine("On a machine shared with other work, appraisals per CPU-second (process CPU time) is the steadier figure.");
        output.WriteLine("| threads | appraisals | seconds | appraisals/s | per CPU-second | from the wire: appraisals/s | from the wire: per CPU-second |");
        output.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var threads in new[] { 1, 2 })
        {
            var (n, elapsed, cpu) = Measure(threads, seconds, t.Appraise);
            var (w, wireElapsed, wireCpu) = Measure(threads, seconds, t.AppraiseFromWire);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {threads} | {n} | {elapsed:0.00} | {n / elapsed:0} | {n / cpu:0} | {w / wireElapsed:0} | {w / wireCpu:0} |"));
        }

        output.WriteLine();
        Breakdown(output, t);
    }

    /// <summary>Where one appraisal's time goes: each part alone, in microseconds of wall time (1 thread).</summary>
    /// <param name="output">Where to print.</param>
    /// <param name="t">The transcript.</param>
    internal static void Breakdown(TextWriter output, TvpPcaTranscript t)
    {
        var a = t.Captured;
        var n2 = Challenger.ChainNonce(a.TopChallenge.Nonce, a.TopResponse.Quote.Attest);
        var refs = TvpPcaHost.ExpectedReferences with { TrustedHardwareAks = [a.BottomResponse.Quote.SigningKey.GetName()] };
        var evidence = new VTpm.Core.TvpQtEvidence(a.TopChallenge.VmId, a.TopResponse.VEkPublic, a.BottomResponse.Quote, a.TopResponse.Quote, a.BottomResponse.PlatformEventLog, a.TopResponse.GuestEventLog);
        var challenge = new VTpm.Core.TvpQtChallenge(n2, a.TopChallenge.Nonce);
        var validator = new CertificateChainValidator([t.Pca.Ca.Certificate], t.Clock);
        validator.AddCrl(t.Pca.Ca.BuildCrl());
        var quote = a.TopResponse.Quote;
        var digest = System.Security.Cryptography.SHA256.HashData(quote.Attest);
        var ieee = new byte[64];
        quote.Signature.SignatureR.CopyTo(ieee, 32 - quote.Signature.SignatureR.Length);
        quote.Signature.SignatureS.CopyTo(ieee, 64 - quote.Signature.SignatureS.Length);
        using var imported = TpmPublicKeys.ToECDsa(quote.SigningKey);
        var parts = new (string Name, Action Run)[]
        {
            ("import a quote key (TpmPublicKeys.ToECDsa)", () => TpmPublicKeys.ToECDsa(quote.SigningKey).Dispose()),
            ("ECDSA P-256 verify with an imported key", () => imported.VerifyHash(digest, ieee, System.Security.Cryptography.DSASignatureFormat.IeeeP1363FixedFieldConcatenation)),
            ("parse both event logs", () =>
            {
                TcgEventLog.Parse(a.TopResponse.GuestEventLog);
                TcgEventLog.Parse(a.BottomResponse.PlatformEventLog);
            }),
            ("whole appraisal", () => t.Appraise()),
            ("quotes, logs, references (TvpQtVerifier)", () => VTpm.Core.TvpQtVerifier.Verify(evidence, challenge, refs)),
            ("AIK certificate", () => validator.Validate([a.BottomResponse.AikCertificate], new ChainExpectations { Profile = CertificateProfile.AttestationKey, SubjectKey = a.BottomResponse.Quote.SigningKey })),
            ("vAIK certificate", () => validator.Validate([a.TopResponse.VAikChain[0]], new ChainExpectations { Profile = CertificateProfile.AttestationKey, SubjectKey = a.TopResponse.Quote.SigningKey })),
            ("vEK -> VMEK chain", () => validator.Validate([.. a.TopResponse.VAikChain.Skip(1)], new ChainExpectations { Profile = CertificateProfile.VEk, SubjectKey = a.TopResponse.VEkPublic, VmId = a.TopChallenge.VmId })),
            ("decode the three messages", () =>
            {
                TvpPcaCodec.DecodeTopChallenge(t.TopChallengeOctets);
                TvpPcaCodec.DecodeTopResponse(t.TopResponseOctets);
                TvpPcaCodec.DecodeBottomResponse(t.BottomResponseOctets);
            }),
        };
        output.WriteLine("| part | µs per call (1 thread) |");
        output.WriteLine("|---|---|");
        foreach (var (name, run) in parts)
        {
            const int Iterations = 200;
            for (var i = 0; i < 20; i++)
            {
                run();
            }

            var clock = Stopwatch.StartNew();
            for (var i = 0; i < Iterations; i++)
            {
                run();
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {clock.Elapsed.TotalMicroseconds / Iterations:0} |"));
        }
    }

    private static (long Count, double Seconds, double CpuSeconds) Measure(int threads, double seconds, Func<TvpPcaResult> appraise)
    {
        long total = 0;
        using var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
        {
            long local = 0;
            while (clock.Elapsed < deadline)
            {
                Check(appraise());
                local++;
            }

            Interlocked.Add(ref total, local);
        });
        var elapsed = clock.Elapsed.TotalSeconds;
        process.Refresh();
        return (total, elapsed, (process.TotalProcessorTime - cpu0).TotalSeconds);
    }

    private static void Check(TvpPcaResult r)
    {
        if (!r.IsTrusted)
        {
            throw new InvalidOperationException("An appraisal of the trusted transcript failed: " + string.Join("; ", r.Failures));
        }
    }
}
