using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Structures;

[Properties(Arbitrary = [typeof(TpmArbitraries)])]
public sealed class TpmtSchemeTests
{
    [Property]
    public bool Marshal_RandomValue_RoundTripsOctets(TpmtScheme value) =>
        WireProperties.RoundTrips(WireProperties.Marshal(value.Marshal), TpmtScheme.Unmarshal, (v, w) => v.Marshal(w));

    [Property]
    public bool Unmarshal_TruncatedEncoding_ThrowsInsufficient(TpmtScheme value, NonNegativeInt cut) =>
        WireProperties.TruncationThrowsInsufficient(WireProperties.Marshal(value.Marshal), cut.Get, TpmtScheme.Unmarshal);

    [Property]
    public bool Unmarshal_RandomOctets_ThrowsOnlyTpmException(byte[] octets) =>
        WireProperties.ThrowsOnlyTpmException(octets, TpmtScheme.Unmarshal);

    [Property]
    public bool Unmarshal_CorruptedEncoding_ThrowsOnlyTpmException(TpmtScheme value, NonNegativeInt index, byte mask) =>
        WireProperties.ThrowsOnlyTpmException(WireProperties.Corrupt(WireProperties.Marshal(value.Marshal), index.Get, mask), TpmtScheme.Unmarshal);

    // TPM 2.0 Part 2 §11.2: the selector, then the details its value selects.
    [Theory]
    [InlineData(TpmAlgId.Null, TpmAlgId.Null, 0, TpmAlgId.Null, "0010")]
    [InlineData(TpmAlgId.Rsaes, TpmAlgId.Null, 0, TpmAlgId.Null, "0015")]
    [InlineData(TpmAlgId.Ecdsa, TpmAlgId.Sha256, 0, TpmAlgId.Null, "0018000B")]
    [InlineData(TpmAlgId.Ecdaa, TpmAlgId.Sha256, 7, TpmAlgId.Null, "001A000B0007")]
    [InlineData(TpmAlgId.Xor, TpmAlgId.Sha256, 0, TpmAlgId.Kdf1Sp800108, "000A000B0022")]
    public void Marshal_EachShape_WritesSelectedDetails(TpmAlgId scheme, TpmAlgId hash, ushort count, TpmAlgId kdf, string expected)
    {
        var octets = WireProperties.Marshal(new TpmtScheme(scheme, hash, count, kdf).Marshal);

        Assert.Equal(expected, Convert.ToHexString(octets));
    }
}
