using System.Numerics;
using BenchmarkDotNet.Attributes;
using TrustStack.Daa.Tmz;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// The group operations TMZ-DAA is made of, per group: k·G, k·P for a point seen for the first
/// time (decoded per call, so no per-point precomputation can be reused), k·P for a long-lived
/// point (multiplied before), k·P for a long-lived base marked fixed (P-256: comb), multi-scalar
/// multiplications of 2 and 3 terms, hash to the group, decoding.
/// </summary>
[MemoryDiagnoser]
public class DaaGroupBenchmarks
{
    private DaaGroup _group = null!;
    private byte[] _freshEncoding = null!;
    private DaaPoint _longLived = null!;
    private DaaPoint _other = null!;
    private DaaPoint _third = null!;
    private DaaPoint _fixedBase = null!;
    private BigInteger _k1;
    private BigInteger _k2;
    private BigInteger _k3;
    private int _counter;

    /// <summary>The group.</summary>
    [Params("ristretto255", "p256")]
    public string Group { get; set; } = "p256";

    [GlobalSetup]
    public void Setup()
    {
        _group = DaaGroup.FromName(Group);
        var random = SystemRandomSource.Instance;
        _longLived = _group.HashToGroup("bench", "a"u8);
        _other = _group.HashToGroup("bench", "b"u8);
        _third = _group.HashToGroup("bench", "c"u8);
        _freshEncoding = _group.HashToGroup("bench", "d"u8).ToArray();
        _k1 = _group.RandomScalar(random);
        _k2 = _group.RandomScalar(random);
        _k3 = _group.RandomScalar(random);
        _group.Multiply(_longLived, _k1);
        _fixedBase = _group.FixedBase(_group.HashToGroup("bench", "e"u8));
        _group.Multiply(_fixedBase, _k1);
    }

    [Benchmark(Description = "k·G (generator)")]
    public DaaPoint MultiplyGenerator() => _group.Multiply(_group.Generator, _k1);

    [Benchmark(Baseline = true, Description = "k·P (point decoded per call)")]
    public DaaPoint MultiplyFreshPoint() => _group.Multiply(_group.Decode(_freshEncoding), _k1);

    [Benchmark(Description = "k·P (long-lived point)")]
    public DaaPoint MultiplyLongLivedPoint() => _group.Multiply(_longLived, _k1);

    [Benchmark(Description = "k·P (long-lived base marked fixed: comb on P-256)")]
    public DaaPoint MultiplyFixedBase() => _group.Multiply(_fixedBase, _k1);

    [Benchmark(Description = "k1·P1 + k2·P2 (multi-scalar)")]
    public DaaPoint MultiScalar2() => _group.MultiplyAdd([(_longLived, _k1), (_other, _k2)]);

    [Benchmark(Description = "k1·P1 + k2·P2 + k3·P3 (multi-scalar)")]
    public DaaPoint MultiScalar3() => _group.MultiplyAdd([(_longLived, _k1), (_other, _k2), (_third, _k3)]);

    [Benchmark(Description = "hash to group")]
    public DaaPoint HashToGroup() => _group.HashToGroup("bench", BitConverter.GetBytes(_counter++));

    [Benchmark(Description = "decode")]
    public DaaPoint Decode() => _group.Decode(_freshEncoding);
}
