using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Structures;

[Properties(Arbitrary = [typeof(TpmArbitraries)])]
public sealed class PcrSelectionListTests
{
    [Property]
    public bool Marshal_RandomValue_RoundTripsOctets(PcrSelectionList value) =>
        WireProperties.RoundTrips(WireProperties.Marshal(value.Marshal), PcrSelectionList.Unmarshal, (v, w) => v.Marshal(w));

    [Property]
    public bool Unmarshal_TruncatedEncoding_ThrowsInsufficient(PcrSelectionList value, NonNegativeInt cut) =>
        WireProperties.TruncationThrowsInsufficient(WireProperties.Marshal(value.Marshal), cut.Get, PcrSelectionList.Unmarshal);

    [Property]
    public bool Unmarshal_RandomOctets_ThrowsOnlyTpmException(byte[] octets) =>
        WireProperties.ThrowsOnlyTpmException(octets, PcrSelectionList.Unmarshal);

    [Property]
    public bool Unmarshal_CorruptedEncoding_ThrowsOnlyTpmException(PcrSelectionList value, NonNegativeInt index, byte mask) =>
        WireProperties.ThrowsOnlyTpmException(WireProperties.Corrupt(WireProperties.Marshal(value.Marshal), index.Get, mask), PcrSelectionList.Unmarshal);

    [Fact]
    public void Parse_Tpm2ToolsForm_MarshalsBanksInOrder()
    {
        var list = PcrSelectionList.Parse("sha256:0,1,2+sha1:7");

        Assert.Equal("00000002" + "000B03070000" + "000403800000", Convert.ToHexString(WireProperties.Marshal(list.Marshal)));
    }

    [Fact]
    public void Enumerate_TwoBanks_BanksInListOrderPcrsAscending()
    {
        var list = PcrSelectionList.Parse("sha256:16,3+sha1:0");

        Assert.Equal([(TpmAlgId.Sha256, 3), (TpmAlgId.Sha256, 16), (TpmAlgId.Sha1, 0)], list.Enumerate());
    }

    [Theory]
    [InlineData("md5:0")]
    [InlineData("sha256:24")]
    [InlineData("sha256")]
    [InlineData("sha256:x")]
    public void Parse_Malformed_ThrowsFormatException(string text)
    {
        Assert.Throws<FormatException>(() => PcrSelectionList.Parse(text));
    }

    [Fact]
    public void Unmarshal_SeventeenBanks_ThrowsSize()
    {
        var octets = Convert.FromHexString("00000011");

        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader(octets);
            PcrSelectionList.Unmarshal(ref reader);
        });
        Assert.Equal(TpmRc.Size, ex.BaseCode);
    }
}
