using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Structures;

[Properties(Arbitrary = [typeof(TpmArbitraries)])]
public sealed class PcrSelectionTests
{
    [Property]
    public bool Marshal_RandomValue_RoundTripsOctets(PcrSelection value) =>
        WireProperties.RoundTrips(WireProperties.Marshal(value.Marshal), PcrSelection.Unmarshal, (v, w) => v.Marshal(w));

    [Property]
    public bool Unmarshal_TruncatedEncoding_ThrowsInsufficient(PcrSelection value, NonNegativeInt cut) =>
        WireProperties.TruncationThrowsInsufficient(WireProperties.Marshal(value.Marshal), cut.Get, PcrSelection.Unmarshal);

    [Property]
    public bool Unmarshal_RandomOctets_ThrowsOnlyTpmException(byte[] octets) =>
        WireProperties.ThrowsOnlyTpmException(octets, PcrSelection.Unmarshal);

    [Property]
    public bool Unmarshal_CorruptedEncoding_ThrowsOnlyTpmException(PcrSelection value, NonNegativeInt index, byte mask) =>
        WireProperties.ThrowsOnlyTpmException(WireProperties.Corrupt(WireProperties.Marshal(value.Marshal), index.Get, mask), PcrSelection.Unmarshal);

    [Fact]
    public void Marshal_Sha256Pcrs0And1And16_WritesBankSizeAndBitmap()
    {
        var octets = WireProperties.Marshal(PcrSelection.Create(TpmAlgId.Sha256, 0, 1, 16).Marshal);

        // TPM 2.0 Part 2 §10.6.2: hash, sizeofSelect, PCR n at bit n % 8 of octet n / 8.
        Assert.Equal("000B03030001", Convert.ToHexString(octets));
    }

    [Fact]
    public void Pcrs_Bitmap_ListsIndicesAscending()
    {
        var selection = new PcrSelection(TpmAlgId.Sha1, [0x81, 0x00, 0x40]);

        Assert.Equal([0, 7, 22], selection.Pcrs);
    }

    [Fact]
    public void Unmarshal_SizeofSelectAboveMax_ThrowsValue()
    {
        var octets = Convert.FromHexString("000B050000000000");

        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader(octets);
            PcrSelection.Unmarshal(ref reader);
        });
        Assert.Equal(TpmRc.Value, ex.BaseCode);
    }

    [Fact]
    public void Create_Pcr24_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PcrSelection.Create(TpmAlgId.Sha256, 24));
    }
}
