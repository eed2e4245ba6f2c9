namespace TrustStack.Evidence.Collector.Tests;

/// <summary>
/// Issue 19, finding 13: a policy value out of range is refused when the policy is read, with the
/// field named — never accepted to make untrusted evidence trusted.
/// </summary>
public sealed class AppraisalPolicyRangeTests
{
    [Fact]
    public void Attack_NegativeThreshold_RefusedOnLoadNamingTheField()
    {
        // With threshold -1 and no veto, any score "reaches" it: p_software and p_behavior untrusted, decision trusted.
        var e = Assert.Throws<FormatException>(() => AppraisalPolicy.Parse("""{"decision":{"strategy":"weighted","threshold":-1,"veto":[]}}"""));

        Assert.Contains("decision.threshold", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"tpm":0}""", "decision.weights.tpm")]
    [InlineData("""{"software":-1}""", "decision.weights.software")]
    [InlineData("""{"behavior":-0.5,"tpm":1}""", "decision.weights.behavior")]
    [InlineData("""{"tpm":1e308,"software":1e308,"behavior":1e308}""", "decision.weights.tpm")]
    public void Attack_ZeroNegativeOrAbsurdWeight_RefusedOnLoadNamingTheField(string weights, string field)
    {
        var e = Assert.Throws<FormatException>(() => AppraisalPolicy.Parse($$$"""{"decision":{"strategy":"weighted","weights":{{{weights}}},"veto":[]}}"""));

        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"decision":{"threshold":0}}""", "decision.threshold")]
    [InlineData("""{"decision":{"threshold":1.5}}""", "decision.threshold")]
    [InlineData("""{"decision":{"threshold":"NaN"}}""", "threshold")]
    [InlineData("""{"decision":{"threshold":"0.5"}}""", "threshold")]
    [InlineData("""{"decision":{"unknownScore":-0.1}}""", "decision.unknownScore")]
    [InlineData("""{"decision":{"unknownScore":2}}""", "decision.unknownScore")]
    [InlineData("""{"decision":{"weights":{"network":1}}}""", "decision.weights.network")]
    [InlineData("""{"decision":{"veto":["tmp"]}}""", "decision.veto")]
    [InlineData("""{"decision":{"strategy":"majority"}}""", "strategy")]
    [InlineData("""{"behavior":{"maxMemoryUsedPercent":101}}""", "behavior.maxMemoryUsedPercent")]
    [InlineData("""{"behavior":{"maxMemoryUsedPercent":-1}}""", "behavior.maxMemoryUsedPercent")]
    [InlineData("""{"behavior":{"maxProcesses":-5}}""", "behavior.maxProcesses")]
    [InlineData("""{"behavior":{"maxProcesses":99999999999}}""", "maxProcesses")]
    [InlineData("""{"behavior":{"maxLoad1":-1}}""", "behavior.maxLoad1")]
    [InlineData("""{"behavior":{"maxLoad1":1e400}}""", "maxLoad1")]
    [InlineData("""{"behavior":{"allowedListeningPorts":["tcp:70000"]}}""", "behavior.allowedListeningPorts[0]")]
    [InlineData("""{"behavior":{"allowedListeningPorts":["ssh"]}}""", "behavior.allowedListeningPorts[0]")]
    [InlineData("""{"behavior":{"allowedPeers":["10.0.0.0/8","not-an-address"]}}""", "behavior.allowedPeers[1]")]
    [InlineData("""{"behavior":{"forbiddenProcesses":[""]}}""", "behavior.forbiddenProcesses[0]")]
    [InlineData("""{"tpm":{"evidencePcr":24}}""", "tpm.evidencePcr")]
    [InlineData("""{"tpm":{"evidencePcr":-1}}""", "tpm.evidencePcr")]
    [InlineData("""{"tpm":{"trustedAkNames":["000bzz"]}}""", "tpm.trustedAkNames[0]")]
    [InlineData("""{"tpm":{"agentDigests":{"config.sha256":["xyz"]}}}""", "tpm.agentDigests.config.sha256[0]")]
    [InlineData("""{"software":{"digests":{"/bin/sh":["not hex"]}}}""", "software.digests./bin/sh[0]")]
    [InlineData("""{"software":{"digests":{"":["00"]}}}""", "software.digests")]
    [InlineData("""{"software":{"excludes":["(unclosed"]}}""", "software.excludes[0]")]
    [InlineData("""{"software":{"required":[""]}}""", "software.required[0]")]
    [InlineData("""{"software":{"unlisted":"maybe"}}""", "unlisted")]
    [InlineData("""{"software":null}""", "software")]
    [InlineData("""{"behavior":{"forbiddenProcesses":null}}""", "forbiddenProcesses")]
    [InlineData("""{"behavior":{"executablesMustBeMesured":true}}""", "executablesMustBeMesured")]
    [InlineData("""{"decsion":{"threshold":0.9}}""", "decsion")]
    [InlineData("""[]""", "object")]
    public void Parse_OutOfRangeOrUnknownValue_RefusedNamingTheField(string json, string field)
    {
        var e = Assert.Throws<FormatException>(() => AppraisalPolicy.Parse(json));

        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"meta":{"version":1},"digests":{"/bin/sh":"efdd"}}""", "digests./bin/sh")]
    [InlineData("""{"meta":{"version":1},"digests":{"/bin/sh":[1]}}""", "digests./bin/sh[0]")]
    [InlineData("""{"meta":{"version":1},"digests":{"/bin/sh":["xx"]}}""", "digests./bin/sh[0]")]
    [InlineData("""{"meta":{"version":1},"digests":[]}""", "digests")]
    [InlineData("""{"meta":{"version":1},"digests":{},"excludes":"^/tmp/"}""", "excludes")]
    [InlineData("""{"meta":{"version":1},"digests":{},"excludes":[7]}""", "excludes[0]")]
    [InlineData("""{"meta":{"version":1},"digests":{},"excludes":["(bad"]}""", "excludes[0]")]
    [InlineData("""{"meta":"v1","digests":{}}""", "meta")]
    public void ParseKeylime_MalformedRuntimePolicy_RefusedNamingTheField(string json, string field)
    {
        var e = Assert.Throws<FormatException>(() => AppraisalPolicy.Parse(json));

        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingKeylimeFile_FormatExceptionNamingIt()
    {
        var dir = Directory.CreateTempSubdirectory("ts-policy-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "policy.json"), """{"software":{"keylimePolicy":"absent.json"}}""");

            var e = Assert.Throws<FormatException>(() => AppraisalPolicy.Load(Path.Combine(dir.FullName, "policy.json")));

            Assert.Contains("software.keylimePolicy", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Appraise_ProgrammaticPolicyOutOfRange_ArgumentExceptionNamingTheField()
    {
        var policy = new AppraisalPolicy { Decision = new DecisionPolicy { Strategy = DecisionStrategy.Weighted, Threshold = double.NaN } };

        var e = Assert.Throws<ArgumentException>(() => EvidenceAppraiser.Combine([], policy.Decision));

        Assert.Contains("decision.threshold", e.Message, StringComparison.Ordinal);
    }
}
