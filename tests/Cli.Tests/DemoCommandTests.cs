using Snapshooter.Xunit;
using TrustStack.Tests.Shared;

namespace TrustStack.Cli.Tests;

/// <summary><c>truststack demo</c> end to end.</summary>
public sealed class DemoCommandTests
{
    [Fact]
    public void Demo_Seeded_IsTrustedAndByteReproducible()
    {
        var (code, output, error) = QuoteVerifyCommandTests.Invoke("demo", "--seed", "42");
        var (again, output2, _) = QuoteVerifyCommandTests.Invoke("demo", "--seed", "42");

        Assert.True(code == 0, output + error);
        Assert.Equal(0, again);
        Assert.Equal(output, output2);
        Assert.Contains("Result: TRUSTED", output, StringComparison.Ordinal);
        Assert.DoesNotContain("[FAIL]", output, StringComparison.Ordinal);
        Snapshot.Match(output.ReplaceLineEndings("\n").Split('\n'));
    }

    [Fact]
    public void Demo_Unseeded_IsTrustedWithFreshNonce()
    {
        var (code, output, error) = QuoteVerifyCommandTests.Invoke("demo");
        var (_, output2, _) = QuoteVerifyCommandTests.Invoke("demo");

        Assert.True(code == 0, output + error);
        Assert.NotEqual(output, output2);
    }

    [Fact]
    public void Demo_OnRealSwtpm_IsTrusted()
    {
        using var swtpm = new SwtpmProcess();
        var (code, output, error) = QuoteVerifyCommandTests.Invoke("demo", "--tpm", swtpm.Tcti);

        Assert.True(code == 0, output + error);
        Assert.Contains($"on {swtpm.Tcti}", output, StringComparison.Ordinal);
        Assert.Contains("the --tpm TPM is not used here", output, StringComparison.Ordinal);
        Assert.Contains("Result: TRUSTED", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tpm:nope")]
    [InlineData("swtpm:port=0x10")]
    public void Demo_BadTpmSpec_ExitsTwoWithReason(string spec)
    {
        var (code, _, error) = QuoteVerifyCommandTests.Invoke("demo", "--tpm", spec);

        Assert.Equal(2, code);
        Assert.StartsWith("error:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_SwtpmNotListening_ExitsOneWithReason()
    {
        var port = SwtpmProcess.FreePortPair();
        var (code, _, error) = QuoteVerifyCommandTests.Invoke("demo", "--tpm", $"swtpm:host=127.0.0.1,port={port}");

        Assert.Equal(1, code);
        Assert.Contains("error:", error, StringComparison.Ordinal);
    }
}
