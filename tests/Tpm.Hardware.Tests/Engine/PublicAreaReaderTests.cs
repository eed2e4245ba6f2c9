using TrustStack.Tpm.Hardware.Tests.Interop;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

/// <summary>
/// TPMT_PUBLIC fields are checked while they are unmarshalled, in the reference (libtpms) order,
/// so that a damaged public area stops at the same field with the same code. Found by the
/// differential mutation test against libtpms.
/// </summary>
public sealed class PublicAreaReaderTests
{
    private static TpmRc Read(byte[] publicArea, bool allowNull = false)
    {
        var r = new TpmReader(publicArea) { Parameter = 2 };
        try
        {
            _ = allowNull ? PublicAreaReader.ReadAllowingNullNameAlg(ref r) : PublicAreaReader.ReadRequiringNameAlg(ref r);
            return TpmRc.Success;
        }
        catch (TpmException e)
        {
            return e.ResponseCode;
        }
    }

    private static byte[] Srk() => TpmTemplates.SrkEccP256().ToBytes();

    private static byte[] With(byte[] bytes, int offset, params byte[] values)
    {
        var copy = bytes.ToArray();
        values.CopyTo(copy, offset);
        return copy;
    }

    // ECC SRK layout: type 0-1, nameAlg 2-3, attributes 4-7, authPolicy size 8-9, symmetric 10-15,
    // scheme 16-17, curve 18-19, kdf 20-21, unique 22-.
    [Fact]
    public void Read_ValidTemplate_RoundTrips()
    {
        var r = new TpmReader(Srk());
        Assert.Equal(TpmTemplates.SrkEccP256().ToBytes(), PublicAreaReader.ReadRequiringNameAlg(ref r).ToBytes());
    }

    [Theory]
    [InlineData(0, new byte[] { 0x00, 0x99 }, 0x2CA)] // TPM_RC_TYPE + P2
    [InlineData(2, new byte[] { 0x00, 0x99 }, 0x2C3)] // TPM_RC_HASH + P2
    [InlineData(4, new byte[] { 0x80 }, 0x2E1)] // TPM_RC_RESERVED_BITS + P2
    [InlineData(10, new byte[] { 0xFF, 0x10 }, 0x2D6)] // TPM_RC_SYMMETRIC + P2
    [InlineData(12, new byte[] { 0x00, 0x40 }, 0x2C4)] // AES key bits 64: TPM_RC_VALUE + P2
    [InlineData(14, new byte[] { 0x00, 0x99 }, 0x2C9)] // TPM_RC_MODE + P2
    [InlineData(16, new byte[] { 0x00, 0x14 }, 0x2D2)] // RSASSA on an ECC key: TPM_RC_SCHEME + P2
    [InlineData(18, new byte[] { 0x00, 0x99 }, 0x2E6)] // TPM_RC_CURVE + P2
    [InlineData(20, new byte[] { 0x00, 0x99 }, 0x2CC)] // TPM_RC_KDF + P2
    public void Read_FieldOutOfItsSet_StopsThereWithItsCode(int offset, byte[] value, int expected)
    {
        Assert.Equal((TpmRc)expected, Read(With(Srk(), offset, value)));
    }

    [Fact]
    public void Read_NullNameAlg_OnlyWhenAllowed()
    {
        var bytes = With(Srk(), 2, 0x00, 0x10);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Hash, 2), Read(bytes));
        Assert.Equal(TpmRc.Success, Read(bytes, allowNull: true));
    }

    [Fact]
    public void Read_UnknownSymmetricAlgorithm_FailsBeforeReadingPastTheStructure()
    {
        // Only 12 octets: a reader that took key bits and mode for an unknown algorithm would report TPM_RC_INSUFFICIENT.
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Symmetric, 2), Read(With(Srk(), 10, 0xFF, 0x10)[..12]));
    }

    [Fact]
    public void Read_RsaKeyBitsOutsideTheReferenceSet_ReturnsValue()
    {
        var rsa = TpmTemplates.SrkRsa2048() with { Parameters = new RsaParms(TpmtSymDef.Aes128Cfb, TpmtScheme.Null, 1536, 0) };
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), Read(rsa.ToBytes()));
    }

    [Fact]
    public void CreatePrimary_SizeSmallerThanThePublicArea_ReadsIntoTheNextParameterThenReturnsSize()
    {
        // The reference reads the TPMT_PUBLIC from the command buffer and compares the octets used with the size.
        using var tpm = new SoftwareTpm(new SoftwareTpmOptions { AutoStartup = true });
        var template = Srk();
        var command = RawCommands.Build(TpmCc.CreatePrimary, [TpmRh.Owner], [RawSession.Password()], w =>
        {
            TpmsSensitiveCreate.Empty.MarshalSized(w);
            w.WriteU16(10);
            w.WriteBytes(template[..10]);
            w.WriteTpm2b([]);
            w.WriteU32(0);
        });

        // The symmetric algorithm is read from outsideInfo's size field (0x0000): TPM_RC_SYMMETRIC, as libtpms.
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Symmetric, 2), RawCommands.ResponseCode(tpm.Execute(command)));
    }
}
