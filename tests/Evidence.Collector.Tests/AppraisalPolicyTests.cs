namespace TrustStack.Evidence.Collector.Tests;

public sealed class AppraisalPolicyTests
{
    [Fact]
    public void Parse_OwnFormat_AllSections()
    {
        var policy = AppraisalPolicy.Parse("""
            {
              // comments are allowed
              "tpm": { "trustedAkNames": ["000babcd"], "requireNonce": false, "evidencePcr": 23 },
              "software": { "digests": { "/usr/bin/bash": ["AA"] }, "excludes": ["^/tmp/"], "required": ["/usr/bin/bash"], "unlisted": "ignore",
                            "values": { "sysctl:net.ipv4.ip_forward": "0" } },
              "behavior": { "allowedListeningPorts": ["tcp:22"], "forbiddenProcesses": ["nc"], "executablesMustBeMeasured": true, "maxLoad1": 2.5 },
              "decision": { "strategy": "weighted", "threshold": 0.6, "weights": { "tpm": 2 }, "veto": [] },
            }
            """);

        Assert.Equal(["000babcd"], policy.Tpm.TrustedAkNames);
        Assert.False(policy.Tpm.RequireNonce);
        Assert.Equal(UnlistedItems.Ignore, policy.Software.Unlisted);
        Assert.Equal(["AA"], policy.Software.Digests["/usr/bin/bash"]);
        Assert.Equal(["tcp:22"], policy.Behavior.AllowedListeningPorts);
        Assert.Null(policy.Behavior.AllowedPeers);
        Assert.Equal(2.5, policy.Behavior.MaxLoad1);
        Assert.Equal(DecisionStrategy.Weighted, policy.Decision.Strategy);
        Assert.Empty(policy.Decision.Veto);
        Assert.Equal(2, policy.Decision.Weights["tpm"]);
    }

    [Fact]
    public void Parse_KeylimeRuntimePolicy_BecomesTheSoftwareSection()
    {
        var policy = AppraisalPolicy.Parse("""
            {"meta": {"version": 1, "generator": 0}, "release": 0,
             "digests": {"/usr/bin/bash": ["efdd249edec97caf9328a4a01baa99b7d660d1afc2e118b69137081c9b689954"], "boot_aggregate": ["0000"]},
             "excludes": ["/tmp/.*", "/var/log/.*"], "keyrings": {}, "ima": {"ignored_keyrings": [], "log_hash_alg": "sha1", "dm_policy": null},
             "ima-buf": {}, "verification-keys": ""}
            """);

        Assert.Equal("1", policy.Software.KeylimeVersion);
        Assert.Equal(2, policy.Software.Digests.Count);
        Assert.Equal(["/tmp/.*", "/var/log/.*"], policy.Software.Excludes);
        Assert.True(policy.Behavior.IsEmpty);
    }

    [Fact]
    public void Load_OwnFormatNamingKeylimeFile_MergesDigestsAndExcludes()
    {
        var dir = Directory.CreateTempSubdirectory("ts-policy-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "runtime.json"), """{"meta":{"version":1},"digests":{"/usr/bin/ls":["11"],"/usr/bin/bash":["22"]},"excludes":["^/proc/"]}""");
            File.WriteAllText(Path.Combine(dir.FullName, "policy.json"), """{"software":{"keylimePolicy":"runtime.json","digests":{"/usr/bin/bash":["33"]},"excludes":["^/tmp/"]}}""");

            var policy = AppraisalPolicy.Load(Path.Combine(dir.FullName, "policy.json"));

            Assert.Equal(["33", "22"], policy.Software.Digests["/usr/bin/bash"]);
            Assert.Equal(["11"], policy.Software.Digests["/usr/bin/ls"]);
            Assert.Equal(["^/tmp/", "^/proc/"], policy.Software.Excludes);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Parse_WrongType_FormatException()
    {
        Assert.Throws<FormatException>(() => AppraisalPolicy.Parse("""{"behavior":{"maxProcesses":"many"}}"""));
    }

    [Fact]
    public void AppraiseSoftware_KeylimeDigestsOnImaEntries_MatchAndExclude()
    {
        var policy = AppraisalPolicy.Parse("""{"meta":{"version":1},"digests":{"/usr/bin/bash":["EFDD249EDEC97CAF9328A4A01BAA99B7D660D1AFC2E118B69137081C9B689954"]},"excludes":["^/tmp/"]}""");
        var records = new[]
        {
            EvidenceRecord.Create("ima", "/usr/bin/bash", ("digest", "efdd249edec97caf9328a4a01baa99b7d660d1afc2e118b69137081c9b689954")),
            EvidenceRecord.Create("ima", "/tmp/x", ("digest", "00")),
            EvidenceRecord.Create("ima", "/usr/bin/evil", ("digest", "01")),
        };

        var verdict = EvidenceAppraiser.AppraiseSoftware(records, policy.Software);

        Assert.Equal(Verdict.Untrusted, verdict.Verdict);
        Assert.Equal("ima /usr/bin/evil: not in the allowlist (unknown item)", verdict.Reasons[0]);
        Assert.Equal(2, verdict.Reasons.Count);
    }
}
