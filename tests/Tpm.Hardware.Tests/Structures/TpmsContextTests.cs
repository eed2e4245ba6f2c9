using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Structures;

[Properties(Arbitrary = [typeof(TpmArbitraries)])]
public sealed class TpmsContextTests
{
    [Property]
    public bool Marshal_RandomValue_RoundTripsOctets(TpmsContext value) =>
        WireProperties.RoundTrips(WireProperties.Marshal(value.Marshal), TpmsContext.Unmarshal, (v, w) => v.Marshal(w));

    [Property]
    public bool Unmarshal_TruncatedEncoding_ThrowsInsufficient(TpmsContext value, NonNegativeInt cut) =>
        WireProperties.TruncationThrowsInsufficient(WireProperties.Marshal(value.Marshal), cut.Get, TpmsContext.Unmarshal);

    [Property]
    public bool Unmarshal_RandomOctets_ThrowsOnlyTpmException(byte[] octets) =>
        WireProperties.ThrowsOnlyTpmException(octets, TpmsContext.Unmarshal);

    [Property]
    public bool Unmarshal_CorruptedEncoding_ThrowsOnlyTpmException(TpmsContext value, NonNegativeInt index, byte mask) =>
        WireProperties.ThrowsOnlyTpmException(WireProperties.Corrupt(WireProperties.Marshal(value.Marshal), index.Get, mask), TpmsContext.Unmarshal);

    [Fact]
    public void Marshal_Context_WritesSequenceHandleHierarchyAndBlob()
    {
        var context = new TpmsContext(Sequence: 5, SavedHandle: 0x80000000, Hierarchy: TpmRh.Owner, ContextBlob: [0xC0, 0xDE]);

        Assert.Equal("0000000000000005" + "80000000" + "40000001" + "0002C0DE", Convert.ToHexString(WireProperties.Marshal(context.Marshal)));
    }

    [Fact]
    public void Unmarshal_BlobAbove4096Octets_ThrowsSize()
    {
        var writer = new TpmWriter();
        writer.WriteU64(1);
        writer.WriteU32(0x80000000);
        writer.WriteU32(TpmRh.Owner);
        writer.WriteTpm2b(new byte[4097]);
        var octets = writer.ToArray();

        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader(octets);
            TpmsContext.Unmarshal(ref reader);
        });
        Assert.Equal(TpmRc.Size, ex.BaseCode);
    }
}
