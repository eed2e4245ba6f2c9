using System.Globalization;
using System.Numerics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using TrustStack.Daa.Tmz;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// ECDAA (BN_P256, pairings) beside TMZ-DAA (P-256) in the same run, grouped by operation: the TPM
/// part of Sign, the Host part of Sign (the TPM role replaced by a stub returning a fixed
/// commitment, so only host work is timed), the whole Sign, and Verify. The TMZ-DAA row of each
/// category is the baseline, so the Ratio column is the measured ECDAA/TMZ-DAA ratio and the
/// "NS predicted" column the normalized-statistics model's (default CPU profile). Also one pairing
/// and single G1/G2 scalar multiplications.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[Config(typeof(PredictedRatioConfig))]
public class EcdaaBenchmarks
{
    private static readonly byte[] Message = "benchmark message"u8.ToArray();
    private static readonly byte[] Basename = "verifier.example"u8.ToArray();
    private static readonly byte[] Nonce = "nonce"u8.ToArray();

    private EcdaaIssuer _issuer = null!;
    private EcdaaVerifier _verifier = null!;
    private SoftwareEcdaaTpm _tpm = null!;
    private EcdaaHost _host = null!;
    private EcdaaHost _hostOnly = null!;
    private EcdaaSignature _signature = null!;
    private BnHashedG1Point _j = null!;
    private BigInteger _scalar;
    private BnGtElement _gt = null!;
    private Fp _fp;

    private TmzIssuer _tmzIssuer = null!;
    private TmzVerifier _tmzVerifier = null!;
    private SoftwareTmzTpm _tmzTpm = null!;
    private TmzHost _tmzHost = null!;
    private TmzHost _tmzHostOnly = null!;
    private TmzSignature _tmzSignature = null!;
    private DaaHashedPoint _tmzJ = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = SystemRandomSource.Instance;
        _issuer = new EcdaaIssuer(random);
        _verifier = new EcdaaVerifier(_issuer.PublicKey, _issuer.RogueList);
        _tpm = new SoftwareEcdaaTpm(random);
        _host = new EcdaaHost(_tpm, _issuer.PublicKey, random);
        var response = _issuer.CompleteJoin(_host.CreateJoinRequest(_issuer.StartJoin())).Response ?? throw new InvalidOperationException("ECDAA join failed");
        _host.CompleteJoin(response);
        _signature = _host.Sign(Message, Basename, Nonce);
        _j = EcdaaVerifier.BasenamePoint(Basename);
        _scalar = BnP256.RandomScalar(random);
        _gt = BnP256.Pair(_signature.R, _issuer.PublicKey.X);
        _fp = Fp.FromBigInteger(_scalar);
        _hostOnly = new EcdaaHost(new FixedEcdaaTpm(_tpm, _signature.S, _j), _issuer.PublicKey, random);
        _hostOnly.UseCredential(_host.Credential!);

        var g = DaaGroup.P256;
        _tmzIssuer = new TmzIssuer(g, random);
        _tmzVerifier = _tmzIssuer.CreateVerifier();
        _tmzTpm = new SoftwareTmzTpm(g, random);
        _tmzIssuer.TrustEndorsementKey(_tmzTpm.Endorsement.EkFingerprint);
        _tmzHost = new TmzHost(_tmzTpm, _tmzIssuer.PublicKey, random);
        var tmzResponse = _tmzIssuer.CompleteJoin(_tmzHost.CreateJoinRequest(_tmzIssuer.StartJoin(_tmzTpm.Endorsement))).Response ?? throw new InvalidOperationException("TMZ-DAA join failed");
        _tmzHost.CompleteJoin(tmzResponse);
        _tmzSignature = _tmzHost.Sign(Message, Basename, Nonce);
        _tmzJ = TmzVerifier.BasenamePoint(g, Basename);
        _tmzHostOnly = new TmzHost(new FixedTmzTpm(_tmzTpm, _tmzSignature.Ur, _tmzJ), _tmzIssuer.PublicKey, random);
        _tmzHostOnly.UseCredential(tmzResponse.Credential);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _tpm.Dispose();
        _issuer.Dispose();
        _tmzTpm.Dispose();
        _tmzVerifier.Dispose();
        _tmzIssuer.Dispose();
    }

    [Benchmark(Description = "BN_P256 pairing e(P, Q), Q prepared (its lines kept)")]
    [BenchmarkCategory("Primitives")]
    public BnGtElement Pairing() => BnP256.Pair(_signature.R, _issuer.PublicKey.Y);

    [Benchmark(Description = "BN_P256 pairing e(P, Q), fresh Q (lines computed)")]
    [BenchmarkCategory("Primitives")]
    public BnGtElement PairingFreshG2() => BnP256.Pair(_signature.R, _issuer.PublicKey.Y.Negate());

    [Benchmark(Description = "BN_P256 e(P, Q)·e(R, S), one final exponentiation")]
    [BenchmarkCategory("Primitives")]
    public BnGtElement PairingProduct() => BnP256.PairProduct([(_signature.R, _issuer.PublicKey.Y), (_signature.S, BnP256.G2Generator)]);

    [Benchmark(Description = "BN_P256 Fp multiplication", OperationsPerInvoke = 1000)]
    [BenchmarkCategory("Field")]
    public int FpMultiplication()
    {
        var x = _fp;
        for (var i = 0; i < 1000; i++)
        {
            x *= _fp;
        }

        return x.GetHashCode();
    }

    [Benchmark(Description = "BN_P256 Fp12 multiplication", OperationsPerInvoke = 100)]
    [BenchmarkCategory("Field")]
    public int Fp12Multiplication()
    {
        var x = _gt.Value;
        for (var i = 0; i < 100; i++)
        {
            x *= _gt.Value;
        }

        return x.GetHashCode();
    }

    [Benchmark(Description = "BN_P256 Fp12 cyclotomic squaring", OperationsPerInvoke = 100)]
    [BenchmarkCategory("Field")]
    public int Fp12CyclotomicSquaring()
    {
        var x = _gt.Value;
        for (var i = 0; i < 100; i++)
        {
            x = x.CyclotomicSquare();
        }

        return x.GetHashCode();
    }

    [Benchmark(Description = "BN_P256 G1 Jacobian k·P, w-NAF (no encoding)")]
    [BenchmarkCategory("Field")]
    public bool G1JacobianWnaf() => _j.Point.ToJacobian().Multiply(_scalar).IsInfinity;

    [Benchmark(Description = "BN_P256 G1 Jacobian k·P, double-and-add (no encoding)")]
    [BenchmarkCategory("Field")]
    public bool G1JacobianDoubleAndAdd() => _j.Point.ToJacobian().MultiplyDoubleAndAdd(_scalar).IsInfinity;

    [Benchmark(Description = "BN_P256 GT exponentiation")]
    [BenchmarkCategory("Primitives")]
    public BnGtElement GtExponentiation() => _gt.Pow(_scalar);

    [Benchmark(Description = "BN_P256 G1 scalar multiplication")]
    [BenchmarkCategory("Primitives")]
    public BnG1Point G1Multiplication() => _j.Point.Multiply(_scalar);

    [Benchmark(Description = "BN_P256 G2 scalar multiplication")]
    [BenchmarkCategory("Primitives")]
    public BnG2Point G2Multiplication() => _issuer.PublicKey.X.Multiply(_scalar);

    [Benchmark(Baseline = true, Description = "TMZ-DAA P-256: Sign, TPM part")]
    [BenchmarkCategory("Sign TPM")]
    public TmzTpmSignature TmzSignTpm()
    {
        var commit = _tmzTpm.Commit(_tmzSignature.Ur, _tmzJ);
        return _tmzTpm.Sign(commit.Counter, new byte[32]);
    }

    [Benchmark(Description = "ECDAA BN_P256: Sign, TPM part")]
    [BenchmarkCategory("Sign TPM")]
    public EcdaaTpmSignature EcdaaSignTpm()
    {
        var commit = _tpm.Commit(_signature.S, _j);
        return _tpm.Sign(commit.Counter, new byte[32]);
    }

    [Benchmark(Baseline = true, Description = "TMZ-DAA P-256: Sign, Host part")]
    [BenchmarkCategory("Sign Host")]
    public TmzSignature TmzSignHost() => _tmzHostOnly.Sign(Message, Basename, Nonce);

    [Benchmark(Description = "ECDAA BN_P256: Sign, Host part")]
    [BenchmarkCategory("Sign Host")]
    public EcdaaSignature EcdaaSignHost() => _hostOnly.Sign(Message, Basename, Nonce);

    [Benchmark(Baseline = true, Description = "TMZ-DAA P-256: Sign, TPM + Host")]
    [BenchmarkCategory("Sign")]
    public TmzSignature TmzSign() => _tmzHost.Sign(Message, Basename, Nonce);

    [Benchmark(Description = "ECDAA BN_P256: Sign, TPM + Host")]
    [BenchmarkCategory("Sign")]
    public EcdaaSignature EcdaaSign() => _host.Sign(Message, Basename, Nonce);

    [Benchmark(Baseline = true, Description = "TMZ-DAA P-256: Verify")]
    [BenchmarkCategory("Verify")]
    public bool TmzVerify() => _tmzVerifier.Verify(_tmzSignature, Message, Basename, Nonce).IsValid;

    [Benchmark(Description = "ECDAA BN_P256: Verify (4 pairings)")]
    [BenchmarkCategory("Verify")]
    public bool EcdaaVerify() => _verifier.Verify(_signature, Message, Basename, Nonce).IsValid;

    /// <summary>The NS model's ECDAA/TMZ-DAA(P-256) cycle ratio for a benchmark category (default CPU profile).</summary>
    internal static double? PredictedRatio(string category)
    {
        var profile = NsCpuProfile.Default;
        double Cycles(NsProtocol p, NsEntity? entity, NsPhase phase) =>
            NsCostModel.Evaluate(p, profile).Where(r => r.Phase == phase && (entity is null || r.Entity == entity)).Sum(r => r.Cycles);
        double Ratio(NsEntity? entity, NsPhase phase) => Cycles(NsProtocols.Ecdaa(), entity, phase) / Cycles(NsProtocols.TmzDaa(DaaGroup.P256), entity, phase);
        return category switch
        {
            "Sign TPM" => Ratio(NsEntity.Tpm, NsPhase.Sign),
            "Sign Host" => Ratio(NsEntity.Host, NsPhase.Sign),
            "Sign" => Ratio(null, NsPhase.Sign),
            "Verify" => Ratio(NsEntity.Verifier, NsPhase.Verify),
            _ => null,
        };
    }

    /// <summary>Adds the "NS predicted" column.</summary>
    private sealed class PredictedRatioConfig : ManualConfig
    {
        public PredictedRatioConfig() => AddColumn(new PredictedRatioColumn());
    }

    /// <summary>The model's predicted ECDAA/TMZ-DAA ratio on the ECDAA row of each category (1 on the baseline).</summary>
    private sealed class PredictedRatioColumn : IColumn
    {
        public string Id => "NsPredictedRatio";

        public string ColumnName => "NS predicted";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "The normalized-statistics model's ECDAA/TMZ-DAA(P-256) cycle ratio for this category (default CPU profile)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        {
            var category = benchmarkCase.Descriptor.Categories.FirstOrDefault() ?? string.Empty;
            var ratio = PredictedRatio(category);
            return ratio is null ? "-" : benchmarkCase.Descriptor.Baseline ? "1.00" : ratio.Value.ToString("F2", CultureInfo.InvariantCulture);
        }

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }

    /// <summary>A TPM role that returns a fixed commitment and signature, so the Host's work alone is timed.</summary>
    private sealed class FixedEcdaaTpm(IEcdaaTpm inner, BnG1Point s, BnHashedG1Point j) : IEcdaaTpm
    {
        private readonly EcdaaCommitment _commitment = new(s, j.Point, j.Point, 0);
        private readonly EcdaaTpmSignature _signature = new(new byte[32], BigInteger.One);

        public BnG1Point PublicKey => inner.PublicKey;

        public EcdaaCommitment Commit(BnG1Point? p1, BnHashedG1Point? basename) => _commitment;

        public EcdaaTpmSignature Sign(ushort counter, byte[] digest) => _signature;
    }

    /// <summary>The TMZ-DAA counterpart of <see cref="FixedEcdaaTpm"/>.</summary>
    private sealed class FixedTmzTpm(ITmzTpm inner, DaaPoint ur, DaaHashedPoint j) : ITmzTpm
    {
        private readonly TmzCommitment _commitment = new(ur, j.Point, j.Point, 0);
        private readonly TmzTpmSignature _signature = new(new byte[32], BigInteger.One);

        public DaaGroup Group => inner.Group;

        public DaaPoint PublicKey => inner.PublicKey;

        public TmzEndorsement Endorsement => inner.Endorsement;

        public byte[] ActivateCredential(TpmCredential credential) => inner.ActivateCredential(credential);

        public TmzCommitment Commit(DaaPoint? p1, DaaHashedPoint? basename) => _commitment;

        public TmzTpmSignature Sign(ushort counter, byte[] digest) => _signature;
    }
}
