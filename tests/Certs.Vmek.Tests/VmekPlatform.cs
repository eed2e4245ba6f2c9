using System.Security.Cryptography.X509Certificates;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek.Tests;

/// <summary>A host with a hardware TPM (seeded engine), its manufacturer, a Privacy CA, a certified VMEK and the vEK provider.</summary>
internal sealed class VmekPlatform : IDisposable
{
    public static readonly PcrSelectionList LayerPcrs = PcrSelectionList.Parse("sha256:0,1,2,3,4,5,6,7");
    public static readonly byte[] CodeDigest = System.Security.Cryptography.SHA256.HashData("vtpm code"u8);

    private readonly List<SoftwareTpm> _vtpms = [];

    public VmekPlatform(ulong seed = 1, FixedTimeProvider? clock = null, ManufacturerCa? manufacturer = null, PrivacyCa? pca = null)
    {
        Clock = clock ?? TestPki.Clock();
        Manufacturer = manufacturer ?? TestPki.Manufacturer(Clock);
        Pca = pca ?? new PrivacyCa([Manufacturer.Certificate], DeterministicRandomSource.FromSeed(500), Clock);
        (Engine, Hw) = TestPki.NewTpm(seed);
        Hw.PcrExtend(4, TpmAlgId.Sha256, System.Security.Cryptography.SHA256.HashData("vmm"u8));
        Ek = Manufacturer.Manufacture(Hw, rsa: false);
        Vmek = Vmek.Create(Hw, LayerPcrs, DeterministicRandomSource.FromSeed(seed + 77), Clock);
        Vmek.Certify(Pca, EkCertificate, Ek.EccEk!);
        Provider = new VmekCredentialProvider(Vmek, EkCertificate, Ek.EccEk!);
    }

    public FixedTimeProvider Clock { get; }

    public ManufacturerCa Manufacturer { get; }

    public PrivacyCa Pca { get; }

    public SoftwareTpm Engine { get; }

    public Tpm2 Hw { get; }

    public EkCredentials Ek { get; }

    public X509Certificate2 EkCertificate => Ek.Ecc!;

    public Vmek Vmek { get; private set; }

    public VmekCredentialProvider Provider { get; }

    public (VEkCredential Credential, Tpm2 VTpm) NewVTpm(Guid vmId, ulong seed = 900)
    {
        var engine = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true, Seed = seed }, null, Clock);
        _vtpms.Add(engine);
        var client = new Tpm2(engine, DeterministicRandomSource.FromSeed(seed + 1));
        return (Provider.Issue(client, vmId, CodeDigest), client);
    }

    public void Rotate()
    {
        Vmek = Vmek.Rotate(Pca, EkCertificate, Ek.EccEk!, DeterministicRandomSource.FromSeed(4242));
        Provider.Vmek = Vmek;
    }

    public CertificateChainValidator Verifier(bool withCrl = true)
    {
        var v = new CertificateChainValidator([Pca.Certificate, Manufacturer.Certificate], Clock);
        if (withCrl)
        {
            v.AddCrl(Pca.BuildCrl());
        }

        return v;
    }

    public void Dispose()
    {
        Vmek.Dispose();
        Engine.Dispose();
        foreach (var v in _vtpms)
        {
            v.Dispose();
        }
    }
}
