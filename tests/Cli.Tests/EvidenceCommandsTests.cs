using System.CommandLine;
using System.Text.Json;
using TrustStack.Tests.Shared;

namespace TrustStack.Cli.Tests;

/// <summary><c>truststack evidence collect|appraise</c> on this host, with the embedded TPM and with a real swtpm.</summary>
public sealed class EvidenceCommandsTests : IDisposable
{
    private const string Nonce = "00112233445566778899aabbccddeeff";
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("ts-evidence-cli-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Build_Evidence_CollectAndAppraiseRegistered()
    {
        var evidence = Assert.Single(CliApp.Build().Subcommands, c => c.Name == "evidence");

        Assert.Equal(["collect", "appraise"], evidence.Subcommands.Select(c => c.Name));
    }

    [Fact]
    public void CollectThenAppraise_EmbeddedTpmWithState_TrustedWithPinnedAkAndReferenceValues()
    {
        var (code, output, error) = Collect("--tpm", "embedded", "--state", Path("state"));
        Assert.True(code == 0, error);
        Assert.Contains("[evidence] agent measured into PCR 23", error, StringComparison.Ordinal);
        Assert.Contains("[evidence] processes: ", error, StringComparison.Ordinal);
        var akName = Line(output, "ak-name");

        // The same state folder re-derives the same AK on the next run.
        var again = Collect("--tpm", "embedded", "--state", Path("state"));
        Assert.Equal(akName, Line(again.Output, "ak-name"));

        WritePolicy(akName, requireHosts: true);
        var (appraiseCode, appraisal, _) = Invoke("evidence", "appraise", "--report", Path("report"), "--policy", Path("policy.json"), "--nonce", Nonce);

        Assert.True(appraiseCode == 0, appraisal);
        Assert.Contains("p_tpm: trusted", appraisal, StringComparison.Ordinal);
        Assert.Contains("p_software-configuration: trusted", appraisal, StringComparison.Ordinal);
        Assert.Contains("p_behavior: trusted", appraisal, StringComparison.Ordinal);
        Assert.EndsWith("decision: trusted\n  - all properties hold\n", appraisal.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.True(File.Exists(System.IO.Path.Combine(Path("report"), "store", "evidence.sealed")));
    }

    [Fact]
    public void Appraise_OtherNonce_ExitsOneUntrusted()
    {
        var (code, output, error) = Collect("--state", Path("state"));
        Assert.True(code == 0, error);
        WritePolicy(Line(output, "ak-name"), requireHosts: false);

        var (appraiseCode, appraisal, _) = Invoke("evidence", "appraise", "--report", Path("report"), "--policy", Path("policy.json"), "--nonce", "ffff");

        Assert.Equal(1, appraiseCode);
        Assert.Contains("replayed or stale report", appraisal, StringComparison.Ordinal);
        Assert.Contains("decision: UNTRUSTED", appraisal, StringComparison.Ordinal);
    }

    [Fact]
    public void Appraise_MissingRequiredItemAndNoNonce_ExitsOne()
    {
        var (code, output, error) = Collect("--state", Path("state"));
        Assert.True(code == 0, error);
        File.WriteAllText(Path("policy.json"), JsonSerializer.Serialize(new { tpm = new { trustedAkNames = new[] { Line(output, "ak-name") } }, software = new { required = new[] { "/etc/no-such-file" }, unlisted = "ignore" } }));

        var (appraiseCode, appraisal, _) = Invoke("evidence", "appraise", "--report", Path("report"), "--policy", Path("policy.json"));

        Assert.Equal(1, appraiseCode);
        Assert.Contains("missing required item /etc/no-such-file", appraisal, StringComparison.Ordinal);
        Assert.Contains("freshness is not proven", appraisal, StringComparison.Ordinal);
    }

    [Fact]
    public void Appraise_KeylimeRuntimePolicyWithoutHostsDigest_ExitsOneUnknownItem()
    {
        var (code, output, error) = Collect("--state", Path("state"));
        Assert.True(code == 0, error);
        File.WriteAllText(Path("runtime-policy.json"), """{"meta":{"version":1},"digests":{"/etc/passwd":["00"]},"excludes":["^/(usr|bin|sbin|lib|opt|root|home|tmp|proc|snap|nix|app|work)"]}""");
        File.WriteAllText(Path("policy.json"), JsonSerializer.Serialize(new { tpm = new { trustedAkNames = new[] { Line(output, "ak-name") } }, software = new { keylimePolicy = "runtime-policy.json" } }));

        var (appraiseCode, appraisal, _) = Invoke("evidence", "appraise", "--report", Path("report"), "--policy", Path("policy.json"), "--nonce", Nonce);

        Assert.Equal(1, appraiseCode);
        Assert.Contains("policy-data /etc/passwd: digest", appraisal, StringComparison.Ordinal);
        Assert.Contains("file /etc/hosts: not in the allowlist", appraisal, StringComparison.Ordinal);
    }

    [Fact]
    public void Appraise_EmptyPolicy_ExitsTwoUnknown()
    {
        Assert.Equal(0, Collect().ExitCode);
        File.WriteAllText(Path("policy.json"), "{}");

        var (code, output, _) = Invoke("evidence", "appraise", "--report", Path("report"), "--policy", Path("policy.json"), "--nonce", Nonce);

        Assert.Equal(2, code);
        Assert.Contains("decision: unknown", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Appraise_MissingReport_ExitsTwoWithMessage()
    {
        File.WriteAllText(Path("policy.json"), "{}");

        var (code, _, error) = Invoke("evidence", "appraise", "--report", Path("nowhere"), "--policy", Path("policy.json"));

        Assert.Equal(2, code);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Collect_BadConfig_ExitsTwo()
    {
        File.WriteAllText(Path("agent.json"), """{"evidencePcr": 99}""");

        var (code, _, error) = Invoke("evidence", "collect", "--config", Path("agent.json"), "--out", Path("report"));

        Assert.Equal(2, code);
        Assert.Contains("EvidencePcr 99", error, StringComparison.Ordinal);
    }

    [Fact]
    public void CollectThenAppraise_RealSwtpm_Trusted()
    {
        using var swtpm = new SwtpmProcess();
        var (code, output, error) = Collect("--tpm", $"swtpm:host=127.0.0.1,port={swtpm.Port}");
        Assert.True(code == 0, error);
        Assert.Contains($"[evidence] TPM swtpm:host=127.0.0.1,port={swtpm.Port}", error, StringComparison.Ordinal);
        WritePolicy(Line(output, "ak-name"), requireHosts: true);

        var (appraiseCode, appraisal, _) = Invoke("evidence", "appraise", "--report", Path("report"), "--policy", Path("policy.json"), "--nonce", Nonce);

        Assert.True(appraiseCode == 0, appraisal);
        Assert.Contains("sha256:23 equals the replay of", appraisal, StringComparison.Ordinal);

        // tpm2-tools reads the same PCR 23 the log replays to.
        var pcr = PeerTools.RunTpm2Tool(swtpm.Tcti, swtpm.WorkingDirectory, "tpm2_pcrread", "sha256:23");
        Assert.Contains("23:", pcr, StringComparison.Ordinal);
    }

    private (int ExitCode, string Output, string Error) Collect(params string[] extra)
    {
        // No IMA list: build machines have none, and an unreadable list (rightly) leaves p_software unknown.
        File.WriteAllText(Path("agent.json"), JsonSerializer.Serialize(new { files = new[] { "/etc/hosts" }, policyFiles = new[] { "/etc/passwd" }, sysctls = new[] { "kernel.ostype" }, imaMeasurementList = "" }));
        return Invoke(["evidence", "collect", "--config", Path("agent.json"), "--out", Path("report"), "--nonce", Nonce, .. extra]);
    }

    private void WritePolicy(string akName, bool requireHosts)
    {
        var hosts = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes("/etc/hosts")));
        var policy = new
        {
            tpm = new { trustedAkNames = new[] { akName } },
            software = new
            {
                digests = new Dictionary<string, string[]> { ["/etc/hosts"] = [hosts] },
                required = requireHosts ? new[] { "/etc/hosts" } : [],
                values = new Dictionary<string, string> { ["sysctl:kernel.ostype"] = "Linux" },
                unlisted = "ignore",
            },
            behavior = new { maxProcesses = 100000, forbiddenProcesses = new[] { "definitely-not-running-xyz" } },
        };
        File.WriteAllText(Path("policy.json"), JsonSerializer.Serialize(policy));
    }

    private string Path(string name) => System.IO.Path.Combine(_dir.FullName, name);

    private static string Line(string output, string key) =>
        output.ReplaceLineEndings("\n").Split('\n').Single(l => l.StartsWith(key + ": ", StringComparison.Ordinal))[(key.Length + 2)..];

    private static (int ExitCode, string Output, string Error) Invoke(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CliApp.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
