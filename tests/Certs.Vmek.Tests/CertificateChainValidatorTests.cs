using System.Security.Cryptography.X509Certificates;
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

    [Fact]
    public void Validate_SubjectKeyWithOffCurvePoint_MalformedNotThrown()
    {
        // Issue 19, finding 4: the TPM key comes from the network; importing it used to throw out of ExportSubjectPublicKeyInfo.
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);

        var result = p.Verifier().Validate(vek.Chain, Expect(p, vek) with { SubjectKey = HostileInput.OffCurve(vek.VEk) });

        var problem = Assert.Single(result.Problems);
        Assert.Equal(ChainProblemKind.Malformed, problem.Kind);
        Assert.Contains("not a usable public key", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SubjectKeyOfWrongSize_MalformedNotThrown()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);

        var result = p.Verifier().Validate(vek.Chain, Expect(p, vek) with { SubjectKey = HostileInput.WrongSize(vek.VEk) });

        Assert.Equal([ChainProblemKind.Malformed], result.Problems.Select(q => q.Kind));
    }

    [Fact]
    public void Validate_LeafWithOffCurveKey_RejectedNotThrown()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);

        var result = p.Verifier().Validate([HostileInput.WithOffCurveKey(vek.Certificate), .. vek.Chain.Skip(1)], Expect(p, vek));

        Assert.True(result.Has(ChainProblemKind.WrongIssuer), result.ToString());
        Assert.True(result.Has(ChainProblemKind.NameMismatch), result.ToString());
    }

    [Fact]
    public void Validate_IssuerWithOffCurveKey_RejectedNotThrown()
    {
        // The VMEK certificate (an issuer) with an off-curve key: its key cannot verify the vEK certificate.
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);

        var result = p.Verifier().Validate([vek.Certificate, HostileInput.WithOffCurveKey(vek.Chain[1])], Expect(p, vek));

        Assert.True(result.Has(ChainProblemKind.WrongIssuer), result.ToString());
        Assert.All(result.Problems, q => Assert.NotEqual(0, q.Detail.Length));
    }

    [Fact]
    public void Validate_LeafWithMalformedExtendedKeyUsage_MalformedNotThrown()
    {
        // Signed by the PCA, so only the extension's DER is wrong (.NET decodes it lazily, on first use).
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);
        var cert = p.Pca.Issue(new X500DistinguishedName("CN=hostile"), X509Signatures.PublicKeyOf(vek.VEk), [new X509Extension("2.5.29.37", [0x30, 0x03, 0x02, 0x01, 0x00], false)], TimeSpan.FromDays(1));

        var result = p.Verifier().Validate([cert], new ChainExpectations { Profile = CertificateProfile.AttestationKey, SubjectKey = vek.VEk });

        Assert.Contains(result.Problems, q => q.Kind == ChainProblemKind.Malformed && q.Detail.Contains("cannot be decoded", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_IssuerWithMalformedBasicConstraints_MalformedNotThrown()
    {
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);
        var issuer = p.Pca.Issue(new X500DistinguishedName("CN=hostile issuer"), X509Signatures.PublicKeyOf(vek.VEk), [new X509Extension("2.5.29.19", [0x30, 0x03, 0x01, 0x01], true)], TimeSpan.FromDays(1));

        var result = p.Verifier().Validate([vek.Certificate, issuer], Expect(p, vek));

        Assert.False(result.IsValid);
        Assert.Contains(result.Problems, q => q.Kind == ChainProblemKind.Malformed);
    }

    [Fact]
    public void Validate_CertificateWithUnreadableValidity_MalformedNotThrown()
    {
        // Found by the TVP-PCA mutation sweep: the result cache read NotBefore outside any guard.
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);
        var hostile = HostileInput.WithMonthZero(vek.Certificate);

        var result = p.Verifier().Validate([hostile, .. vek.Chain.Skip(1)], Expect(p, vek));

        Assert.Contains(result.Problems, q => q.Kind == ChainProblemKind.Malformed && q.Depth == 0);
    }

    [Fact]
    public void Validate_SignatureBitStringWithUnusedBits_WrongIssuer()
    {
        // Found by the mutation sweep: 03 LL 00 → 03 LL 01 re-encodes the same signature octets; it is not the signed certificate.
        using var p = new VmekPlatform();
        var (vek, _) = p.NewVTpm(s_vm);
        var der = (byte[])vek.Certificate.RawData.Clone();
        var bitString = Enumerable.Range(0, der.Length - 4).Single(i => der[i] == 0x03 && der[i + 1] == der.Length - i - 2 && der[i + 2] == 0x00 && der[i + 3] == 0x30); // the signature, last in the certificate
        der[bitString + 2] = 0x01;
        Assert.Equal(0, der[^1] & 0x01); // else the DER reader itself refuses the non-zero unused bit
        var hostile = X509CertificateLoader.LoadCertificate(der);

        var result = p.Verifier().Validate([hostile, .. vek.Chain.Skip(1)], Expect(p, vek));

        Assert.True(result.Has(ChainProblemKind.WrongIssuer), result.ToString());
    }

    [Fact]
    public void Validate_AttestationKeyWithRestrictedCleared_NameMismatchAndKeyUsage()
    {
        // Issue 19, finding 3: the same point with other attributes is not the key the PCA certified.
        using var p = new VmekPlatform();
        var (vek, vtpm) = p.NewVTpm(s_vm);
        var vaik = AttestationKeys.Certify(vtpm, p.Pca, vek.Chain, vek.VEk);
        var altered = vaik.Key with { ObjectAttributes = vaik.Key.ObjectAttributes & ~TpmaObject.Restricted };

        var honest = p.Verifier().Validate([vaik.Certificate], new ChainExpectations { Profile = CertificateProfile.AttestationKey, SubjectKey = vaik.Key });
        var result = p.Verifier().Validate([vaik.Certificate], new ChainExpectations { Profile = CertificateProfile.AttestationKey, SubjectKey = altered });

        Assert.True(honest.IsValid, honest.ToString());
        Assert.Equal([ChainProblemKind.NameMismatch, ChainProblemKind.KeyUsage], result.Problems.Select(q => q.Kind));
        Assert.Contains("restricted is clear", result.Problems[1].Detail, StringComparison.Ordinal);
        Assert.Equal(vaik.Key.GetName(), CertifiedKeyBinding.From(vaik.Certificate)!.KeyName);
    }

    [Fact]
    public void Validate_AttestationKeyCertificateWithoutCertifiedKey_MissingBinding()
    {
        using var p = new VmekPlatform();
        var (vek, vtpm) = p.NewVTpm(s_vm);
        var vaik = AttestationKeys.Certify(vtpm, p.Pca, vek.Chain, vek.VEk);
        var bare = p.Pca.Issue(new X500DistinguishedName(string.Empty), vaik.Certificate.PublicKey, vaik.Certificate.Extensions.Where(e => e.Oid?.Value is not VmekOids.CertifiedKey and not "2.5.29.35" and not "2.5.29.14"), TimeSpan.FromDays(30));

        var result = p.Verifier().Validate([bare], new ChainExpectations { Profile = CertificateProfile.AttestationKey, SubjectKey = vaik.Key });

        Assert.Equal([ChainProblemKind.MissingBinding], result.Problems.Select(q => q.Kind));
    }

    private sealed class SettableClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = TestPki.Epoch;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
