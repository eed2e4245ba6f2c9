namespace TrustStack.Tpm.Hardware.Tests.Structures;

public sealed class TpmWriterTests
{
    [Fact]
    public void WriteIntegers_Values_WritesNetworkOrder()
    {
        var writer = new TpmWriter(0);
        writer.WriteU8(0xAB);
        writer.WriteU16(0x0102);
        writer.WriteU32(0x03040506);
        writer.WriteU64(0x0708090A0B0C0D0E);
        writer.WriteAlg(TpmAlgId.Sha256);

        Assert.Equal("AB" + "0102" + "03040506" + "0708090A0B0C0D0E" + "000B", Convert.ToHexString(writer.ToArray()));
    }

    [Fact]
    public void WriteTpm2b_65535Octets_WritesMaximumSize()
    {
        var writer = new TpmWriter();

        writer.WriteTpm2b(new byte[ushort.MaxValue]);

        Assert.Equal(ushort.MaxValue + 2, writer.Length);
        Assert.Equal([0xFF, 0xFF], writer.WrittenSpan[..2].ToArray());
    }

    [Fact]
    public void WriteTpm2b_65536Octets_ThrowsArgumentException()
    {
        var writer = new TpmWriter();

        Assert.Throws<ArgumentException>(() => writer.WriteTpm2b(new byte[ushort.MaxValue + 1]));
        Assert.Equal(0, writer.Length);
    }

    [Fact]
    public void EndSize16_NestedStructure_BackPatchesSize()
    {
        var writer = new TpmWriter();
        var mark = writer.BeginSize16();
        writer.WriteU32(0xDEADBEEF);
        writer.EndSize16(mark);

        Assert.Equal("0004DEADBEEF", Convert.ToHexString(writer.ToArray()));
    }

    [Fact]
    public void EndSize16_65535Octets_Fits()
    {
        var writer = new TpmWriter();
        var mark = writer.BeginSize16();
        writer.WriteBytes(new byte[ushort.MaxValue]);

        writer.EndSize16(mark);

        Assert.Equal([0xFF, 0xFF], writer.WrittenSpan[..2].ToArray());
    }

    [Fact]
    public void EndSize16_65536Octets_ThrowsInvalidOperation()
    {
        var writer = new TpmWriter();
        var mark = writer.BeginSize16();
        writer.WriteBytes(new byte[ushort.MaxValue + 1]);

        Assert.Throws<InvalidOperationException>(() => writer.EndSize16(mark));
    }

    [Fact]
    public void EndSize32_IncludeField_CountsWholeBuffer()
    {
        // A command header: tag, commandSize (covering the header itself), commandCode.
        var writer = new TpmWriter();
        writer.WriteU16(0x8001);
        var mark = writer.BeginSize32();
        writer.WriteU32((uint)TpmCc.Startup);
        writer.WriteU16(0);
        writer.EndSize32(mark, includeField: true);

        Assert.Equal("8001" + "0000000C" + "00000144" + "0000", Convert.ToHexString(writer.ToArray()));
    }

    [Fact]
    public void EndSize32_WithoutField_CountsOctetsAfterField()
    {
        var writer = new TpmWriter();
        var mark = writer.BeginSize32();
        writer.WriteU16(7);
        writer.EndSize32(mark);

        Assert.Equal("000000020007", Convert.ToHexString(writer.ToArray()));
    }

    [Fact]
    public void PatchU32_PastWrittenOctets_ThrowsArgumentOutOfRange()
    {
        var writer = new TpmWriter();
        writer.WriteU32(0);

        Assert.Throws<ArgumentOutOfRangeException>(() => writer.PatchU32(1, 5));
    }

    [Fact]
    public void Clear_AfterWrites_ForgetsOctets()
    {
        var writer = new TpmWriter();
        writer.WriteU32(0xFFFFFFFF);

        writer.Clear();
        writer.WriteU8(1);

        Assert.Equal([1], writer.ToArray());
    }

    [Fact]
    public void Write_BeyondCapacity_GrowsAndKeepsOctets()
    {
        var writer = new TpmWriter(16);
        var payload = Enumerable.Range(0, 1000).Select(i => unchecked((byte)i)).ToArray();

        writer.WriteU8(0x42);
        writer.WriteBytes(payload);

        Assert.Equal([0x42, .. payload], writer.ToArray());
    }
}
