using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek.Tests;

public sealed class CertificateChainValidatorTests
{
    private static readonly Guid s_vm = new("6f1c9f0e-4d1b-4e47-9b0a-1f2e3d4c5b6a");

    [Fact]
    public void Validate_HonestVEkChain_Valid()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);

        var result = p.Verifier().Validate(vek.Chain, Expect(p, vek));

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(VmekCredentialProvider.JunctionMeasurement(s_vm, VmekPlatform.CodeDigest, vek.VEk), VTpmBinding.From(vek.Certificate)!.JunctionMeasurement);
    }

    [Fact]
    public void Attack_VEkCertificateSignedByVmekOfAnotherTpm_WrongIssuer()
    {
        using var honest = new VmekPlatform(seed: 1);
        using var rogue = new VmekPlatform(seed: 2, clock: honest.Clock, manufacturer: honest.Manufacturer, pca: honest.Pca);
        var (forged, _) = rogue.NewVTpm(s_vm);

        // Presented under the honest host's VMEK certificate: the signature is not the honest VMEK's.
        var result = honest.Verifier().Validate([forged.Certificate, honest.Vmek.Certificate!], Expect(honest, forged));

        Assert.True(result.Has(ChainProblemKind.WrongIssuer), result.ToString());
        Assert.True(result.Has(ChainProblemKind.BindingMismatch), result.ToString());
    }

    [Fact]
    public void Attack_VEkChainOfAnotherHost_BindingNamesAnotherHardwareEk()
    {
        using var honest = new VmekPlatform(seed: 1);
        using var rogue = new VmekPlatform(seed: 2, clock: honest.Clock, manufacturer: honest.Manufacturer, pca: honest.Pca);
        var (other, _) = rogue.NewVTpm(s_vm);

        var result = honest.Verifier().Validate(other.Chain, Expect(honest, other));

        Assert.Equal([ChainProblemKind.BindingMismatch], result.Problems.Select(q => q.Kind));
    }

    [Fact]
    public void Attack_RevokedVmek_Revoked()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);
        p.Pca.Revoke(p.Vmek.Certificate!);

        var result = p.Verifier().Validate(vek.Chain, Expect(p, vek));

        Assert.Equal([ChainProblemKind.Revoked], result.Problems.Select(q => q.Kind));
        Assert.Equal(1, result.Problems[0].Depth);
    }

    [Fact]
    public void Attack_ExpiredCertificate_Expired()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);

        p.Clock.Advance(TimeSpan.FromDays(366));

        var result = p.Verifier(withCrl: false).Validate(vek.Chain, Expect(p, vek));
        Assert.True(result.Has(ChainProblemKind.Expired), result.ToString());
        Assert.All(result.Problems, q => Assert.Equal(ChainProblemKind.Expired, q.Kind));
    }

    [Fact]
    public void Attack_SwappedVmUuid_NameMismatch()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);

        var result = p.Verifier().Validate(vek.Chain, Expect(p, vek) with { VmId = Guid.NewGuid() });

        Assert.Equal([ChainProblemKind.NameMismatch], result.Problems.Select(q => q.Kind));
    }

    [Fact]
    public void Attack_VEkCertificateForAnotherKey_NameMismatch()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);
        var (other, _) = p.NewVTpm(Guid.NewGuid(), seed: 901);

        var result = p.Verifier().Validate(vek.Chain, Expect(p, vek) with { SubjectKey = other.VEk });

        Assert.Equal([ChainProblemKind.NameMismatch], result.Problems.Select(q => q.Kind));
    }

    [Fact]
    public void Attack_WrongJunctionMeasurement_BindingMismatch()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);

        var result = p.Verifier().Validate(vek.Chain, Expect(p, vek) with { JunctionMeasurement = new byte[32] });

        Assert.Equal([ChainProblemKind.BindingMismatch], result.Problems.Select(q => q.Kind));
    }

    [Fact]
    public void Attack_VEkCertificateWithoutBinding_MissingBinding()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);
        long counter = 0;
        var unbound = Vmek.IssueWith(p.Vmek.Certificate!, p.Vmek.SignatureGenerator, vek.VEk, null, VmekCredentialProvider.DefaultVTpmDescription, TimeSpan.FromDays(1), p.Clock, 0x3F, ref counter);

        var result = p.Verifier().Validate([unbound, p.Vmek.Certificate!], new() { Profile = CertificateProfile.VEk });

        Assert.Equal([ChainProblemKind.MissingBinding], result.Problems.Select(q => q.Kind));
    }

    [Fact]
    public void Attack_AttestationKeyCertificateAsIssuer_KeyUsage()
    {
        using var p = new VmekPlatform();
        var aik = AttestationKeys.Certify(p.Hw, p.Pca, [p.EkCertificate], p.Ek.EccEk!);
        var (vek, _) = p.NewVTpm(s_vm);
        var aikHandle = p.Hw.CreatePrimary(TpmRh.Endorsement, TpmTemplates.AkEccP256()).Handle;
        var viaAik = TpmSignatureGenerator.ForRestrictedKey(p.Hw, aikHandle, aik.Key);
        long counter = 0;
        var forged = Vmek.IssueWith(aik.Certificate, viaAik, vek.VEk, VTpmBinding.From(vek.Certificate), VmekCredentialProvider.DefaultVTpmDescription, TimeSpan.FromDays(1), p.Clock, 0x3E, ref counter);
        p.Hw.FlushContext(aikHandle);

        var result = p.Verifier().Validate([forged, aik.Certificate], new() { Profile = CertificateProfile.VEk });

        Assert.True(result.Has(ChainProblemKind.KeyUsage), result.ToString());
        Assert.DoesNotContain(result.Problems, q => q.Kind == ChainProblemKind.WrongIssuer);
    }

    [Fact]
    public void Validate_EkCertificateOfUnknownManufacturer_UntrustedRoot()
    {
        using var p = new VmekPlatform();
        var stranger = TestPki.Manufacturer(p.Clock, seed: 99);
        var cert = stranger.IssueEkCertificate(p.Ek.EccEk!, TpmDescription.Read(p.Hw));

        var result = p.Verifier().Validate([cert], new() { Profile = CertificateProfile.EndorsementKey });

        Assert.Equal([ChainProblemKind.UntrustedRoot], result.Problems.Select(q => q.Kind));
        Assert.Throws<CertificationRefusedException>(() => p.Pca.BeginCertification(CertifiedKeyKind.AttestationKey, [cert], p.Ek.EccEk!, TpmTemplates.AkEccP256()));
    }

    private static ChainExpectations Expect(VmekPlatform p, VEkCredential vek) => new()
    {
        Profile = CertificateProfile.VEk,
        SubjectKey = vek.VEk,
        VmId = s_vm,
        HardwareEkName = p.Ek.EccEk!.GetName(),
        JunctionMeasurement = VmekCredentialProvider.JunctionMeasurement(s_vm, VmekPlatform.CodeDigest, vek.VEk),
    };

    [Fact]
    public void Validate_SameChainTwice_SecondAnsweredFromCacheWithTheSameResult()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);
        var v = p.Verifier();

        var first = v.Validate(vek.Chain, Expect(p, vek));
        var second = v.Validate(vek.Chain, Expect(p, vek));

        Assert.True(first.IsValid, first.ToString());
        Assert.Equal(first.Problems, second.Problems);
        Assert.Equal(1, v.CacheHits);
    }

    [Fact]
    public void Validate_CachedChainThenCrlRevokesIt_Revoked()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);
        var v = p.Verifier();
        Assert.True(v.Validate(vek.Chain, Expect(p, vek)).IsValid);

        p.Pca.Revoke(p.Vmek.Certificate!);
        v.AddCrl(p.Pca.BuildCrl());
        var result = v.Validate(vek.Chain, Expect(p, vek));

        Assert.Equal([ChainProblemKind.Revoked], result.Problems.Select(q => q.Kind));
        Assert.Equal(0, v.CacheHits);
    }

    [Fact]
    public void Validate_CachedChainOtherExpectations_AnsweredForThoseExpectations()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);
        var v = p.Verifier();
        Assert.True(v.Validate(vek.Chain, Expect(p, vek)).IsValid);

        var result = v.Validate(vek.Chain, Expect(p, vek) with { VmId = Guid.Empty });

        Assert.Equal([ChainProblemKind.NameMismatch], result.Problems.Select(q => q.Kind));
    }

    [Fact]
    public void Validate_ClockMovesAcrossValidityBounds_CachedAnswersEqualFreshOnes()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);
        var clock = new SettableClock();
        var cached = new CertificateChainValidator([p.Pca.Certificate, p.Manufacturer.Certificate], clock);
        cached.AddCrl(p.Pca.BuildCrl());
        var notAfter = new DateTimeOffset(vek.Certificate.NotAfter.ToUniversalTime());
        DateTimeOffset[] times =
        [
            TestPki.Epoch, TestPki.Epoch.AddSeconds(-1), TestPki.Epoch, notAfter, notAfter.AddSeconds(1),
            TestPki.Epoch.AddDays(1), notAfter.AddYears(40), TestPki.Epoch, TestPki.Epoch,
        ];

        foreach (var t in times)
        {
            clock.Now = t;
            var fresh = new CertificateChainValidator([p.Pca.Certificate, p.Manufacturer.Certificate], clock);
            fresh.AddCrl(p.Pca.BuildCrl());

            var expected = fresh.Validate(vek.Chain, Expect(p, vek));
            var actual = cached.Validate(vek.Chain, Expect(p, vek));

            Assert.True(expected.Problems.SequenceEqual(actual.Problems), $"at {t:u}: fresh '{expected}', cached '{actual}'");
        }

        Assert.True(cached.CacheHits > 0);
    }

    private sealed class SettableClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = TestPki.Epoch;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
