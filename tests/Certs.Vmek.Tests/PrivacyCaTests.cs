using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek.Tests;

public sealed class PrivacyCaTests
{
    [Fact]
    public void BeginCertification_KeyWithOffCurvePoint_Refused()
    {
        // Used to be accepted here and to throw later, out of CompleteCertification (issuing the certificate).
        using var p = new VmekPlatform();
        var ak = p.Hw.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());

        var e = Assert.Throws<CertificationRefusedException>(() => p.Pca.BeginCertification(CertifiedKeyKind.AttestationKey, [p.EkCertificate], p.Ek.EccEk!, HostileInput.OffCurve(ak.Public)));

        Assert.Contains("not a usable public key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BeginCertification_EndorsementKeyWithOffCurvePoint_Refused()
    {
        using var p = new VmekPlatform();
        var ak = p.Hw.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256());

        var e = Assert.Throws<CertificationRefusedException>(() => p.Pca.BeginCertification(CertifiedKeyKind.AttestationKey, [p.EkCertificate], HostileInput.OffCurve(p.Ek.EccEk!), ak.Public));

        Assert.Contains("Malformed", e.Message, StringComparison.Ordinal);
    }
}
