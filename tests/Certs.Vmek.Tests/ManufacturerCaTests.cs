using System.Security.Cryptography.X509Certificates;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek.Tests;

public sealed class ManufacturerCaTests
{
    [Fact]
    public void Manufacture_SoftwareTpm_StoresBothEkCertificatesInTheirNvIndices()
    {
        var (engine, tpm) = TestPki.NewTpm(7);
        using var _ = engine;
        var ca = TestPki.Manufacturer();

        var ek = ca.Manufacture(tpm);

        var rsa = ManufacturerCa.ReadCertificate(tpm, TpmTemplates.EkCertificateNvIndexRsa2048);
        var ecc = ManufacturerCa.ReadCertificate(tpm, TpmTemplates.EkCertificateNvIndexEccP256);
        Assert.NotNull(rsa);
        Assert.NotNull(ecc);
        Assert.Equal(ek.Rsa!.RawData, rsa.RawData);
        Assert.Equal(ek.Ecc!.RawData, ecc.RawData);
        Assert.Equal(TpmPublicKeys.ExportSubjectPublicKeyInfo(ek.EccEk!), ecc.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(TpmPublicKeys.ExportSubjectPublicKeyInfo(ek.RsaEk!), rsa.PublicKey.ExportSubjectPublicKeyInfo());
        var pub = tpm.NvReadPublic(TpmTemplates.EkCertificateNvIndexEccP256).NvPublic;
        Assert.Equal(ManufacturerCa.EkCertificateNvAttributes | TpmaNv.Written, pub.Attributes);
    }

    [Fact]
    public void IssueEkCertificate_EccEk_FollowsTheEkCredentialProfile()
    {
        var ca = TestPki.Manufacturer();
        var desc = new TpmDescription("id:5453544B", "TrustStack", "id:00010000");
        var (engine, tpm) = TestPki.NewTpm(8);
        using var _ = engine;
        var ek = tpm.CreatePrimary(TpmRh.Endorsement, TpmTemplates.EkEccP256());

        var cert = ca.IssueEkCertificate(ek.Public, desc);

        Assert.Empty(cert.SubjectName.RawData.AsSpan(2).ToArray());
        Assert.Equal(ca.Name.RawData, cert.IssuerName.RawData);
        Assert.True(cert.Extensions[VmekOids.SubjectAltName]!.Critical);
        Assert.Equal(desc, TcgExtensions.ReadTpmDescription(cert));
        Assert.True(TcgExtensions.HasPurpose(cert, VmekOids.EkCertificatePurpose));
        Assert.Equal([VmekOids.SoftwareEkPolicy], TcgExtensions.ReadPolicies(cert));
        Assert.False(cert.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal(X509KeyUsageFlags.KeyAgreement, cert.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages);
        Assert.Equal(TestPki.Epoch.AddYears(20).AddDays(-5), cert.NotAfter.ToUniversalTime(), TimeSpan.FromDays(1));
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca.Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = TestPki.Epoch.AddDays(1).UtcDateTime;
        Assert.True(chain.Build(cert), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
    }

    [Fact]
    public void Constructor_SameSeed_SameRootCertificate()
    {
        Assert.Equal(TestPki.Manufacturer().Certificate.RawData, TestPki.Manufacturer().Certificate.RawData);
        Assert.NotEqual(TestPki.Manufacturer(seed: 1).Certificate.RawData, TestPki.Manufacturer(seed: 2).Certificate.RawData);
    }
}
