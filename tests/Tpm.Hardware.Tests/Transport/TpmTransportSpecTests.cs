namespace TrustStack.Tpm.Hardware.Tests.Transport;

public sealed class TpmTransportSpecTests
{
    [Theory]
    [InlineData("swtpm:host=127.0.0.1,port=2321", "swtpm", "127.0.0.1", 2321)]
    [InlineData("mssim:port=2400", "mssim", "127.0.0.1", 2400)]
    [InlineData("swtpm", "swtpm", "127.0.0.1", 2321)]
    public void Parse_SocketSpecs_ReadsHostAndPort(string text, string kind, string host, int port)
    {
        var spec = TpmTransportSpec.Parse(text);
        Assert.Equal(kind, spec.Kind);
        Assert.Equal(host, spec.Host);
        Assert.Equal(port, spec.Port);
    }

    [Theory]
    [InlineData("tpm:foo")]
    [InlineData("swtpm:port=99999")]
    [InlineData("swtpm:port")]
    [InlineData("mssim:port=abc")]
    public void Parse_Malformed_ThrowsFormatException(string text) =>
        Assert.Throws<FormatException>(() => TpmTransportSpec.Parse(text));

    [Fact]
    public void Open_Embedded_WithSeed_IsDeterministic()
    {
        using var a = TpmTransportSpec.Parse("embedded:seed=9").Open();
        using var b = TpmTransportSpec.Parse("embedded:seed=9").Open();
        Assert.Equal(new Tpm2(a).GetRandom(16), new Tpm2(b).GetRandom(16));
    }

    [Fact]
    public void Open_MissingDevice_SaysWhatToUseInstead()
    {
        var e = Assert.Throws<FileNotFoundException>(() => TpmTransportSpec.Parse("device:/dev/does-not-exist").Open());
        Assert.Contains("swtpm", e.Message, StringComparison.Ordinal);
    }
}
