using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector;

/// <summary>A verdict of the runtime-environment decision (book ch. 7).</summary>
public enum Verdict
{
    /// <summary>The property holds.</summary>
    Trusted,

    /// <summary>The evidence shows the property does not hold.</summary>
    Untrusted,

    /// <summary>The evidence cannot show either (missing, unreadable, not anchored, no policy).</summary>
    Unknown,
}

/// <summary>One property's verdict with every reason.</summary>
/// <param name="Property">p_tpm, p_software-configuration or p_behavior.</param>
/// <param name="Verdict">The verdict.</param>
/// <param name="Reasons">Why: failures first; for a trusted verdict what was checked.</param>
public sealed record PropertyVerdict(string Property, Verdict Verdict, IReadOnlyList<string> Reasons);

/// <summary>The combined decision.</summary>
/// <param name="Properties">The three property verdicts.</param>
/// <param name="Decision">The combined verdict.</param>
/// <param name="Score">The weighted score, for the weighted strategy.</param>
/// <param name="Reasons">How the decision was reached.</param>
public sealed record AppraisalResult(IReadOnlyList<PropertyVerdict> Properties, Verdict Decision, double? Score, IReadOnlyList<string> Reasons)
{
    /// <summary>A property's verdict by short name (tpm, software, behavior) or full name.</summary>
    public PropertyVerdict this[string property] => Properties.Single(p => p.Property == property || p.Property == EvidenceAppraiser.FullName(property));

    /// <summary>The result as text: each property with its reasons, then the decision.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        foreach (var p in Properties)
        {
            text.Append(p.Property).Append(": ").Append(Name(p.Verdict)).Append('\n');
            foreach (var reason in p.Reasons)
            {
                text.Append("  - ").Append(reason).Append('\n');
            }
        }

        text.Append("decision: ").Append(Name(Decision));
        if (Score is { } score)
        {
            text.Append(CultureInfo.InvariantCulture, $" (score {score:0.00})");
        }

        text.Append('\n');
        foreach (var reason in Reasons)
        {
            text.Append("  - ").Append(reason).Append('\n');
        }

        return text.ToString();
    }

    internal static string Name(Verdict v) => v switch
    {
        Verdict.Trusted => "trusted",
        Verdict.Untrusted => "UNTRUSTED",
        _ => "unknown",
    };
}

/// <summary>
/// The runtime-environment decision: judges a report against a policy on p_tpm (the quote
/// verifies with the verifier's nonce, the log replays to the quoted PCR, the AK is trusted, the
/// agent measured itself first), p_software-configuration (digest allowlists, excludes, required
/// items, expected values) and p_behavior (ports, peers, processes, measured executables,
/// resource bounds), then combines them by the policy's strategy. Default-deny: what the policy
/// cannot attribute (an unknown record type, an IMA violation, an unreadable item, an
/// unclassifiable socket, records the quote does not prove) makes a property untrusted, and
/// evidence a rule needs but the report lacks makes it unknown, each with a reason naming the
/// item. Never throws for bad evidence: that is an untrusted verdict with its reasons.
/// </summary>
public static class EvidenceAppraiser
{
    /// <summary>Property names.</summary>
    public const string Tpm = "p_tpm", Software = "p_software-configuration", Behavior = "p_behavior";

    private const int MaxReasons = 40;
    private static readonly string[] SoftwareSources = ["files", "policy-data", "ima"];

    /// <summary>Appraises <paramref name="report"/>.</summary>
    /// <param name="report">The report.</param>
    /// <param name="policy">The policy.</param>
    /// <param name="expectedNonce">The nonce the verifier sent; null when it has none (freshness unproven).</param>
    /// <exception cref="ArgumentException">The policy has a value out of range (<see cref="AppraisalPolicy.Validate"/>).</exception>
    public static AppraisalResult Appraise(EvidenceReport report, AppraisalPolicy policy, byte[]? expectedNonce)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        var (tpm, records) = AppraiseTpm(report, policy.Tpm, expectedNonce);
        var software = AppraiseSoftware(records ?? [], policy.Software, proven: records is not null);
        var behavior = AppraiseBehavior(records ?? [], policy.Behavior, proven: records is not null);
        return Combine([tpm, software, behavior], policy.Decision);
    }

    internal static string FullName(string shortName) => shortName switch
    {
        "tpm" => Tpm,
        "software" => Software,
        "behavior" => Behavior,
        _ => shortName,
    };

    /// <summary>
    /// p_tpm; also returns the records the quote proves: those of a log without problems whose
    /// replay the quote verifies, or null when there are none (then they are no evidence).
    /// </summary>
    internal static (PropertyVerdict Verdict, IReadOnlyList<EvidenceRecord>? Records) AppraiseTpm(EvidenceReport report, TpmPolicy policy, byte[]? expectedNonce)
    {
        var v = new Verdicts(Tpm);
        var manifest = report.Manifest;
        if (manifest.Format != EvidenceReportManifest.CurrentFormat)
        {
            v.Untrusted($"report format '{manifest.Format}' is not {EvidenceReportManifest.CurrentFormat}");
        }

        if (policy.EvidencePcr is { } pinned && pinned != manifest.EvidencePcr)
        {
            v.Untrusted($"the report uses PCR {manifest.EvidencePcr}, the policy requires PCR {pinned}");
        }

        TpmAlgId bank;
        try
        {
            bank = new EvidenceCollectorOptions { EvidenceBank = manifest.Bank }.GetEvidenceBank();
        }
        catch (ArgumentException e)
        {
            v.Untrusted(e.Message);
            return (v.Build(), null);
        }

        if (manifest.EvidencePcr is < 0 or > 23)
        {
            v.Untrusted($"evidence PCR {manifest.EvidencePcr} is out of range");
            return (v.Build(), null);
        }

        var log = EvidenceLogContents.Read(report.Log, manifest.EvidencePcr, bank);
        foreach (var problem in log.Problems)
        {
            v.Untrusted(problem);
        }

        // report.json is not signed, but what it claims must agree with what is proven.
        if (log.Replayed is not null && manifest.Records != log.Entries)
        {
            v.Untrusted($"report.json claims {manifest.Records} records, the evidence log has {log.Entries}");
        }

        if (expectedNonce is not null && !string.Equals(manifest.Nonce, Convert.ToHexStringLower(expectedNonce), StringComparison.OrdinalIgnoreCase))
        {
            v.Untrusted($"report.json claims nonce '{manifest.Nonce}', the verifier's is {Convert.ToHexStringLower(expectedNonce)}");
        }

        // The nonce: the verifier's own, else (freshness unproven) the one the report claims.
        byte[] nonce;
        if (expectedNonce is not null)
        {
            nonce = expectedNonce;
        }
        else
        {
            nonce = TryHex(manifest.Nonce) ?? [];
            if (policy.RequireNonce)
            {
                v.Unknown("no verifier nonce given: the report's freshness is not proven");
            }
        }

        TpmtSignature? signature = null;
        try
        {
            var reader = new TpmReader(report.Signature);
            signature = TpmtSignature.Unmarshal(ref reader);
            if (reader.Remaining != 0)
            {
                v.Untrusted($"quote.sig has {reader.Remaining} octets after the TPMT_SIGNATURE");
                signature = null;
            }
        }
        catch (TpmException e)
        {
            v.Untrusted($"quote.sig is not a TPMT_SIGNATURE: {e.Message}");
        }

        // The AK is a restricted signing primary of the endorsement hierarchy (EvidenceTpm): its
        // qualified name is H(TPM_RH_ENDORSEMENT ‖ Name) (TPM 2.0 Part 1 §16), which qualifiedSigner must be.
        var hasName = TpmHash.IsSupported(report.AkPublic.NameAlg);
        var quoteVerified = false;
        if (signature is not null)
        {
            var replayed = log.Replayed ?? new byte[TpmHash.DigestSize(bank)];
            var values = PcrValues.Create([(bank, manifest.EvidencePcr, replayed)]);
            var result = QuoteVerifier.Verify(new QuoteVerificationRequest(report.AkPublic, report.QuoteMessage, signature, nonce, values)
            {
                ExpectedSelection = PcrSelectionList.Create(bank, manifest.EvidencePcr),
                RequireAttestationKey = true,
                ExpectedQualifiedSigner = hasName ? report.AkPublic.GetPrimaryQualifiedName(TpmRh.Endorsement) : null,
            });
            quoteVerified = result.IsValid;
            foreach (var check in result.FailedChecks)
            {
                v.Untrusted(check.Kind switch
                {
                    QuoteCheckKind.Nonce => $"quote nonce: {check.Detail} (a replayed or stale report)",
                    QuoteCheckKind.PcrDigest => $"the evidence log does not replay to the quoted PCR {manifest.EvidencePcr}: {check.Detail}",
                    _ => $"quote {check.Kind}: {check.Detail}",
                });
            }

            if (result.IsValid)
            {
                v.Passed($"quote verifies: signed by the AK (a restricted endorsement-primary attestation key), {(expectedNonce is null ? "report" : "verifier")} nonce, {PcrValues.BankName(bank)}:{manifest.EvidencePcr} equals the replay of {log.Records.Count} log entries; TPM clock {result.ClockInfo!.Clock} ms, resetCount {result.ClockInfo.ResetCount}, restartCount {result.ClockInfo.RestartCount}, safe {(result.ClockInfo.Safe ? "yes" : "no")}");
            }
        }

        if (!hasName)
        {
            v.Untrusted($"the AK's nameAlg {report.AkPublic.NameAlg} is not a hash: it has no Name to anchor");
            return (v.Build(), null);
        }

        var akName = Convert.ToHexStringLower(report.AkPublic.GetName());
        if (!string.Equals(manifest.AkName, akName, StringComparison.OrdinalIgnoreCase))
        {
            v.Untrusted($"report.json claims akName '{manifest.AkName}', ak.pub's Name is {akName}");
        }

        if (policy.TrustedAkNames.Count == 0)
        {
            v.Unknown($"AK {akName} is not anchored: the policy lists no trusted AK names");
        }
        else if (!policy.TrustedAkNames.Any(n => string.Equals(n, akName, StringComparison.OrdinalIgnoreCase)))
        {
            v.Untrusted($"AK {akName} is not a trusted attestation key");
        }
        else
        {
            v.Passed($"AK {akName} is trusted");
        }

        if (log.Records.Count == 0 || log.Records[0].Type != EvidenceRecordTypes.Agent)
        {
            v.Untrusted("the agent did not measure itself first (no agent record at the head of the log)");
        }
        else
        {
            var agent = log.Records[0];
            var mismatch = false;
            foreach (var (field, allowed) in policy.AgentDigests)
            {
                var value = agent[field];
                if (value is null || !allowed.Contains(value, StringComparer.OrdinalIgnoreCase))
                {
                    v.Untrusted($"agent measurement {field}={value ?? "(missing)"} is not an allowed value");
                    mismatch = true;
                }
            }

            // Pinning some digests pins them all: an unpinned one (a plugin, the options) would pass unseen.
            if (policy.AgentDigests.Count > 0)
            {
                foreach (var field in agent.Fields.Keys.Where(f => f.EndsWith("sha256", StringComparison.Ordinal) && !policy.AgentDigests.ContainsKey(f)))
                {
                    v.Untrusted($"agent measurement {field}={agent[field]} is not pinned by tpm.agentDigests");
                    mismatch = true;
                }
            }

            if (!mismatch)
            {
                v.Passed(policy.AgentDigests.Count == 0 ? "the agent measured itself first (its digests are not pinned)" : "the agent's own measurement is as expected");
            }
        }

        // Evidence the quote does not prove is not evidence.
        return (v.Build(), log.Problems.Count == 0 && quoteVerified ? log.Records : null);
    }

    internal static PropertyVerdict AppraiseSoftware(IReadOnlyList<EvidenceRecord> records, SoftwarePolicy policy, bool proven = true)
    {
        var v = new Verdicts(Software);
        if (policy.IsEmpty)
        {
            v.Unknown("the policy has no reference values (digests, required items or values)");
        }

        if (!proven)
        {
            v.Unknown(NotProven);
        }

        AddCollectorErrors(v, records, software: true);
        var excludes = policy.Excludes.Select(e => new Regex(e, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1))).ToArray();
        bool Excluded(string path)
        {
            foreach (var r in excludes)
            {
                try
                {
                    if (r.IsMatch(path))
                    {
                        return true;
                    }
                }
                catch (RegexMatchTimeoutException)
                {
                    v.Untrusted($"exclude pattern '{r}' took too long on {path}: not excluded");
                }
            }

            return false;
        }

        // Items the allowlist cannot judge: no digest to compare (unreadable, violated, not a file).
        // Without reference values nothing is judged (the verdict is unknown already).
        foreach (var r in policy.IsEmpty ? [] : records)
        {
            switch (r.Type)
            {
                case EvidenceRecordTypes.Ima when r["status"] == "unavailable":
                    v.Unknown($"the IMA measurement list {r.Subject} could not be read ({r["error"] ?? "unavailable"}): no runtime measurements to check");
                    break;
                case EvidenceRecordTypes.Ima when r["violation"] == "true" && !Excluded(r.Subject):
                    v.Untrusted($"ima entry {r["index"]} {r.Subject}: a measurement violation (the file was written while open for measurement, or measured while open for writing): its content is unknown");
                    break;
                case EvidenceRecordTypes.Ima when r["digest"] is null && r["violation"] is null && !Excluded(r.Subject):
                    v.Untrusted($"ima entry {r["index"]} ({r["template"]}) {r.Subject}: no file digest the allowlist can match");
                    break;
                case EvidenceRecordTypes.File or EvidenceRecordTypes.PolicyData when r["error"] is { } error && error != NotFound && !Excluded(r.Subject):
                    v.Untrusted($"{r.Type} {r.Subject} could not be measured ({error})");
                    break;
            }
        }

        var measured = new HashSet<string>(StringComparer.Ordinal);
        var checkedCount = 0;
        foreach (var (path, digest, origin) in MeasuredItems(records))
        {
            if (Excluded(path))
            {
                continue;
            }

            measured.Add(path);
            checkedCount++;
            if (policy.Digests.TryGetValue(path, out var allowed))
            {
                if (!allowed.Any(a => string.Equals(a, digest, StringComparison.OrdinalIgnoreCase)))
                {
                    v.Untrusted($"{origin} {path}: digest {digest} is not in the allowlist");
                }
            }
            else if (policy.Unlisted == UnlistedItems.Fail && !policy.IsEmpty)
            {
                v.Untrusted($"{origin} {path}: not in the allowlist (unknown {(origin.StartsWith("process", StringComparison.Ordinal) ? "executable" : "item")})");
            }
        }

        foreach (var required in policy.Required)
        {
            if (!measured.Contains(required))
            {
                var error = records.FirstOrDefault(r => r.Subject == required && r["error"] is not null)?["error"];
                v.Untrusted($"missing required item {required}{(error is null ? "" : $" ({error})")}");
            }
        }

        foreach (var (key, expected) in policy.Values)
        {
            var hash = key.IndexOf('#', StringComparison.Ordinal);
            var subject = hash < 0 ? key : key[..hash];
            var field = hash < 0 ? "value" : key[(hash + 1)..];
            var record = records.FirstOrDefault(r => r.Type == EvidenceRecordTypes.PolicyData && r.Subject == subject);
            var actual = record?[field];
            if (actual is null)
            {
                v.Untrusted($"missing required value {key}");
            }
            else if (actual != expected)
            {
                v.Untrusted($"value {key} is '{actual}', expected '{expected}'");
            }
        }

        v.Passed($"{checkedCount} measured items checked against {policy.Digests.Count} reference paths, {policy.Required.Count} required items, {policy.Values.Count} values{(policy.KeylimeVersion is null ? "" : $" (Keylime policy version {policy.KeylimeVersion})")}");
        return v.Build();
    }

    /// <summary>(path, digest, origin) of every measured file, executable, policy file and IMA entry.</summary>
    internal static IEnumerable<(string Path, string Digest, string Origin)> MeasuredItems(IReadOnlyList<EvidenceRecord> records)
    {
        var seenExe = new HashSet<(string, string)>();
        foreach (var r in records)
        {
            switch (r.Type)
            {
                case EvidenceRecordTypes.File or EvidenceRecordTypes.PolicyData when r["sha256"] is { } sha:
                    yield return (r.Subject, sha, r.Type);
                    break;
                case EvidenceRecordTypes.Process when r["exe"] is { } exe && r["exe-sha256"] is { } exeSha && seenExe.Add((exe, exeSha)):
                    yield return (exe, exeSha, $"process {r["pid"]} ({r["comm"]})");
                    break;
                case EvidenceRecordTypes.Ima when r["digest"] is { } digest && r["violation"] is null:
                    yield return (r.Subject, digest, "ima");
                    break;
            }
        }
    }

    internal static PropertyVerdict AppraiseBehavior(IReadOnlyList<EvidenceRecord> records, BehaviorPolicy policy, bool proven = true)
    {
        var v = new Verdicts(Behavior);
        if (policy.IsEmpty)
        {
            v.Unknown("the policy has no behaviour rules");
        }

        if (!proven)
        {
            v.Unknown(NotProven);
        }

        AddCollectorErrors(v, records, software: false);

        // Records of a kind no rule judges (a custom source) are accepted only by name.
        foreach (var kind in records.Where(r => !KnownTypes.Contains(r.Type) && !policy.IgnoredRecordTypes.Contains(r.Type)).GroupBy(r => r.Type))
        {
            v.Untrusted($"{kind.Count()} '{kind.Key}' record(s) (first: {kind.First().Subject}) are not covered by the policy: list the type in behavior.ignoredRecordTypes to accept it unjudged");
        }

        var processes = records.Where(r => r.Type == EvidenceRecordTypes.Process).ToArray();
        var sockets = records.Where(r => r.Type == EvidenceRecordTypes.Socket).ToArray();
        if (processes.Length == 0 && (policy.ForbiddenProcesses.Count > 0 || policy.ExecutablesMustBeMeasured || policy.MaxProcesses is not null))
        {
            v.Unknown("no process evidence for the process rules (forbidden processes, measured executables, process bound)");
        }

        if (policy.AllowedListeningPorts is not null || policy.AllowedPeers is not null)
        {
            foreach (var s in sockets.Where(s => s["listening"] is not ("true" or "false")))
            {
                v.Untrusted($"socket {s.Subject} is neither listening nor connected (listening={s["listening"] ?? "(missing)"})");
            }
        }

        if (policy.AllowedListeningPorts is { } allowedPorts)
        {
            if (sockets.Length == 0)
            {
                v.Unknown("no socket evidence to check the listening ports against");
            }

            foreach (var s in sockets.Where(s => s["listening"] == "true"))
            {
                var protocol = s["protocol"] ?? "?";
                var port = s["local-port"] ?? "?";
                var family = protocol.TrimEnd('6');
                if (!allowedPorts.Contains($"{protocol}:{port}") && !allowedPorts.Contains($"{family}:{port}"))
                {
                    v.Untrusted($"unexpected listening port {protocol} {s["local"]}{Owner(s)}");
                }
            }
        }

        if (policy.AllowedPeers is { } peers)
        {
            if (sockets.Length == 0)
            {
                v.Unknown("no socket evidence to check the peers against");
            }

            var networks = peers.Select(ParseNetwork).ToArray();
            foreach (var s in sockets.Where(s => s["listening"] == "false"))
            {
                if (!IPAddress.TryParse(s["remote-address"], out var remote))
                {
                    v.Untrusted($"connection {s.Subject}{Owner(s)}: its remote address '{s["remote-address"] ?? "(missing)"}' is not an address, so its peer cannot be checked");
                    continue;
                }

                if (remote.IsIPv4MappedToIPv6)
                {
                    remote = remote.MapToIPv4();
                }

                if (!networks.Any(n => n.Contains(remote)))
                {
                    v.Untrusted($"connection to a peer not allowed: {s["protocol"]} {s["local"]} -> {s["remote"]}{Owner(s)}");
                }
            }
        }

        foreach (var forbidden in policy.ForbiddenProcesses)
        {
            foreach (var p in processes.Where(p => Matches(p, forbidden)))
            {
                v.Untrusted($"forbidden process {forbidden} runs: pid {p["pid"]} {p["comm"]} ({p["exe"] ?? "no executable"})");
            }
        }

        foreach (var required in policy.RequiredProcesses)
        {
            if (!processes.Any(p => Matches(p, required)))
            {
                v.Untrusted($"required process {required} is not running");
            }
        }

        // A process whose /proc entry could not be read is unattributed: it may be any program.
        if (policy.ExecutablesMustBeMeasured || policy.ForbiddenProcesses.Count > 0)
        {
            foreach (var p in processes.Where(p => p["stat-error"] is not null))
            {
                v.Untrusted($"pid {p["pid"]}: its /proc entry is unreadable (stat: {p["stat-error"]}), so what it runs is unknown");
            }
        }

        if (policy.ExecutablesMustBeMeasured)
        {
            foreach (var p in processes.Where(p => p["stat-error"] is null))
            {
                if (p["exe-deleted"] == "true")
                {
                    v.Untrusted($"pid {p["pid"]} ({p["comm"]}) runs an executable replaced or deleted after it started: {p["exe"]}");
                }
                else if (p["exe"] is not null && p["exe-sha256"] is null)
                {
                    v.Untrusted($"pid {p["pid"]} ({p["comm"]}): executable {p["exe"]} was not measured ({p["exe-error"] ?? "not hashed"})");
                }
                else if (p["exe"] is null && p["exe-error"] is { } error)
                {
                    v.Untrusted($"pid {p["pid"]} ({p["comm"]}): its executable could not be read ({error}), so it is not measured");
                }
                else if (p["exe"] is null && !IsKernelThread(p) && p["state"] != "Z")
                {
                    v.Untrusted($"pid {p["pid"]} ({p["comm"]}): no executable recorded, and it is neither a kernel thread nor a zombie");
                }
            }
        }

        var memory = records.FirstOrDefault(r => r.Type == EvidenceRecordTypes.Memory);
        if (policy.MaxMemoryUsedPercent is { } maxMemory)
        {
            if (memory?.GetInt64("used-percent") is not { } used)
            {
                v.Unknown("no memory evidence for the memory bound");
            }
            else if (used > maxMemory)
            {
                v.Untrusted($"memory in use {used}% exceeds {maxMemory}%");
            }
        }

        if (policy.MaxProcesses is { } maxProcesses && processes.Length > maxProcesses)
        {
            v.Untrusted($"{processes.Length} processes exceed the bound of {maxProcesses}");
        }

        if (policy.MaxLoad1 is { } maxLoad)
        {
            var cpu = records.FirstOrDefault(r => r.Type == EvidenceRecordTypes.Cpu);
            if (cpu?["load1"] is not { } text || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var load))
            {
                v.Unknown("no CPU evidence for the load bound");
            }
            else if (load > maxLoad)
            {
                v.Untrusted($"load {text} exceeds {maxLoad.ToString(CultureInfo.InvariantCulture)}");
            }
        }

        v.Passed($"{processes.Length} processes and {sockets.Length} sockets checked");
        return v.Build();
    }

    internal static AppraisalResult Combine(IReadOnlyList<PropertyVerdict> properties, DecisionPolicy policy)
    {
        var problems = new PolicyProblems();
        policy.Check(problems);
        if (problems.List.Count > 0)
        {
            throw new ArgumentException($"The decision policy is not valid: {string.Join("; ", problems.List)}.", nameof(policy));
        }

        var reasons = new List<string>();
        static string Short(string p) => p switch
        {
            Tpm => "tpm",
            Software => "software",
            _ => "behavior",
        };

        foreach (var veto in properties.Where(p => p.Verdict == Verdict.Untrusted && policy.Veto.Contains(Short(p.Property))))
        {
            reasons.Add($"{veto.Property} is untrusted and vetoes the decision");
        }

        if (policy.Strategy == DecisionStrategy.AllMustHold)
        {
            var decision = properties.Any(p => p.Verdict == Verdict.Untrusted) ? Verdict.Untrusted
                : properties.Any(p => p.Verdict == Verdict.Unknown) ? Verdict.Unknown
                : Verdict.Trusted;
            reasons.Add(decision switch
            {
                Verdict.Trusted => "all properties hold",
                Verdict.Untrusted => "not all properties hold: " + string.Join(", ", properties.Where(p => p.Verdict == Verdict.Untrusted).Select(p => p.Property)) + " untrusted",
                _ => "no property is untrusted, but " + string.Join(", ", properties.Where(p => p.Verdict == Verdict.Unknown).Select(p => p.Property)) + " unknown",
            });
            return new AppraisalResult(properties, decision, null, reasons);
        }

        double Weight(PropertyVerdict p) => policy.Weights.TryGetValue(Short(p.Property), out var w) ? w : 1.0;
        var total = properties.Sum(Weight);
        var score = total <= 0 ? 0 : properties.Sum(p => Weight(p) * p.Verdict switch
        {
            Verdict.Trusted => 1.0,
            Verdict.Unknown => policy.UnknownScore,
            _ => 0.0,
        }) / total;
        var best = total <= 0 ? 0 : properties.Sum(p => Weight(p) * (p.Verdict == Verdict.Untrusted ? 0.0 : 1.0)) / total;
        Verdict result;
        if (reasons.Count > 0)
        {
            result = Verdict.Untrusted;
        }
        else if (score >= policy.Threshold)
        {
            result = Verdict.Trusted;
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"score {score:0.00} reaches the threshold {policy.Threshold:0.00}"));
        }
        else if (best >= policy.Threshold)
        {
            result = Verdict.Unknown;
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"score {score:0.00} is below the threshold {policy.Threshold:0.00}, but would reach it ({best:0.00}) if the unknown properties held"));
        }
        else
        {
            result = Verdict.Untrusted;
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"score {score:0.00} is below the threshold {policy.Threshold:0.00}"));
        }

        return new AppraisalResult(properties, result, score, reasons);
    }

    private const string NotFound = "not found";

    private const string NotProven = "no evidence: the evidence log is not proven by a verified quote (see p_tpm), so its records are not judged";

    /// <summary>The record types the appraiser judges; any other needs behavior.ignoredRecordTypes.</summary>
    private static readonly string[] KnownTypes =
    [
        EvidenceRecordTypes.Agent, EvidenceRecordTypes.Memory, EvidenceRecordTypes.Cpu, EvidenceRecordTypes.Process, EvidenceRecordTypes.Socket,
        EvidenceRecordTypes.File, EvidenceRecordTypes.PolicyData, EvidenceRecordTypes.Ima, EvidenceRecordTypes.CollectorError,
    ];

    private static void AddCollectorErrors(Verdicts v, IReadOnlyList<EvidenceRecord> records, bool software)
    {
        foreach (var e in records.Where(r => r.Type == EvidenceRecordTypes.CollectorError && SoftwareSources.Contains(r.Subject) == software))
        {
            v.Unknown($"source {e.Subject} failed: {e["error"]}");
        }
    }

    /// <summary>kthreadd (pid 2) and its children: no executable, by the rule the collector follows.</summary>
    private static bool IsKernelThread(EvidenceRecord process) => process["pid"] == "2" || process["ppid"] == "2";

    private static bool Matches(EvidenceRecord process, string name) =>
        process["comm"] == name || process["exe"] == name || (process["exe"] is { } exe && Path.GetFileName(exe) == name);

    private static string Owner(EvidenceRecord socket) => socket["pid"] is { } pid ? $" (pid {pid} {socket["process"]})" : "";

    private static IPNetwork ParseNetwork(string text)
    {
        if (IPNetwork.TryParse(text, out var network))
        {
            return network;
        }

        return IPAddress.TryParse(text, out var address)
            ? new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
            : throw new FormatException($"allowed peer '{text}' is not an address or CIDR prefix");
    }

    private static byte[]? TryHex(string text)
    {
        try
        {
            return Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>Collects reasons; the verdict is the worst seen (untrusted over unknown over trusted).</summary>
    private sealed class Verdicts(string property)
    {
        private readonly List<string> _untrusted = [];
        private readonly List<string> _unknown = [];
        private readonly List<string> _passed = [];

        public void Untrusted(string reason) => _untrusted.Add(reason);

        public void Unknown(string reason) => _unknown.Add(reason);

        public void Passed(string reason) => _passed.Add(reason);

        public PropertyVerdict Build()
        {
            var verdict = _untrusted.Count > 0 ? Verdict.Untrusted : _unknown.Count > 0 ? Verdict.Unknown : Verdict.Trusted;
            var reasons = Cap(_untrusted).Concat(Cap(_unknown)).Concat(_passed).ToArray();
            return new PropertyVerdict(property, verdict, reasons);
        }

        private static IEnumerable<string> Cap(List<string> reasons) =>
            reasons.Count <= MaxReasons ? reasons : reasons.Take(MaxReasons).Append($"... and {reasons.Count - MaxReasons} more");
    }
}
