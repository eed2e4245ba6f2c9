namespace TrustStack.Certs.Vmek.Tests;

public sealed class SchemeComparisonTests
{
    [Theory]
    [InlineData("vmek", 1.0, 1.0, 1.0, 0.0)]
    [InlineData("hw-aik", 1.0, 1.0, 1.0, 0.0)]
    [InlineData("local-ca", 1.0, 1.0, 0.0, 0.0)]
    [InlineData("deep-quote", 0.0, 0.0, 0.0, 1.0)]
    [InlineData("pca-per-vek", 2.0, 2.0, 1.0, 0.0)]
    public void Measure_TwoVTpms_CostsAsTheSchemeSaysAndEveryAttestationIsAccepted(string name, double pcaTrips, double pcaSigs, double hwSigs, double hwSigsPerAttestation)
    {
        var scheme = SchemeComparison.All().Single(s => s.Profile.Name == name);

        var m = SchemeComparison.Measure(scheme, 2, 3, TestPki.Clock());

        Assert.Equal(2, m.AttestationsAccepted);
        Assert.Equal(pcaTrips, m.PcaRoundTripsPerVTpm);
        Assert.Equal(pcaSigs, m.PcaSignaturesPerVTpm);
        Assert.Equal(hwSigs, m.HardwareSignaturesPerVTpm);
        Assert.Equal(hwSigsPerAttestation, m.HardwareSignaturesPerAttestation);
    }

    [Fact]
    public void All_OnlyVmekAndPcaPerVEkBreakNoTcgRule()
    {
        Assert.Equal(["vmek", "pca-per-vek"], SchemeComparison.All().Where(s => s.Profile.TcgRulesBroken.Count == 0).Select(s => s.Profile.Name));
    }

    [Fact]
    public void Attest_VmekSchemeWithoutVAik_Rejected()
    {
        var scheme = new VmekScheme();
        using var host = new SchemeHost(5, TestPki.Clock());
        scheme.Setup(host);
        using var engine = new TrustStack.Tpm.Hardware.SoftwareTpm(new() { AutoStartup = true, Seed = 77 });
        var vtpm = new TrustStack.Tpm.Hardware.Tpm2(engine);
        var c = scheme.Credential(host, vtpm, Guid.NewGuid(), new byte[32]);

        Assert.True(scheme.Attest(host, vtpm, c, new byte[16]));
        Assert.False(scheme.Attest(host, vtpm, c with { VAik = null }, new byte[16]));
    }
}
