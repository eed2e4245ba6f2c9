namespace TrustStack.Daa.Tmz.Tests;

public sealed class NsCpuProfileTests
{
    [Fact]
    public void Default_ShippedJson_Parses()
    {
        Assert.Equal(64, NsCpuProfile.Default.WordBits);
        Assert.Equal(NsCpuProfile.Default, NsCpuProfile.Parse(NsCpuProfile.DefaultJson));
    }

    [Fact]
    public void Parse_EditedProfile_ChangesCycles()
    {
        var slow = NsCpuProfile.Parse(NsCpuProfile.DefaultJson.Replace("\"cyclesPerWordMultiplication\": 3.0", "\"cyclesPerWordMultiplication\": 30.0", StringComparison.Ordinal));
        var ops = new NsWordOps(10, 0, 0, 0);
        Assert.Equal(10 * slow.CyclesPerWordMultiplication, slow.Cycles(ops));
        Assert.Equal(10 * NsCpuProfile.Default.CyclesPerWordMultiplication * 10, slow.Cycles(ops));
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{\"name\":\"x\",\"description\":\"\",\"wordBits\":12,\"cyclesPerWordMultiplication\":1,\"cyclesPerWordAddition\":1,\"cyclesPerMemoryRead\":1,\"cyclesPerMemoryWrite\":1,\"clockGHz\":1}")]
    [InlineData("{\"name\":\"x\",\"description\":\"\",\"wordBits\":64,\"cyclesPerWordMultiplication\":1,\"cyclesPerWordAddition\":1,\"cyclesPerMemoryRead\":1,\"cyclesPerMemoryWrite\":1,\"clockGHz\":1,\"unknown\":1}")]
    public void Parse_Invalid_FormatException(string json) => Assert.Throws<FormatException>(() => NsCpuProfile.Parse(json));
}
