using System.Text;
using FsCheck;
using FsCheck.Xunit;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector.Tests;

/// <summary>
/// Issue 19, total parsers: policies (ours and Keylime's), report.json and the evidence log
/// throw nothing but <see cref="FormatException"/> (the log: nothing at all, its problems are
/// reasons), and the appraiser never throws for any record it is handed.
/// </summary>
public sealed class TotalParsersTests
{
    private const string OwnPolicy = """
        {
          "tpm": { "trustedAkNames": ["000b5430"], "requireNonce": true, "evidencePcr": 23, "agentDigests": { "config.sha256": ["9f2c"] } },
          "software": { "digests": { "/usr/sbin/sshd": ["aa"] }, "excludes": ["^/tmp/"], "required": ["/usr/sbin/sshd"], "values": { "sysctl:x": "0" }, "unlisted": "fail" },
          "behavior": { "allowedListeningPorts": ["tcp:22"], "allowedPeers": ["10.0.0.0/8"], "forbiddenProcesses": ["nc"], "requiredProcesses": ["sshd"],
                        "executablesMustBeMeasured": true, "maxMemoryUsedPercent": 95, "maxProcesses": 2000, "maxLoad1": 16, "ignoredRecordTypes": ["kernel-module"] },
          "decision": { "strategy": "weighted", "weights": { "tpm": 2 }, "threshold": 0.75, "unknownScore": 0.5, "veto": ["tpm"] }
        }
        """;

    private const string KeylimePolicy = """
        {"meta": {"version": 1, "generator": 0}, "release": 0, "digests": {"/usr/bin/bash": ["efdd249edec97caf9328a4a01baa99b7d660d1afc2e118b69137081c9b689954"]},
         "excludes": ["/tmp/.*"], "keyrings": {}, "ima": {"ignored_keyrings": [], "log_hash_alg": "sha1", "dm_policy": null}, "ima-buf": {}, "verification-keys": ""}
        """;

    private const string Manifest = """
        {"format":"truststack-evidence-report/1","created":"2026-11-27T12:00:00+00:00","host":"h","evidencePcr":23,"bank":"sha256","nonce":"a1b2","akName":"000b00","records":3,"sources":[{"name":"memory","records":1}]}
        """;

    [Property(MaxTest = 1000)]
    public void AppraisalPolicyParse_AnyMutationOrText_ParsesOrThrowsFormatException(NonNegativeInt position, char value, NonNegativeInt cut, string random)
    {
        foreach (var text in Variants(OwnPolicy, position, value, cut, random).Concat(Variants(KeylimePolicy, position, value, cut, random)))
        {
            try
            {
                AppraisalPolicy.Parse(text).Validate();
            }
            catch (FormatException)
            {
                // The one typed error of a file.
            }
        }
    }

    [Property(MaxTest = 1000)]
    public void EvidenceReportFromFiles_AnyManifestMutation_ReadsOrThrowsFormatException(NonNegativeInt position, char value, NonNegativeInt cut, string random)
    {
        var ak = new TpmWriter();
        TpmTemplates.AkEccP256().MarshalSized(ak);
        foreach (var text in Variants(Manifest, position, value, cut, random))
        {
            try
            {
                var report = EvidenceReport.FromFiles(Encoding.UTF8.GetBytes(text), [], [], [], ak.ToArray());
                Assert.NotEqual(Verdict.Trusted, EvidenceAppraiser.Appraise(report, new AppraisalPolicy(), [1]).Decision);
            }
            catch (FormatException)
            {
                // The one typed error of a file.
            }
        }
    }

    [Theory]
    [InlineData("\"bank\":\"sha256\"", "\"bank\":null")]
    [InlineData("\"nonce\":\"a1b2\"", "\"nonce\":null")]
    [InlineData("{\"name\":\"memory\",", "{\"name\":null,")]
    [InlineData("\"host\":\"h\"", "\"host\":\"h\",\"host\":\"i\"")]
    [InlineData("\"records\":3", "\"records\":\"3\"")]
    public void EvidenceReportFromFiles_NullDuplicateOrQuotedMember_FormatException(string member, string replacement)
    {
        // A null bank or nonce used to reach the appraiser and throw NullReferenceException there.
        var ak = new TpmWriter();
        TpmTemplates.AkEccP256().MarshalSized(ak);

        Assert.Throws<FormatException>(() => EvidenceReport.FromFiles(Encoding.UTF8.GetBytes(Manifest.Replace(member, replacement, StringComparison.Ordinal)), [], [], [], ak.ToArray()));
    }

    [Property(MaxTest = 500)]
    public void EvidenceLogContentsRead_AnyOctets_NeverThrows(byte[] log, NonNegativeInt position, byte value)
    {
        var writer = new EvidenceLogWriter();
        writer.Append(23, EvidenceRecord.Create("agent", "a", ("x.sha256", "00")).ToCanonical());
        writer.Append(23, EvidenceRecord.Create("process", "pid:1", ("pid", "1")).ToCanonical());
        var valid = writer.ToArray();
        valid[position.Get % valid.Length] = value;

        foreach (var input in new[] { log ?? [], valid, valid[..(position.Get % valid.Length)] })
        {
            var contents = EvidenceLogContents.Read(input, 23, TpmAlgId.Sha256);
            Assert.True(contents.Replayed is not null || contents.Problems.Count > 0);
        }
    }

    [Property(MaxTest = 300)]
    public void AppraiseSoftwareAndBehavior_AnyRecords_ReturnAVerdict(NonEmptyArray<NonNull<string>> subjects, NonNull<string> value)
    {
        string[] types = ["process", "socket", "file", "policy-data", "ima", "memory", "cpu", "collector-error", "custom"];
        string[] fields = ["pid", "ppid", "comm", "exe", "exe-sha256", "exe-error", "exe-deleted", "stat-error", "state", "listening", "local-port", "protocol", "remote-address", "sha256", "error", "digest", "violation", "status", "index", "template", "used-percent", "load1", "value"];
        var records = subjects.Get.Select((s, i) => new EvidenceRecord(types[i % types.Length], s.Get, fields.Where((_, f) => (f + i) % 3 == 0).Select(f => KeyValuePair.Create(f, value.Get)))).ToArray();
        var policy = AppraisalPolicy.Parse(OwnPolicy);

        Assert.NotNull(EvidenceAppraiser.AppraiseSoftware(records, policy.Software));
        Assert.NotNull(EvidenceAppraiser.AppraiseBehavior(records, policy.Behavior));
    }

    private static IEnumerable<string> Variants(string valid, NonNegativeInt position, char value, NonNegativeInt cut, string random)
    {
        var chars = valid.ToCharArray();
        chars[position.Get % chars.Length] = value;
        yield return new string(chars);
        yield return valid[..(cut.Get % valid.Length)];
        yield return random ?? "";
        yield return valid.Insert(position.Get % valid.Length, random ?? "");
    }
}
