using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// The engine's hot paths through the typed client, in process: what one command costs in time and
/// allocations beyond its cryptography (dispatch, authorization, response building).
/// </summary>
[MemoryDiagnoser]
public class EngineDispatchBenchmarks
{
    private static readonly byte[] Nonce = SHA256.HashData("nonce"u8);
    private static readonly byte[] Digest = SHA256.HashData("digest"u8);
    private static readonly PcrSelectionList EightPcrs = PcrSelectionList.Create(TpmAlgId.Sha256, 0, 1, 2, 3, 4, 5, 6, 7);

    private SoftwareTpm _tpm = null!;
    private Tpm2 _client = null!;
    private uint _ak;
    private uint _signingKey;
    private TpmSession _hmac = null!;

    [GlobalSetup]
    public void Setup()
    {
        _tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        _client = new Tpm2(_tpm);
        _ak = _client.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256()).Handle;
        _signingKey = _client.CreatePrimary(TpmRh.Owner, TpmTemplates.SigningEccP256()).Handle;
        _hmac = _client.StartAuthSession(TpmSe.Hmac);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _hmac.Dispose();
        _tpm.Dispose();
    }

    /// <summary>TPM2_PCR_Extend of one SHA-256 digest, password authorization.</summary>
    [Benchmark]
    public void PcrExtend() => _client.PcrExtend(16, TpmAlgId.Sha256, Digest);

    /// <summary>TPM2_Quote over eight PCRs with an ECC P-256 AK, password authorization.</summary>
    [Benchmark]
    public QuoteResult Quote() => _client.Quote(_ak, Nonce, EightPcrs);

    /// <summary>TPM2_Quote as tpm2_quote sends it: under an unbound, unsalted HMAC session.</summary>
    [Benchmark]
    public QuoteResult QuoteHmacSession() => _client.Quote(_ak, Nonce, EightPcrs, auth: TpmAuthorization.Session(_hmac));

    /// <summary>TPM2_Sign of a SHA-256 digest with an ECC P-256 key.</summary>
    [Benchmark]
    public TpmtSignature Sign() => _client.Sign(_signingKey, Digest);

    /// <summary>TPM2_GetRandom: dispatch and response building alone.</summary>
    [Benchmark]
    public byte[] GetRandom() => _client.GetRandom(16);
}
