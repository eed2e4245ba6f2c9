namespace TrustStack.Cli.Tests;

/// <summary><c>truststack shadow demo</c>.</summary>
public sealed class ShadowCommandsTests
{
    [Fact]
    public void ShadowDemo_Default_EveryAttackDeniedAndModuleRestored()
    {
        var (code, output, error) = QuoteVerifyCommandTests.Invoke("shadow", "demo");

        Assert.True(code == 0, output + error);
        Assert.DoesNotContain("[ALLOWED]", output, StringComparison.Ordinal);
        Assert.Equal(5, output.Split("[DENIED]").Length - 1);
        Assert.Contains("ProtectedFrameOnTlbHit", output, StringComparison.Ordinal);
        Assert.Contains("Restored", output, StringComparison.Ordinal);
        Assert.Contains("Result: PROTECTED", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ShadowDemo_SameSeed_SameOutput()
    {
        var (_, first, _) = QuoteVerifyCommandTests.Invoke("shadow", "demo", "--seed", "9");
        var (_, second, _) = QuoteVerifyCommandTests.Invoke("shadow", "demo", "--seed", "9");

        Assert.Equal(first, second);
    }
}
