using System.Numerics;
using BenchmarkDotNet.Attributes;
using TrustStack.Daa.Tmz;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// TMZ-DAA per group: one scalar multiplication (the floor: sign ≈ 11, verify ≈ 10 of them), the
/// TPM part of Sign (commit + split signature), the whole Sign (Host part = Sign − TPM part),
/// Verify, a whole Join, and Sign with the TPM role on our engine through TPM2_Commit/TPM2_Sign.
/// </summary>
[MemoryDiagnoser]
public class DaaBenchmarks
{
    private static readonly byte[] Message = "benchmark message"u8.ToArray();
    private static readonly byte[] Basename = "verifier.example"u8.ToArray();
    private static readonly byte[] Nonce = "nonce"u8.ToArray();
    private DaaGroup _group = null!;
    private TmzIssuer _issuer = null!;
    private TmzVerifier _verifier = null!;
    private SoftwareTmzTpm _tpm = null!;
    private TmzHost _host = null!;
    private TmzSignature _signature = null!;
    private DaaHashedPoint _j = null!;
    private BigInteger _scalar;
    private SoftwareTpm? _engine;
    private Tpm2TmzTpm? _engineTpm;
    private TmzHost? _engineHost;

    /// <summary>The group.</summary>
    [Params("ristretto255", "p256")]
    public string Group { get; set; } = "p256";

    [GlobalSetup]
    public void Setup()
    {
        _group = DaaGroup.FromName(Group);
        var random = SystemRandomSource.Instance;
        _issuer = new TmzIssuer(_group, random);
        _verifier = _issuer.CreateVerifier();
        _tpm = new SoftwareTmzTpm(_group, random);
        _host = Join(_tpm);
        _signature = _host.Sign(Message, Basename, Nonce);
        _j = TmzVerifier.BasenamePoint(_group, Basename);
        _scalar = _group.RandomScalar(random);
        if (_group == DaaGroup.P256)
        {
            _engine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
            _engineTpm = new Tpm2TmzTpm(new Tpm2(_engine));
            _engineHost = Join(_engineTpm);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _engineTpm?.Dispose();
        _engine?.Dispose();
        _tpm.Dispose();
        _verifier.Dispose();
        _issuer.Dispose();
    }

    [Benchmark(Baseline = true, Description = "1 scalar multiplication (variable base)")]
    public DaaPoint ScalarMultiplication() => _group.Multiply(_j.Point, _scalar);

    [Benchmark(Description = "Sign: TPM part (commit + sign, 3 mults)")]
    public TmzTpmSignature SignTpmPart()
    {
        var commit = _tpm.Commit(_signature.Ur, _j);
        return _tpm.Sign(commit.Counter, new byte[32]);
    }

    [Benchmark(Description = "Sign: TPM + Host (11 mults)")]
    public TmzSignature Sign() => _host.Sign(Message, Basename, Nonce);

    [Benchmark(Description = "Verify (10 mults)")]
    public bool Verify() => _verifier.Verify(_signature, Message, Basename, Nonce).IsValid;

    [Benchmark(Description = "Join: TPM + Host + Issuer")]
    public TmzHost JoinAll()
    {
        using var tpm = new SoftwareTmzTpm(_group, SystemRandomSource.Instance);
        return Join(tpm);
    }

    [Benchmark(Description = "Sign with the TPM role on the engine (TPM2_Commit + TPM2_Sign ECDAA)")]
    public TmzSignature? SignOnEngine() => _engineHost?.Sign(Message, Basename, Nonce);

    private TmzHost Join(ITmzTpm tpm)
    {
        _issuer.TrustEndorsementKey(tpm.Endorsement.EkFingerprint);
        var host = new TmzHost(tpm, _issuer.PublicKey, SystemRandomSource.Instance);
        var response = _issuer.CompleteJoin(host.CreateJoinRequest(_issuer.StartJoin(tpm.Endorsement))).Response
            ?? throw new InvalidOperationException("join failed");
        host.CompleteJoin(response);
        return host;
    }
}
