using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// What the engine's durable state costs per command, with the state file in the clear and
/// AES-256-GCM encrypted (<see cref="SoftwareTpmOptions.StateEncryptionKey"/>): TPM2_NV_Increment
/// writes the whole state file (temporary file 0600, fsync, rename) before it answers, as
/// <c>tpm serve</c> does; TPM2_PCR_Extend writes nothing (PCRs are volatile, Part 1 §36.4); and the
/// encryption of one state image alone. The state folder is under the system temporary folder,
/// which must be a real disk for the fsync to count.
/// </summary>
[MemoryDiagnoser]
public class StateFileBenchmarks
{
    private const uint Counter = 0x0150_0100;
    private readonly byte[] _digest = SHA256.HashData("benchmark"u8);
    private DirectoryInfo _dir = null!;
    private TpmStateKey? _key;
    private SoftwareTpm _engine = null!;
    private Tpm2 _tpm = null!;
    private byte[] _image = null!;
    private ITpmSecret _secret = null!;
    private byte[] _keyId = null!;

    /// <summary>clear or encrypted.</summary>
    [Params("clear", "encrypted")]
    public string StateFile { get; set; } = "clear";

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("truststack-bench-state-");
        _key = StateFile == "encrypted" ? TpmStateKey.Generate() : null;
        _engine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, StateDirectory = _dir.FullName, StateEncryptionKey = _key });
        _tpm = new Tpm2(_engine);
        _tpm.NvDefineSpace(TpmRh.Owner, new TpmsNvPublic(Counter, TpmAlgId.Sha256, TpmaNv.OwnerRead | TpmaNv.OwnerWrite | TpmaNv.TypeCounter, [], 8), []);
        _image = _engine.ExportState();
        using var key = TpmStateKey.Generate();
        Span<byte> k = stackalloc byte[TpmStateKey.Size];
        key.CopyTo(k);
        _secret = ManagedSecretStore.Instance.Store(k, "bench");
        _keyId = key.KeyId.ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _engine.Dispose();
        _key?.Dispose();
        _secret.Dispose();
        _dir.Delete(recursive: true);
    }

    [Benchmark(Description = "NV_Increment (state file written, fsync)")]
    public void NvIncrement() => _tpm.NvIncrement(TpmRh.Owner, Counter);

    [Benchmark(Description = "PCR_Extend (SHA-256, no state write)")]
    public void PcrExtend() => _tpm.PcrExtend(16, TpmAlgId.Sha256, _digest);

    [Benchmark(Description = "AES-256-GCM of one state image")]
    public byte[] EncryptImage() => StateFileCipher.Encrypt(_secret, _keyId, _image);
}
