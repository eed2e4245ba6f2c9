namespace TrustStack.Cli.Tests;

public sealed class CliAppTests
{
    [Fact]
    public void Build_HasRootDescription()
    {
        Assert.Contains("TPM", TrustStack.Cli.CliApp.Build().Description, StringComparison.Ordinal);
    }
}
