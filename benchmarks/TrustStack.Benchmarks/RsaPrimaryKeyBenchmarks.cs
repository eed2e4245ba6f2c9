using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// Primary key derivation: every invocation derives a new key (the sensitive data changes), so the
/// RSA figure is the average over many prime searches, as a TPM meets them.
/// </summary>
[MemoryDiagnoser]
public class RsaPrimaryKeyBenchmarks
{
    private readonly byte[] _seed = SHA256.HashData("benchmark hierarchy seed"u8);
    private readonly TpmtPublic _rsaSrk = TpmTemplates.SrkRsa2048();
    private readonly TpmtPublic _eccSrk = TpmTemplates.SrkEccP256();
    private uint _counter;

    /// <summary>KeyGenerator.CreatePrimary for an RSA-2048 storage key (prime search, KDF stream, modulus).</summary>
    [Benchmark]
    public TpmtPublic CreatePrimaryRsa2048() => Create(_rsaSrk);

    /// <summary>The same for ECC P-256, for scale.</summary>
    [Benchmark]
    public TpmtPublic CreatePrimaryEccP256() => Create(_eccSrk);

    private TpmtPublic Create(TpmtPublic template)
    {
        var data = BitConverter.GetBytes(++_counter);
        var (pub, sensitive) = KeyGenerator.CreatePrimary(null, _seed, template, new TpmsSensitiveCreate([], data));
        sensitive.Dispose();
        return pub;
    }
}
