using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Structures;

[Properties(Arbitrary = [typeof(TpmArbitraries)])]
public sealed class TpmsAttestTests
{
    [Property]
    public bool Marshal_RandomValue_RoundTripsOctets(TpmsAttest value) =>
        WireProperties.RoundTrips(WireProperties.Marshal(value.Marshal), TpmsAttest.Unmarshal, (v, w) => v.Marshal(w));

    [Property]
    public bool Unmarshal_TruncatedEncoding_ThrowsInsufficient(TpmsAttest value, NonNegativeInt cut) =>
        WireProperties.TruncationThrowsInsufficient(WireProperties.Marshal(value.Marshal), cut.Get, TpmsAttest.Unmarshal);

    [Property]
    public bool Unmarshal_RandomOctets_ThrowsOnlyTpmException(byte[] octets) =>
        WireProperties.ThrowsOnlyTpmException(octets, TpmsAttest.Unmarshal);

    [Property]
    public bool Unmarshal_CorruptedEncoding_ThrowsOnlyTpmException(TpmsAttest value, NonNegativeInt index, byte mask) =>
        WireProperties.ThrowsOnlyTpmException(WireProperties.Corrupt(WireProperties.Marshal(value.Marshal), index.Get, mask), TpmsAttest.Unmarshal);

    private static TpmsAttest Quote() => new(
        TpmsAttest.GeneratedValue,
        QualifiedSigner: [0x00, 0x0B, 0xAA],
        ExtraData: [0x01, 0x02, 0x03, 0x04],
        new TpmsClockInfo(Clock: 0x10, ResetCount: 1, RestartCount: 2, Safe: true),
        FirmwareVersion: 0x0102030405060708,
        new QuoteInfo(PcrSelectionList.Create(TpmAlgId.Sha256, 16), [0xDD, 0xEE]));

    [Fact]
    public void ToBytes_Quote_FollowsTpmsAttestLayout()
    {
        // TPM 2.0 Part 2 §10.12.12: magic, type, qualifiedSigner, extraData, clockInfo, firmwareVersion, TPMS_QUOTE_INFO.
        var expected = "FF544347" + "8018" + "0003000BAA" + "000401020304"
            + "0000000000000010" + "00000001" + "00000002" + "01"
            + "0102030405060708"
            + "00000001000B03000001" + "0002DDEE";

        Assert.Equal(expected, Convert.ToHexString(Quote().ToBytes()));
    }

    [Fact]
    public void Parse_Quote_RoundTripsAndReportsType()
    {
        var parsed = TpmsAttest.Parse(Quote().ToBytes());

        Assert.Equal(TpmSt.AttestQuote, parsed.Type);
        Assert.Equal(Quote().ToBytes(), parsed.ToBytes());
    }

    [Fact]
    public void Parse_TrailingOctet_ThrowsSize()
    {
        byte[] octets = [.. Quote().ToBytes(), 0x00];

        var ex = Assert.Throws<TpmException>(() => TpmsAttest.Parse(octets));
        Assert.Equal(TpmRc.Size, ex.BaseCode);
    }

    [Fact]
    public void Parse_UnknownAttestationType_ThrowsSelector()
    {
        var octets = Quote().ToBytes();
        octets[4] = 0x80;
        octets[5] = 0x24; // TPM_ST_HASHCHECK is no attestation type

        var ex = Assert.Throws<TpmException>(() => TpmsAttest.Parse(octets));
        Assert.Equal(TpmRc.Selector, ex.BaseCode);
    }

    [Fact]
    public void Parse_ClockSafeNotYesNo_ThrowsValue()
    {
        var octets = Quote().ToBytes();
        octets[4 + 2 + 5 + 6 + 16] = 0x02; // clockInfo.safe

        var ex = Assert.Throws<TpmException>(() => TpmsAttest.Parse(octets));
        Assert.Equal(TpmRc.Value, ex.BaseCode);
    }
}
