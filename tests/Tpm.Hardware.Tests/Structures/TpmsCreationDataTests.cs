using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Structures;

[Properties(Arbitrary = [typeof(TpmArbitraries)])]
public sealed class TpmsCreationDataTests
{
    [Property]
    public bool Marshal_RandomValue_RoundTripsOctets(TpmsCreationData value) =>
        WireProperties.RoundTrips(WireProperties.Marshal(value.Marshal), TpmsCreationData.Unmarshal, (v, w) => v.Marshal(w));

    [Property]
    public bool Unmarshal_TruncatedEncoding_ThrowsInsufficient(TpmsCreationData value, NonNegativeInt cut) =>
        WireProperties.TruncationThrowsInsufficient(WireProperties.Marshal(value.Marshal), cut.Get, TpmsCreationData.Unmarshal);

    [Property]
    public bool Unmarshal_RandomOctets_ThrowsOnlyTpmException(byte[] octets) =>
        WireProperties.ThrowsOnlyTpmException(octets, TpmsCreationData.Unmarshal);

    [Property]
    public bool Unmarshal_CorruptedEncoding_ThrowsOnlyTpmException(TpmsCreationData value, NonNegativeInt index, byte mask) =>
        WireProperties.ThrowsOnlyTpmException(WireProperties.Corrupt(WireProperties.Marshal(value.Marshal), index.Get, mask), TpmsCreationData.Unmarshal);

    [Fact]
    public void ToBytes_CreationData_FollowsPart2Layout()
    {
        // TPM 2.0 Part 2 §15.1: pcrSelect, pcrDigest, locality, parentNameAlg, parentName, parentQualifiedName, outsideInfo.
        var data = new TpmsCreationData(PcrSelectionList.Empty, [0xAB], 0x01, TpmAlgId.Sha256, [0x40, 0x00, 0x00, 0x01], [0x40, 0x00, 0x00, 0x01], []);

        Assert.Equal("00000000" + "0001AB" + "01" + "000B" + "000440000001" + "000440000001" + "0000", Convert.ToHexString(data.ToBytes()));
    }
}
