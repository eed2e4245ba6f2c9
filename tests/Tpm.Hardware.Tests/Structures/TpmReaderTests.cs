namespace TrustStack.Tpm.Hardware.Tests.Structures;

public sealed class TpmReaderTests
{
    [Fact]
    public void ReadIntegers_BigEndianOctets_ReadsNetworkOrder()
    {
        var reader = new TpmReader(Convert.FromHexString("AB" + "0102" + "03040506" + "0708090A0B0C0D0E"));

        Assert.Equal(0xAB, reader.ReadU8());
        Assert.Equal(0x0102, reader.ReadU16());
        Assert.Equal(0x03040506u, reader.ReadU32());
        Assert.Equal(0x0708090A0B0C0D0Eul, reader.ReadU64());
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void ReadU32_ThreeOctetsLeft_ThrowsInsufficient()
    {
        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader([1, 2, 3]);
            reader.ReadU32();
        });
        Assert.Equal(TpmRc.Insufficient, ex.ResponseCode);
    }

    [Fact]
    public void ReadTpm2b_SizeAboveLimit_ThrowsSize()
    {
        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader([0x00, 0x41, .. new byte[65]]);
            reader.ReadTpm2b(64);
        });
        Assert.Equal(TpmRc.Size, ex.ResponseCode);
    }

    [Fact]
    public void ReadTpm2b_SizeLargerThanData_ThrowsInsufficient()
    {
        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader([0x00, 0x04, 0xAA]);
            reader.ReadTpm2b();
        });
        Assert.Equal(TpmRc.Insufficient, ex.ResponseCode);
    }

    [Fact]
    public void ReadBytes_NegativeCount_ThrowsSize()
    {
        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader([1, 2]);
            reader.ReadBytes(-1);
        });
        Assert.Equal(TpmRc.Size, ex.ResponseCode);
    }

    [Fact]
    public void Fail_ParameterTwo_AddsParameterNumber()
    {
        var reader = new TpmReader([]) { Parameter = 2 };

        var ex = reader.Fail(TpmRc.Value, "test");

        // TPM 2.0 Part 2 §6.6.3: TPM_RC_VALUE + TPM_RC_P + TPM_RC_2.
        Assert.Equal((TpmRc)0x2C4, ex.ResponseCode);
        Assert.Equal(TpmResponseCode.Parameter(TpmRc.Value, 2), ex.ResponseCode);
        Assert.Equal(TpmRc.Value, ex.BaseCode);
    }

    [Fact]
    public void Fail_FormatZeroCode_KeepsCodeUnqualified()
    {
        var reader = new TpmReader([]) { Parameter = 2 };

        Assert.Equal(TpmRc.Initialize, reader.Fail(TpmRc.Initialize, "test").ResponseCode);
    }

    [Fact]
    public void ReadU16_ParameterThreeTruncated_ThrowsInsufficientForParameterThree()
    {
        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader([0x01]) { Parameter = 3 };
            reader.ReadU16();
        });
        Assert.Equal((TpmRc)0x3DA, ex.ResponseCode);
    }

    [Fact]
    public void ReadSized16_InnerStructure_LimitsReadsToItsSize()
    {
        var reader = new TpmReader([0x00, 0x02, 0xAA, 0xBB, 0xCC]) { Parameter = 1 };

        var inner = reader.ReadSized16();

        Assert.Equal(2, inner.Remaining);
        Assert.Equal(1, inner.Parameter);
        Assert.Equal(0xCC, reader.ReadU8());
    }

    [Fact]
    public void EnsureConsumed_OctetsLeft_ThrowsSize()
    {
        var ex = Assert.Throws<TpmException>(() =>
        {
            var reader = new TpmReader([0x00, 0x02, 0xAA, 0xBB]);
            var inner = reader.ReadSized16();
            inner.ReadU8();
            inner.EnsureConsumed();
        });
        Assert.Equal(TpmRc.Size, ex.ResponseCode);
    }

    [Fact]
    public void ConsumedSpan_AfterReads_HoldsReadOctets()
    {
        var reader = new TpmReader([1, 2, 3, 4]);
        reader.ReadU16();

        Assert.Equal([1, 2], reader.ConsumedSpan.ToArray());
        Assert.Equal([3, 4], reader.RemainingSpan.ToArray());
        Assert.Equal(2, reader.Position);
    }
}
