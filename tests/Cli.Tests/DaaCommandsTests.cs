using System.Text.Json;
using TrustStack.Daa.Tmz;
using TrustStack.Tests.Shared;
using static TrustStack.Cli.Tests.QuoteVerifyCommandTests;

namespace TrustStack.Cli.Tests;

/// <summary><c>truststack daa demo</c> and <c>truststack daa cost</c>.</summary>
public sealed class DaaCommandsTests
{
    [Theory]
    [InlineData("ristretto255")]
    [InlineData("p256")]
    public void Demo_Seeded_EveryCheckOkAndReproducible(string group)
    {
        var (code, output, error) = Invoke("daa", "demo", "--group", group, "--seed", "7");
        var (_, again, _) = Invoke("daa", "demo", "--group", group, "--seed", "7");
        Assert.True(code == 0, output + error);
        Assert.Equal(output, again);
        Assert.DoesNotContain("[FAIL]", output, StringComparison.Ordinal);
        Assert.Contains("Rogue TPM C (extracted key listed) rejected", output, StringComparison.Ordinal);
        Assert.Contains("Without basename: verifies, unlinkable", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_EmbeddedTpm_PlatformAOnTpm2()
    {
        var (code, output, error) = Invoke("daa", "demo", "--tpm", "embedded", "--seed", "3");
        Assert.True(code == 0, output + error);
        Assert.Contains("Join platform A  TPM 2.0", output, StringComparison.Ordinal);
        Assert.Contains("TMZ-DAA demo in p256", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_OnRealSwtpm_Ok()
    {
        using var swtpm = new SwtpmProcess();
        var (code, output, error) = Invoke("daa", "demo", "--tpm", swtpm.Tcti);
        Assert.True(code == 0, output + error);
        Assert.Contains("Join platform A  TPM 2.0", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_TpmWithRistretto_UnusableInput()
    {
        var (code, _, error) = Invoke("daa", "demo", "--tpm", "embedded", "--group", "ristretto255");
        Assert.Equal(2, code);
        Assert.Contains("p256 only", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_ProtocolEcdaa_EveryCheckOkAndReproducible()
    {
        var (code, output, error) = Invoke("daa", "demo", "--protocol", "ecdaa", "--seed", "5");
        var (_, again, _) = Invoke("daa", "demo", "--protocol", "ecdaa", "--seed", "5");
        Assert.True(code == 0, output + error);
        Assert.Equal(output, again);
        Assert.Contains("ECDAA demo on BN_P256", output, StringComparison.Ordinal);
        Assert.DoesNotContain("[FAIL]", output, StringComparison.Ordinal);
        Assert.Contains("Rogue TPM C (extracted key listed) rejected", output, StringComparison.Ordinal);
        Assert.Contains("Same platform, same basename: linkable", output, StringComparison.Ordinal);

        // Five signatures reach the pairing checks (4 pairings each); the replay fails the TPM proof first.
        var verifierRow = output.Split('\n').Single(l => l.TrimStart().StartsWith("Verifier", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("20", verifierRow[5]);
    }

    [Fact]
    public void Demo_ProtocolEcdaaEmbeddedTpm_PlatformAOnTpm2()
    {
        var (code, output, error) = Invoke("daa", "demo", "--protocol", "ecdaa", "--tpm", "embedded", "--seed", "4");
        Assert.True(code == 0, output + error);
        Assert.Contains("Join platform A  TPM 2.0 (BN_P256)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("[FAIL]", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_ProtocolEcdaaBadTpmSpec_UnusableInput()
    {
        var (code, _, error) = Invoke("daa", "demo", "--protocol", "ecdaa", "--tpm", "nonsense:");
        Assert.Equal(2, code);
        Assert.Contains("error:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Cost_Table_ThreeProtocolsSideBySide()
    {
        var (code, output, error) = Invoke("daa", "cost");
        Assert.True(code == 0, error);
        foreach (var protocol in new[] { "BCC04/RSA-2048", "ECDAA/BN_P256", "TMZ-DAA/p256", "TMZ-DAA/ristretto255" })
        {
            Assert.Contains(protocol, output, StringComparison.Ordinal);
        }

        Assert.Contains("Totals per protocol and phase", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Estimate_Csv_OneLinePerEntityPhase()
    {
        var (code, output, _) = Invoke("daa", "estimate", "--format", "csv");
        Assert.Equal(0, code);
        var lines = output.ReplaceLineEndings("\n").Trim().Split('\n');
        Assert.StartsWith("protocol,entity,phase", lines[0], StringComparison.Ordinal);
        var expected = NsProtocols.All().Sum(p => NsCostModel.Evaluate(p, NsCpuProfile.Default).Count);
        Assert.Equal(expected, lines.Length - 1);
        Assert.Contains("TMZ-DAA/p256,Verifier,Verify,10,4,7,2,1,0,0,", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Cost_EditedProfile_ScalesCycles()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ns-profile-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, NsCpuProfile.DefaultJson.Replace("\"cyclesPerWordMultiplication\": 3.0", "\"cyclesPerWordMultiplication\": 300.0", StringComparison.Ordinal));
            double Cycles(params string[] extra)
            {
                var (code, output, _) = Invoke(["daa", "cost", "--format", "json", .. extra]);
                Assert.Equal(0, code);
                using var doc = JsonDocument.Parse(output);
                return doc.RootElement.GetProperty("Rows").EnumerateArray().Sum(r => r.GetProperty("Cycles").GetDouble());
            }

            Assert.True(Cycles("--profile", path) > 10 * Cycles());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Cost_InvalidProfile_UnusableInput()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ns-profile-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, "{ \"name\": 1 }");
            var (code, _, error) = Invoke("daa", "cost", "--profile", path);
            Assert.Equal(2, code);
            Assert.Contains("CPU profile", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Cost_PrintDefaultProfile_IsTheShippedJson()
    {
        var (code, output, _) = Invoke("daa", "cost", "--print-default-profile");
        Assert.Equal(0, code);
        Assert.Equal(NsCpuProfile.Default, NsCpuProfile.Parse(output));
    }
}
