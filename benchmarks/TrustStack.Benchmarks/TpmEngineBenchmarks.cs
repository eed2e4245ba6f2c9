using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// In-process latency of the software TPM's hot commands, through the typed client and the full
/// command/response marshalling (compare with libtpms in shared/design/tpm.md: PCR_Extend 0.01 ms,
/// Quote ECC P-256 0.26 ms, Sign ECC P-256 0.28 ms, CreatePrimary ECC P-256 0.30 ms, RSA-2048 10–60 ms).
/// </summary>
[MemoryDiagnoser]
public class TpmEngineBenchmarks
{
    private readonly byte[] _digest = SHA256.HashData("benchmark"u8);
    private readonly byte[] _nonce = new byte[32];
    private SoftwareTpm _engine = null!;
    private Tpm2 _tpm = null!;
    private uint _eccAk;
    private uint _rsaAk;
    private uint _eccSigner;
    private PcrSelectionList _selection = null!;

    [GlobalSetup]
    public void Setup()
    {
        _engine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, MaxTransientObjects = 8 });
        _tpm = new Tpm2(_engine);
        _eccAk = _tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256()).Handle;
        _rsaAk = _tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkRsa2048()).Handle;
        _eccSigner = _tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256()).Handle;
        _selection = PcrSelectionList.Create(TpmAlgId.Sha256, 0, 1, 2, 3, 4, 5, 6, 7);
    }

    [GlobalCleanup]
    public void Cleanup() => _engine.Dispose();

    [Benchmark(Description = "PCR_Extend (SHA-256)")]
    public void PcrExtend() => _tpm.PcrExtend(16, TpmAlgId.Sha256, _digest);

    [Benchmark(Description = "Quote ECC P-256 (8 PCRs)")]
    public TpmtSignature QuoteEcc() => _tpm.Quote(_eccAk, _nonce, _selection).Signature;

    [Benchmark(Description = "Quote RSA-2048 (8 PCRs)")]
    public TpmtSignature QuoteRsa() => _tpm.Quote(_rsaAk, _nonce, _selection).Signature;

    [Benchmark(Description = "Sign ECC P-256")]
    public TpmtSignature SignEcc() => _tpm.Sign(_eccSigner, _digest);

    [Benchmark(Description = "CreatePrimary ECC P-256 (+Flush)")]
    public void CreatePrimaryEcc() => _tpm.FlushContext(_tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256()).Handle);

    [Benchmark(Description = "CreatePrimary RSA-2048 (+Flush)")]
    public void CreatePrimaryRsa() => _tpm.FlushContext(_tpm.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkRsa2048()).Handle);
}
