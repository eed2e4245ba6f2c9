using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Structures;

[Properties(Arbitrary = [typeof(TpmArbitraries)])]
public sealed class TpmsNvPublicTests
{
    [Property]
    public bool Marshal_RandomValue_RoundTripsOctets(TpmsNvPublic value) =>
        WireProperties.RoundTrips(WireProperties.Marshal(value.Marshal), TpmsNvPublic.Unmarshal, (v, w) => v.Marshal(w));

    [Property]
    public bool Unmarshal_TruncatedEncoding_ThrowsInsufficient(TpmsNvPublic value, NonNegativeInt cut) =>
        WireProperties.TruncationThrowsInsufficient(WireProperties.Marshal(value.Marshal), cut.Get, TpmsNvPublic.Unmarshal);

    [Property]
    public bool Unmarshal_RandomOctets_ThrowsOnlyTpmException(byte[] octets) =>
        WireProperties.ThrowsOnlyTpmException(octets, TpmsNvPublic.Unmarshal);

    [Property]
    public bool Unmarshal_CorruptedEncoding_ThrowsOnlyTpmException(TpmsNvPublic value, NonNegativeInt index, byte mask) =>
        WireProperties.ThrowsOnlyTpmException(WireProperties.Corrupt(WireProperties.Marshal(value.Marshal), index.Get, mask), TpmsNvPublic.Unmarshal);

    [Fact]
    public void GetName_IndexDefinedInLibtpms_MatchesNameReportedByTpm()
    {
        // Vector: swtpm 0.7.1 (libtpms), `tpm2_nvdefine 0x1500016 -C o -s 32
        // -a "ownerread|ownerwrite|authread|authwrite"`, then `tpm2_nvreadpublic 0x1500016`.
        var index = new TpmsNvPublic(0x01500016, TpmAlgId.Sha256, TpmaNv.OwnerRead | TpmaNv.OwnerWrite | TpmaNv.AuthRead | TpmaNv.AuthWrite, [], 32);

        Assert.Equal(0x60006u, (uint)index.Attributes);
        Assert.Equal("000B5EFC224A5CA11F53DB485095134D993AA8C24C69FDF17CDC1D38DFA3FEC20C80", Convert.ToHexString(index.GetName()));
    }

    [Theory]
    [InlineData(TpmaNv.None, 0)]
    [InlineData(TpmaNv.TypeCounter, 1)]
    [InlineData(TpmaNv.TypeBits, 2)]
    [InlineData(TpmaNv.TypeExtend, 4)]
    public void IndexType_TypeBits_ReadsTpmNt(TpmaNv type, int expected)
    {
        var index = new TpmsNvPublic(0x01000001, TpmAlgId.Sha256, type | TpmaNv.OwnerRead, [], 8);

        Assert.Equal(expected, index.IndexType);
    }

    [Fact]
    public void UnmarshalSized_TrailingOctetInsideSize_ThrowsSize()
    {
        var inner = new TpmsNvPublic(0x01000001, TpmAlgId.Sha256, TpmaNv.OwnerRead, [], 8).ToBytes();
        var writer = new TpmWriter();
        writer.WriteTpm2b([.. inner, 0x00]);
        var octets = writer.ToArray();

        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader(octets);
            TpmsNvPublic.UnmarshalSized(ref reader);
        });
        Assert.Equal(TpmRc.Size, ex.BaseCode);
    }
}
