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

    [Theory]
    [InlineData("swtpm:prot=2321")]
    [InlineData("mssim:host=127.0.0.1,timout=5")]
    [InlineData("embedded:sead=42")]
    [InlineData("embedded:port=2321")]
    public void Parse_UnknownSetting_ThrowsFormatExceptionNamingIt(string text)
    {
        // A typo must not silently fall back to a default (port 2321, a random seed).
        var e = Assert.Throws<FormatException>(() => TpmTransportSpec.Parse(text));
        Assert.Contains("Unknown", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("embedded:seed=-1")]
    [InlineData("embedded:seed=18446744073709551616")]
    [InlineData("embedded:seed=abc")]
    [InlineData("embedded:state=")]
    [InlineData("embedded:state-key=/tmp/k")]
    public void Parse_BadEmbeddedSetting_ThrowsFormatException(string text) =>
        Assert.Throws<FormatException>(() => TpmTransportSpec.Parse(text));

    [Fact]
    public void Timeouts_EachSetting_IsRead()
    {
        var t = TpmTransportSpec.Parse("swtpm:port=2321,connect-timeout=500ms,send-timeout=7,timeout=1.5s,keygen-timeout=10m").Timeouts;
        Assert.Equal(TimeSpan.FromMilliseconds(500), t.Connect);
        Assert.Equal(TimeSpan.FromSeconds(7), t.Send);
        Assert.Equal(TimeSpan.FromSeconds(1.5), t.Response);
        Assert.Equal(TimeSpan.FromMinutes(10), t.KeyGeneration);
    }

    [Fact]
    public void Timeouts_TimeoutAlone_AlsoSetsKeyGeneration()
    {
        var t = TpmTransportSpec.Parse("mssim:port=2321,timeout=30").Timeouts;
        Assert.Equal(TimeSpan.FromSeconds(30), t.Response);
        Assert.Equal(TimeSpan.FromSeconds(30), t.KeyGeneration);
        Assert.Equal(TpmSocketTimeouts.Default.Connect, t.Connect);
    }

    [Fact]
    public void Timeouts_NoSettings_AreTheDefaults()
    {
        var t = TpmTransportSpec.Parse("swtpm").Timeouts;
        Assert.Equal(TimeSpan.FromSeconds(10), t.Connect);
        Assert.Equal(TimeSpan.FromSeconds(30), t.Send);
        Assert.Equal(TimeSpan.FromSeconds(120), t.Response);
        Assert.Equal(TimeSpan.FromSeconds(300), t.KeyGeneration);
    }

    [Theory]
    [InlineData("swtpm:timeout=0")]
    [InlineData("swtpm:timeout=-1")]
    [InlineData("swtpm:timeout=abc")]
    [InlineData("swtpm:timeout=1h")]
    [InlineData("swtpm:timeout=1e9")]
    [InlineData("mssim:connect-timeout=0.0001s")]
    [InlineData("mssim:send-timeout=NaN")]
    [InlineData("swtpm:keygen-timeout=100000000")]
    public void Parse_BadTimeout_ThrowsFormatException(string text) =>
        Assert.Throws<FormatException>(() => TpmTransportSpec.Parse(text));

    [Fact]
    public void Timeouts_OutOfRange_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TpmSocketTimeouts { Response = TimeSpan.Zero });
        Assert.Throws<ArgumentOutOfRangeException>(() => new TpmSocketTimeouts { Connect = TimeSpan.FromDays(30) });
    }

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
