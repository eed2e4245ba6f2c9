using BenchmarkDotNet.Attributes;
using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Benchmarks;

/// <summary>
/// Certs.Vmek: issuing a vEK certificate with the VMEK inside the (software) hardware TPM,
/// validating a vEK chain, and per scheme the cost of credentialing one vTPM (vEK credential and
/// vAIK round trip) and of one attestation as the verifier checks it.
/// </summary>
[MemoryDiagnoser]
public class VmekBenchmarks
{
    private SchemeHost _host = null!;
    private IVTpmCredentialScheme _scheme = null!;
    private SoftwareTpm _vtpmEngine = null!;
    private Tpm2 _vtpm = null!;
    private VTpmCredentials _credentials = null!;
    private VmekCredentialProvider _provider = null!;
    private VEkCredential _vek = null!;
    private VTpmBinding _binding = null!;
    private CertificateChainValidator _validator = null!;
    private readonly byte[] _nonce = new byte[16];
    private readonly Guid _vm = new("0a3b00f3-b311-4aab-87e0-a96b77af4ab3");

    /// <summary>The scheme of the per-scheme benchmarks.</summary>
    [Params("vmek", "hw-aik", "local-ca", "deep-quote", "pca-per-vek")]
    public string Scheme { get; set; } = "vmek";

    [GlobalSetup]
    public void Setup()
    {
        var clock = new FixedTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        _host = new SchemeHost(1, clock);
        _scheme = SchemeComparison.All().Single(s => s.Profile.Name == Scheme);
        _scheme.Setup(_host);
        _vtpmEngine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = 2 }, null, clock);
        _vtpm = new Tpm2(_vtpmEngine);
        _credentials = _scheme.Credential(_host, _vtpm, _vm, new byte[32]);

        var vmek = Vmek.Create(_host.Hardware, SchemeHost.VirtualizationLayer, _host.Random, clock, 0x81010101);
        vmek.Certify(_host.Pca, _host.EkCertificate, _host.Ek.EccEk!);
        _provider = new VmekCredentialProvider(vmek, _host.EkCertificate, _host.Ek.EccEk!);
        _vek = _provider.Issue(_vtpm, _vm, new byte[32]);
        _binding = VTpmBinding.From(_vek.Certificate)!;
        _validator = new CertificateChainValidator([_host.Pca.Certificate], clock);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _vtpmEngine.Dispose();
        _host.Dispose();
    }

    [Benchmark(Description = "Issue vEK certificate (VMEK: PolicyPCR session + TPM2_Sign)")]
    public byte[] IssueVEkCertificate() =>
        _provider.Vmek.IssueVEkCertificate(_vek.VEk, _binding, VmekCredentialProvider.DefaultVTpmDescription, TimeSpan.FromDays(365)).RawData;

    [Benchmark(Description = "Validate vEK chain (vEK -> VMEK -> PCA)")]
    public bool ValidateChain() =>
        _validator.Validate(_vek.Chain, new ChainExpectations { Profile = CertificateProfile.VEk, SubjectKey = _vek.VEk, VmId = _vm }).IsValid;

    [Benchmark(Description = "Credential one vTPM (scheme)")]
    public VTpmCredentials CredentialOneVTpm() => _scheme.Credential(_host, _vtpm, _vm, new byte[32]);

    [Benchmark(Description = "Attest once + verify (scheme)")]
    public bool AttestOnce() => _scheme.Attest(_host, _vtpm, _credentials, _nonce);
}
