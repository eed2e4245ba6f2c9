using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Structures;

[Properties(Arbitrary = [typeof(TpmArbitraries)])]
public sealed class TpmtSymDefTests
{
    [Property]
    public bool Marshal_RandomValue_RoundTripsOctets(TpmtSymDef value) =>
        WireProperties.RoundTrips(WireProperties.Marshal(value.Marshal), TpmtSymDef.Unmarshal, (v, w) => v.Marshal(w));

    [Property]
    public bool Unmarshal_TruncatedEncoding_ThrowsInsufficient(TpmtSymDef value, NonNegativeInt cut) =>
        WireProperties.TruncationThrowsInsufficient(WireProperties.Marshal(value.Marshal), cut.Get, TpmtSymDef.Unmarshal);

    [Property]
    public bool Unmarshal_RandomOctets_ThrowsOnlyTpmException(byte[] octets) =>
        WireProperties.ThrowsOnlyTpmException(octets, TpmtSymDef.Unmarshal);

    [Property]
    public bool Unmarshal_CorruptedEncoding_ThrowsOnlyTpmException(TpmtSymDef value, NonNegativeInt index, byte mask) =>
        WireProperties.ThrowsOnlyTpmException(WireProperties.Corrupt(WireProperties.Marshal(value.Marshal), index.Get, mask), TpmtSymDef.Unmarshal);

    [Fact]
    public void Marshal_Aes128Cfb_WritesAlgorithmKeyBitsAndMode()
    {
        Assert.Equal("000600800043", Convert.ToHexString(WireProperties.Marshal(TpmtSymDef.Aes128Cfb.Marshal)));
    }

    [Fact]
    public void Marshal_Xor_OmitsMode()
    {
        // TPMU_SYM_KEY_BITS for XOR is a hash algorithm and TPMU_SYM_MODE is empty.
        var xor = new TpmtSymDef(TpmAlgId.Xor, (ushort)TpmAlgId.Sha256);

        Assert.Equal("000A000B", Convert.ToHexString(WireProperties.Marshal(xor.Marshal)));
    }

    [Fact]
    public void Marshal_Null_WritesSelectorOnly()
    {
        Assert.Equal("0010", Convert.ToHexString(WireProperties.Marshal(TpmtSymDef.Null.Marshal)));
    }
}
