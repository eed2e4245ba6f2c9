using FsCheck;
using FsCheck.Xunit;
using Snapshooter.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Structures;

[Properties(Arbitrary = [typeof(TpmArbitraries)])]
public sealed class TpmtPublicTests
{
    [Property]
    public bool Marshal_RandomValue_RoundTripsOctets(TpmtPublic value) =>
        WireProperties.RoundTrips(WireProperties.Marshal(value.Marshal), TpmtPublic.Unmarshal, (v, w) => v.Marshal(w));

    [Property]
    public bool Unmarshal_TruncatedEncoding_ThrowsInsufficient(TpmtPublic value, NonNegativeInt cut) =>
        WireProperties.TruncationThrowsInsufficient(WireProperties.Marshal(value.Marshal), cut.Get, TpmtPublic.Unmarshal);

    [Property]
    public bool Unmarshal_RandomOctets_ThrowsOnlyTpmException(byte[] octets) =>
        WireProperties.ThrowsOnlyTpmException(octets, TpmtPublic.Unmarshal);

    [Property]
    public bool Unmarshal_CorruptedEncoding_ThrowsOnlyTpmException(TpmtPublic value, NonNegativeInt index, byte mask) =>
        WireProperties.ThrowsOnlyTpmException(WireProperties.Corrupt(WireProperties.Marshal(value.Marshal), index.Get, mask), TpmtPublic.Unmarshal);

    // TCG EK Credential Profile for TPM Family 2.0 §B.3.3: the EK authPolicy is
    // PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256.
    private const string EkAuthPolicy = "837197674484B3F81A90CC8D46A5D724FD52D76E06520B64F2A1DA1B331469AA";

    // fixedTPM | fixedParent | sensitiveDataOrigin | adminWithPolicy | restricted | decrypt = 0x000300B2.
    private const TpmaObject EkAttributes = TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.SensitiveDataOrigin
        | TpmaObject.AdminWithPolicy | TpmaObject.Restricted | TpmaObject.Decrypt;

    // An ECC P-256 EK created by swtpm 0.7.1 (libtpms) with `tpm2_createek -G ecc -u ek.pub`
    // (TPM2B_PUBLIC) and its Name as the TPM reported it (`tpm2_readpublic -n`).
    private const string LibtpmsEccEkPublic =
        "007A0023000B000300B20020837197674484B3F81A90CC8D46A5D724FD52D76E06520B64F2A1DA1B331469AA"
        + "0006008000430010000300100020E2EF1CDCE73CD9539D5FADE1E825A08063EBBF81BE807917FFB1D780CC145BD0"
        + "00206D6BE291D22FB78E8E363A0CAF793EB3EA77B83E51860F03EEA29BC01B873A44";

    private const string LibtpmsEccEkName = "000B9CA3570B32CDA30F06571484BA09DA5E0634AB2D7B26285E683488EC64EF5378";

    /// <summary>EK Credential Profile template L-1: RSA 2048, AES-128-CFB, zero-filled 256-octet unique.</summary>
    private static TpmtPublic EkRsa2048Template() => new(
        TpmAlgId.Rsa,
        TpmAlgId.Sha256,
        EkAttributes,
        Convert.FromHexString(EkAuthPolicy),
        new RsaParms(TpmtSymDef.Aes128Cfb, TpmtScheme.Null, KeyBits: 2048, Exponent: 0),
        new RsaPublicId(new byte[256]));

    /// <summary>EK Credential Profile template L-2: ECC NIST P-256, AES-128-CFB, zero-filled 32-octet coordinates.</summary>
    private static TpmtPublic EkEccP256Template() => new(
        TpmAlgId.Ecc,
        TpmAlgId.Sha256,
        EkAttributes,
        Convert.FromHexString(EkAuthPolicy),
        new EccParms(TpmtSymDef.Aes128Cfb, TpmtScheme.Null, TpmEccCurve.NistP256, TpmtScheme.Null),
        new EccPoint(new byte[32], new byte[32]));

    [Fact]
    public void EkAuthPolicy_PolicySecretEndorsement_IsEkCredentialProfileDigest()
    {
        // TPM 2.0 Part 3 §23.4 PolicySecret: policyDigest' = H(H(policyDigest ‖ TPM_CC_PolicySecret ‖ authName) ‖ policyRef);
        // the Name of a permanent handle is the handle itself.
        var update = TpmHash.Hash(TpmAlgId.Sha256, new byte[32], Convert.FromHexString("00000151"), Convert.FromHexString("4000000B"));
        var digest = TpmHash.Hash(TpmAlgId.Sha256, update, []);

        Assert.Equal(0x151u, (uint)TpmCc.PolicySecret);
        Assert.Equal(EkAuthPolicy, Convert.ToHexString(digest));
    }

    [Fact]
    public void ToBytes_EkRsa2048Template_MatchesEkCredentialProfile()
    {
        var expected = "0001" + "000B" + "000300B2" + "0020" + EkAuthPolicy
            + "000600800043" // symmetric: AES, 128, CFB
            + "0010"         // scheme: TPM_ALG_NULL
            + "0800"         // keyBits: 2048
            + "00000000"     // exponent: 0 (65537)
            + "0100" + new string('0', 512); // unique: 256 zero octets

        Assert.Equal(expected, Convert.ToHexString(EkRsa2048Template().ToBytes()));
    }

    [Fact]
    public void ToBytes_EkEccP256Template_MatchesSnapshot()
    {
        var template = EkEccP256Template();

        Snapshot.Match(new
        {
            Template = "TCG EK Credential Profile L-2 (ECC NIST P-256)",
            TpmtPublic = Convert.ToHexString(template.ToBytes()),
            Name = Convert.ToHexString(template.GetName()),
        });
    }

    [Fact]
    public void WithUnique_LibtpmsEccEkWithZeroPoint_EqualsEkEccP256Template()
    {
        var ek = TpmtPublic.Parse(Convert.FromHexString(LibtpmsEccEkPublic));

        var template = ek.WithUnique(new EccPoint(new byte[32], new byte[32]));

        Assert.Equal(EkEccP256Template().ToBytes(), template.ToBytes());
    }

    [Fact]
    public void GetName_LibtpmsEccEk_MatchesNameReportedByTpm()
    {
        var ek = TpmtPublic.Parse(Convert.FromHexString(LibtpmsEccEkPublic));

        Assert.Equal(LibtpmsEccEkName, Convert.ToHexString(ek.GetName()));
    }

    [Fact]
    public void MarshalSized_LibtpmsEccEk_ReproducesTpm2bPublic()
    {
        var ek = TpmtPublic.Parse(Convert.FromHexString(LibtpmsEccEkPublic));

        Assert.Equal(LibtpmsEccEkPublic, Convert.ToHexString(WireProperties.Marshal(ek.MarshalSized)));
    }

    [Fact]
    public void Unmarshal_UnknownObjectType_ThrowsType()
    {
        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader(Convert.FromHexString("0014000B00000000" + "0000"));
            TpmtPublic.Unmarshal(ref reader);
        });
        Assert.Equal(TpmRc.Type, ex.BaseCode);
    }

    [Fact]
    public void Parse_TrailingOctet_ThrowsSize()
    {
        byte[] octets = [.. EkEccP256Template().ToBytes(), 0x00];

        var ex = Assert.Throws<TpmException>(() => TpmtPublic.Parse(octets));
        Assert.Equal(TpmRc.Size, ex.BaseCode);
    }

    [Fact]
    public void UnmarshalSized_EmptyTpm2bPublic_ThrowsSize()
    {
        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader([0x00, 0x00]);
            TpmtPublic.UnmarshalSized(ref reader);
        });
        Assert.Equal(TpmRc.Size, ex.BaseCode);
    }
}
