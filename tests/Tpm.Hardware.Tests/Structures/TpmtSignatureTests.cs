using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Structures;

[Properties(Arbitrary = [typeof(TpmArbitraries)])]
public sealed class TpmtSignatureTests
{
    [Property]
    public bool Marshal_RandomValue_RoundTripsOctets(TpmtSignature value) =>
        WireProperties.RoundTrips(WireProperties.Marshal(value.Marshal), TpmtSignature.Unmarshal, (v, w) => v.Marshal(w));

    [Property]
    public bool Unmarshal_TruncatedEncoding_ThrowsInsufficient(TpmtSignature value, NonNegativeInt cut) =>
        WireProperties.TruncationThrowsInsufficient(WireProperties.Marshal(value.Marshal), cut.Get, TpmtSignature.Unmarshal);

    [Property]
    public bool Unmarshal_RandomOctets_ThrowsOnlyTpmException(byte[] octets) =>
        WireProperties.ThrowsOnlyTpmException(octets, TpmtSignature.Unmarshal);

    [Property]
    public bool Unmarshal_CorruptedEncoding_ThrowsOnlyTpmException(TpmtSignature value, NonNegativeInt index, byte mask) =>
        WireProperties.ThrowsOnlyTpmException(WireProperties.Corrupt(WireProperties.Marshal(value.Marshal), index.Get, mask), TpmtSignature.Unmarshal);

    [Fact]
    public void Marshal_Ecdsa_WritesHashThenRAndS()
    {
        var signature = TpmtSignature.Ecc(TpmAlgId.Ecdsa, TpmAlgId.Sha256, [0x01, 0x02], [0x03]);

        Assert.Equal("0018000B" + "00020102" + "000103", Convert.ToHexString(signature.ToBytes()));
    }

    [Fact]
    public void Marshal_Rsassa_WritesHashThenSizedSignature()
    {
        var signature = TpmtSignature.Rsa(TpmAlgId.Rsassa, TpmAlgId.Sha256, [0xAA, 0xBB]);

        Assert.Equal("0014000B0002AABB", Convert.ToHexString(signature.ToBytes()));
    }

    [Fact]
    public void Unmarshal_RsaIsNotASignatureScheme_ThrowsScheme()
    {
        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader(Convert.FromHexString("0001000B0000"));
            TpmtSignature.Unmarshal(ref reader);
        });
        Assert.Equal(TpmRc.Scheme, ex.BaseCode);
    }

    [Fact]
    public void Unmarshal_HmacWithUnsupportedHash_ThrowsHash()
    {
        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader(Convert.FromHexString("00050012"));
            TpmtSignature.Unmarshal(ref reader);
        });
        Assert.Equal(TpmRc.Hash, ex.BaseCode);
    }
}
