namespace TrustStack.Cli.Tests;

/// <summary><c>truststack certs compare</c>.</summary>
public sealed class CertsCommandsTests
{
    [Fact]
    public void Compare_TwoVTpms_PrintsEverySchemeWithItsCostsAndRules()
    {
        var (code, output, error) = QuoteVerifyCommandTests.Invoke("certs", "compare", "--vtpms", "2");

        Assert.True(code == 0, output + error);
        foreach (var scheme in new[] { "vmek", "hw-aik", "local-ca", "deep-quote", "pca-per-vek" })
        {
            Assert.Contains($"{scheme}: ", output, StringComparison.Ordinal);
            Assert.Contains($"{scheme}: 2/2 vTPMs credentialed", error, StringComparison.Ordinal);
        }

        var vmekRow = output.Split('\n').First(l => l.StartsWith("vmek ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["vmek", "1", "1", "1", "1", "0", "2", "no", "2"], vmekRow[..9]);
        var deepRow = output.Split('\n').First(l => l.StartsWith("deep-quote ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["deep-quote", "1", "0", "0", "0", "1", "3", "yes", "2"], deepRow[..9]);
        Assert.Contains("vmek: ", output, StringComparison.Ordinal);
        Assert.Contains("TCG rules broken: none", output, StringComparison.Ordinal);
        Assert.Contains("restricted attestation key signs a non-TPM-generated structure", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_ZeroVTpms_ExitsTwo()
    {
        var (code, _, error) = QuoteVerifyCommandTests.Invoke("certs", "compare", "--vtpms", "0");

        Assert.Equal(2, code);
        Assert.Contains("--vtpms", error, StringComparison.Ordinal);
    }
}
