using System.Security.Cryptography;
using Snapshooter;
using Snapshooter.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

public sealed class TpmTemplatesTests
{
    /// <summary>The EK policy A value published in the TCG EK Credential Profile (and tpm2-tools' tpm2_createek).</summary>
    private const string PublishedEkPolicy = "837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa";

    private static readonly Dictionary<string, Func<TpmtPublic>> Templates = new()
    {
        ["EkRsa2048"] = TpmTemplates.EkRsa2048,
        ["EkEccP256"] = TpmTemplates.EkEccP256,
        ["SrkRsa2048"] = TpmTemplates.SrkRsa2048,
        ["SrkEccP256"] = TpmTemplates.SrkEccP256,
        ["AkRsa2048"] = TpmTemplates.AkRsa2048,
        ["AkEccP256"] = TpmTemplates.AkEccP256,
        ["SigningRsa2048"] = () => TpmTemplates.SigningRsa2048(),
        ["SigningEccP256"] = () => TpmTemplates.SigningEccP256(),
        ["HmacKey"] = () => TpmTemplates.HmacKey(),
        ["SealedData"] = () => TpmTemplates.SealedData(),
        ["SealedDataWithPolicy"] = () => TpmTemplates.SealedData(SHA256.HashData("policy"u8)),
    };

    public static TheoryData<string> TemplateNames => [.. Templates.Keys];

    [Theory]
    [MemberData(nameof(TemplateNames))]
    public void Template_MarshalledBytesAndName_MatchSnapshot(string name)
    {
        var template = Templates[name]();
        Snapshot.Match(
            new { Public = Convert.ToHexStringLower(template.ToBytes()), Name = Convert.ToHexStringLower(template.GetName()) },
            SnapshotNameExtension.Create(name));
    }

    [Fact]
    public void EkAuthPolicySha256_IsPolicySecretOfTheEndorsementHierarchy()
    {
        // TPM2_PolicySecret(TPM_RH_ENDORSEMENT) from the empty SHA-256 digest (Part 3 §23.4):
        // d = H(0^32 ‖ TPM_CC_PolicySecret ‖ Name(TPM_RH_ENDORSEMENT)); d = H(d ‖ policyRef = empty).
        var step = SHA256.HashData([.. new byte[32], 0x00, 0x00, 0x01, 0x51, 0x40, 0x00, 0x00, 0x0B]);
        var policy = SHA256.HashData(step);

        Assert.Equal(PublishedEkPolicy, Convert.ToHexStringLower(policy));
        Assert.Equal(policy, TpmTemplates.EkAuthPolicySha256());
    }

    [Theory]
    [InlineData("EkRsa2048")]
    [InlineData("EkEccP256")]
    public void EkTemplates_CarryThePublishedPolicyAndLowRangeAttributes(string name)
    {
        var template = Templates[name]();

        Assert.Equal(PublishedEkPolicy, Convert.ToHexStringLower(template.AuthPolicy));
        Assert.Equal(0x000300B2u, (uint)template.ObjectAttributes);
        Assert.Equal(TpmtSymDef.Aes128Cfb, template.Parameters.Symmetric);
        Assert.Equal(TpmAlgId.Sha256, template.NameAlg);
    }

    [Fact]
    public void EkRsa2048_HasExponentZeroAnd256ZeroOctetsOfUnique()
    {
        var template = TpmTemplates.EkRsa2048();
        var parms = Assert.IsType<RsaParms>(template.Parameters);

        Assert.Equal(0u, parms.Exponent);
        Assert.Equal(2048, parms.KeyBits);
        Assert.Equal(new byte[256], Assert.IsType<RsaPublicId>(template.Unique).Modulus);
    }

    [Fact]
    public void EkEccP256_Has32ZeroOctetsOfXAndY()
    {
        var unique = Assert.IsType<EccPoint>(TpmTemplates.EkEccP256().Unique);

        Assert.Equal(new byte[32], unique.X);
        Assert.Equal(new byte[32], unique.Y);
    }

    [Theory]
    [InlineData("SrkRsa2048")]
    [InlineData("SrkEccP256")]
    public void SrkTemplates_FollowTheProvisioningGuidance(string name)
    {
        var template = Templates[name]();

        Assert.Equal(0x00030472u, (uint)template.ObjectAttributes);
        Assert.Empty(template.AuthPolicy);
        Assert.Equal(TpmtSymDef.Aes128Cfb, template.Parameters.Symmetric);
    }

    [Theory]
    [InlineData("AkRsa2048", TpmAlgId.Rsassa)]
    [InlineData("AkEccP256", TpmAlgId.Ecdsa)]
    public void AkTemplates_AreRestrictedSigningKeysLikeTpm2CreateAk(string name, TpmAlgId scheme)
    {
        var template = Templates[name]();
        var keyScheme = template.Parameters switch
        {
            RsaParms rsa => rsa.Scheme,
            EccParms ecc => ecc.Scheme,
            _ => throw new InvalidOperationException(),
        };

        Assert.Equal(0x00050072u, (uint)template.ObjectAttributes);
        Assert.Equal(new TpmtScheme(scheme, TpmAlgId.Sha256), keyScheme);
        Assert.Equal(TpmtSymDef.Null, template.Parameters.Symmetric);
    }

    [Fact]
    public void SealedData_WithPolicy_ClearsUserWithAuth()
    {
        var policy = SHA256.HashData("policy"u8);
        var withPolicy = TpmTemplates.SealedData(policy);

        Assert.Equal(TpmaObject.FixedTpm | TpmaObject.FixedParent, withPolicy.ObjectAttributes);
        Assert.Equal(policy, withPolicy.AuthPolicy);
        Assert.Equal(TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.UserWithAuth, TpmTemplates.SealedData().ObjectAttributes);
    }

    [Fact]
    public void SealedData_PolicyOfWrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => TpmTemplates.SealedData(new byte[20]));
    }

    [Fact]
    public void Templates_ReturnFreshInstances()
    {
        var first = TpmTemplates.EkEccP256();
        first.AuthPolicy[0] ^= 0xFF;

        Assert.Equal(PublishedEkPolicy, Convert.ToHexStringLower(TpmTemplates.EkEccP256().AuthPolicy));
    }

    // RSA generation is slow; the RSA templates are exercised by the command tests.
    public static TheoryData<string> EccAndSymmetricTemplateNames => [.. Templates.Keys.Where(n => !n.Contains("Rsa", StringComparison.Ordinal))];

    [Theory]
    [MemberData(nameof(EccAndSymmetricTemplateNames))]
    public void Template_IsAcceptedByCreate(string name)
    {
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { Seed = 3, AutoStartup = true });
        var client = new Tpm2(tpm);
        var srk = client.CreatePrimary(TpmRh.Owner, TpmTemplates.SrkEccP256());
        var sensitive = name.StartsWith("SealedData", StringComparison.Ordinal) ? new TpmsSensitiveCreate([], [1, 2, 3]) : null;
        var created = client.Create(srk.Handle, Templates[name](), sensitive);

        Assert.Equal(Templates[name]().ObjectAttributes, created.Public.ObjectAttributes);
    }
}
