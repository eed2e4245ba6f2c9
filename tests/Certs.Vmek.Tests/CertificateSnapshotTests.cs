using Snapshooter.Xunit;

namespace TrustStack.Certs.Vmek.Tests;

/// <summary>Every certificate structure, byte-exact, in deterministic mode (seeded TPMs and CAs, fixed clock, counted serials).</summary>
public sealed class CertificateSnapshotTests
{
    [Fact]
    public void Certificates_DeterministicMode_AreByteReproducible()
    {
        var first = Build();
        var second = Build();

        Assert.Equal(first.Select(c => c.Hex), second.Select(c => c.Hex));
    }

    [Fact]
    public void Certificates_DeterministicMode_MatchTheSnapshot()
    {
        Snapshot.Match(Build());
    }

    [Fact]
    public void Dump_Certificate_HasOneLinePerElementAndNamesTheOids()
    {
        var dump = Build().Single(c => c.Name == "vEK certificate").Dump;

        Assert.Contains(dump, l => l.Contains("truststack-vTpmBinding", StringComparison.Ordinal));
        Assert.Contains(dump, l => l.Contains("tcg-at-tpmManufacturer", StringComparison.Ordinal));
        Assert.StartsWith("    0:hl=4", dump[0], StringComparison.Ordinal);
    }

    private static List<SnapshotEntry> Build()
    {
        using var p = new VmekPlatform();
        var vm = new Guid("0a3b00f3-b311-4aab-87e0-a96b77af4ab3");
        var (vek, vtpm) = p.NewVTpm(vm);
        var aik = AttestationKeys.Certify(p.Hw, p.Pca, [p.EkCertificate], p.Ek.EccEk!);
        var vaik = AttestationKeys.Certify(vtpm, p.Pca, vek.Chain, vek.VEk);
        p.Pca.Revoke(aik.Certificate);
        return
        [
            Entry("manufacturer root", p.Manufacturer.Certificate.RawData),
            Entry("EK certificate (ECC)", p.EkCertificate.RawData),
            Entry("Privacy CA root", p.Pca.Certificate.RawData),
            Entry("VMEK certificate", p.Vmek.Certificate!.RawData),
            Entry("vEK certificate", vek.Certificate.RawData),
            Entry("AIK certificate", aik.Certificate.RawData),
            Entry("vAIK certificate", vaik.Certificate.RawData),
            Entry("Privacy CA CRL", p.Pca.BuildCrl()),
        ];
    }

    private static SnapshotEntry Entry(string name, byte[] der) =>
        new(name, Convert.ToHexString(der), Asn1Dump.Dump(der).TrimEnd('\n').Split('\n'));

    private sealed record SnapshotEntry(string Name, string Hex, string[] Dump);
}
