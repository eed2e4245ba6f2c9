using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Certs.Vmek.Tests;

public sealed class VmekTests
{
    [Fact]
    public void Create_HardwareTpm_KeyHasTheDesignAttributesAndThePcrPolicy()
    {
        using var p = new VmekPlatform();

        var pub = p.Hw.ReadPublic(p.Vmek.PersistentHandle).Public;

        Assert.Equal(Vmek.Attributes, pub.ObjectAttributes);
        Assert.True((pub.ObjectAttributes & (TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin)) != 0);
        Assert.Equal(0, (int)(pub.ObjectAttributes & (TpmaObject.Restricted | TpmaObject.UserWithAuth)));
        Assert.Equal(Vmek.CurrentPolicy(p.Hw, VmekPlatform.LayerPcrs), pub.AuthPolicy);
        Assert.Equal(p.Vmek.Name, pub.GetName());
    }

    [Fact]
    public void Certify_ResidentWithEk_IssuesCaCertificateRestrictedToVEks()
    {
        using var p = new VmekPlatform();
        var cert = p.Vmek.Certificate!;

        var bc = cert.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(bc.CertificateAuthority);
        Assert.Equal(0, bc.PathLengthConstraint);
        Assert.True(TcgExtensions.HasPurpose(cert, VmekOids.VmekKeyPurpose));
        var hw = HardwareEkBinding.From(cert)!;
        Assert.Equal(p.Ek.EccEk!.GetName(), hw.EkName);
        Assert.Equal(SHA256.HashData(p.EkCertificate.RawData), hw.EkCertificateHash);
        Assert.Equal(p.Vmek.Name, hw.VmekName);
        Assert.Equal(TpmDescription.Read(p.Hw), TcgExtensions.ReadTpmDescription(cert));
        Assert.True(p.Verifier().Validate([cert], new ChainExpectations { Profile = CertificateProfile.Vmek, SubjectKey = p.Vmek.Public }).IsValid);
    }

    [Fact]
    public void SignDigest_VirtualizationLayerChanged_TpmRefusesThePolicy()
    {
        using var p = new VmekPlatform();
        var digest = SHA256.HashData("tbs"u8);
        Assert.True(TpmSignatureVerifier.Verify(p.Vmek.Public, digest, p.Vmek.SignDigest(digest)));

        p.Hw.PcrExtend(4, TpmAlgId.Sha256, SHA256.HashData("tampered vmm"u8));

        var e = Assert.Throws<TpmException>(() => p.Vmek.SignDigest(digest));
        Assert.Equal(TpmRc.PolicyFail, TpmResponseCode.Base(e.ResponseCode));
    }

    [Fact]
    public void Sign_PasswordInsteadOfPolicy_TpmRefuses()
    {
        using var p = new VmekPlatform();

        var e = Assert.Throws<TpmException>(() => p.Hw.Sign(p.Vmek.PersistentHandle, new byte[32], new TpmtScheme(TpmAlgId.Ecdsa, TpmAlgId.Sha256)));

        Assert.Equal(TpmRc.AuthUnavailable, TpmResponseCode.Base(e.ResponseCode));
    }

    [Fact]
    public void Attack_VmekCertificateForKeyNotResidentWithThatEk_PcaRefuses()
    {
        using var honest = new VmekPlatform(seed: 1);
        var (otherEngine, other) = TestPki.NewTpm(2);
        using var _ = otherEngine;
        using var foreign = Vmek.Create(other, VmekPlatform.LayerPcrs, DeterministicRandomSource.FromSeed(3), honest.Clock);

        // The attacker presents the honest TPM's EK certificate with a VMEK of another TPM.
        var challenge = honest.Pca.BeginCertification(CertifiedKeyKind.Vmek, [honest.EkCertificate], honest.Ek.EccEk!, foreign.Public);

        // The other TPM cannot activate a credential made for the honest EK.
        Assert.ThrowsAny<TpmException>(() => CredentialActivation.Activate(other, foreign.PersistentHandle, TpmAuthorization.EmptyPassword, TpmTemplates.EkEccP256(), challenge));
        // The honest TPM has no such key: a guessed secret is refused.
        Assert.Throws<CertificationRefusedException>(() => honest.Pca.CompleteCertification(challenge.Id, new byte[32]));
    }

    [Fact]
    public void BeginCertification_RestrictedKeyAsVmek_Refused()
    {
        using var p = new VmekPlatform();

        Assert.Throws<CertificationRefusedException>(() =>
            p.Pca.BeginCertification(CertifiedKeyKind.Vmek, [p.EkCertificate], p.Ek.EccEk!, TpmTemplates.AkEccP256()));
    }

    [Fact]
    public void Rotate_OldCertificateRevoked_NewOneValid()
    {
        using var p = new VmekPlatform();
        var old = p.Vmek.Certificate!;
        var (oldVek, _) = p.NewVTpm(Guid.NewGuid());

        p.Rotate();

        var v = p.Verifier();
        Assert.Equal(2u, p.Vmek.Generation);
        Assert.NotEqual(old.RawData, p.Vmek.Certificate!.RawData);
        Assert.True(v.Validate([p.Vmek.Certificate], new() { Profile = CertificateProfile.Vmek }).IsValid);
        var result = v.Validate(oldVek.Chain, new() { Profile = CertificateProfile.VEk });
        Assert.True(result.Has(ChainProblemKind.Revoked), result.ToString());
        var (newVek, _) = p.NewVTpm(Guid.NewGuid(), seed: 901);
        Assert.True(v.Validate(newVek.Chain, new() { Profile = CertificateProfile.VEk }).IsValid);
    }
}
