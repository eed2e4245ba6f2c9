using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace TrustStack.Evidence.Collector;

/// <summary>
/// What a verifier accepts: one section per property and the combination strategy. Read from
/// JSON with <see cref="Parse"/> (our format, or a Keylime runtime policy, see the README).
/// </summary>
public sealed record AppraisalPolicy
{
    /// <summary>The p_tpm policy.</summary>
    public TpmPolicy Tpm { get; init; } = new();

    /// <summary>The p_software-configuration policy.</summary>
    public SoftwarePolicy Software { get; init; } = new();

    /// <summary>The p_behavior policy.</summary>
    public BehaviorPolicy Behavior { get; init; } = new();

    /// <summary>How the three verdicts are combined.</summary>
    public DecisionPolicy Decision { get; init; } = new();

    /// <summary>The largest weight a property may have: weights are ratios, and sums of absurd ones overflow.</summary>
    public const double MaxWeight = 1000;

    /// <summary>The property names of weights and vetoes.</summary>
    internal static readonly string[] PropertyNames = ["tpm", "software", "behavior"];

    // Strict: a misspelt field ("executablesMustBeMesured") would silently switch a rule off, and a
    // number in a string ("NaN") would slip past the JSON number grammar; both are refused.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        NumberHandling = JsonNumberHandling.Strict,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false) },
    };

    /// <summary>
    /// Parses a policy. A document with top-level <c>"digests"</c> (and no <c>"software"</c>) is a
    /// Keylime runtime policy (<c>{"meta":{"version":..},"digests":{path:[hex..]},"excludes":[regex..]}</c>)
    /// and becomes the software section. Our format's <c>software.keylimePolicy</c> names a Keylime
    /// file (relative to <paramref name="baseDirectory"/>) whose digests and excludes are merged in.
    /// Every value is range-checked (see <see cref="Validate"/>); unknown fields are refused.
    /// </summary>
    /// <exception cref="FormatException">
    /// The JSON is malformed, has an unknown field or a value of the wrong type, a value is out of
    /// range, or the named Keylime file cannot be read or is malformed; the message names the field.
    /// </exception>
    public static AppraisalPolicy Parse(string json, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        AppraisalPolicy policy;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"The policy is not valid: it must be a JSON object, not {root.ValueKind}.");
            }

            if (root.TryGetProperty("digests", out _) && !root.TryGetProperty("software", out _))
            {
                policy = new AppraisalPolicy { Software = FromKeylime(root, "") };
            }
            else
            {
                policy = root.Deserialize<AppraisalPolicy>(Json) ?? throw new FormatException("The policy is not valid: it is null.");
                if (policy.Software?.KeylimePolicy is { } keylimePath)
                {
                    policy = policy with { Software = Merge(policy.Software, ReadKeylime(keylimePath, baseDirectory)) };
                }
            }
        }
        catch (JsonException e)
        {
            throw new FormatException($"The policy is not valid: {e.Message}", e);
        }

        var problems = policy.Problems();
        return problems.Count == 0 ? policy : throw new FormatException($"The policy is not valid: {string.Join("; ", problems)}.");
    }

    /// <summary>Reads and parses a policy file (a Keylime file named in it is relative to its directory).</summary>
    /// <exception cref="FormatException">The policy is not valid (see <see cref="Parse"/>).</exception>
    /// <exception cref="IOException">The policy file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The policy file may not be read.</exception>
    public static AppraisalPolicy Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllText(path), Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>
    /// Checks that every value is in range: weights in (0, <see cref="MaxWeight"/>] and only for
    /// tpm/software/behavior, threshold in (0, 1], unknownScore in [0, 1], vetoes among the
    /// properties, bounds non-negative (memory percent at most 100), evidence PCR 0..23, names
    /// and digests hex, exclude patterns valid regular expressions, ports <c>proto:0..65535</c>,
    /// peers addresses or CIDR prefixes, no null or empty entries. <see cref="Parse"/> does this
    /// for a file, <see cref="EvidenceAppraiser.Appraise"/> for a policy built in code.
    /// </summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names every such field.</exception>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"The policy is not valid: {string.Join("; ", problems)}.");
        }
    }

    /// <summary>Every out-of-range value, each naming its field (for example <c>decision.threshold</c>).</summary>
    internal IReadOnlyList<string> Problems()
    {
        var p = new PolicyProblems();
        var missing = false;
        foreach (var (name, value) in new (string, object?)[] { ("tpm", Tpm), ("software", Software), ("behavior", Behavior), ("decision", Decision) })
        {
            if (value is null)
            {
                p.Add(name, "is null");
                missing = true;
            }
        }

        if (!missing)
        {
            Tpm.Check(p);
            Software.Check(p);
            Behavior.Check(p);
            Decision.Check(p);
        }

        return p.List;
    }

    private static SoftwarePolicy ReadKeylime(string path, string? baseDirectory)
    {
        string text;
        try
        {
            text = File.ReadAllText(Path.IsPathRooted(path) ? path : Path.Combine(baseDirectory ?? ".", path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new FormatException($"The policy is not valid: software.keylimePolicy '{path}' cannot be read: {FileHasher.Describe(e)}.", e);
        }

        try
        {
            using var keylime = JsonDocument.Parse(text);
            return keylime.RootElement.ValueKind == JsonValueKind.Object
                ? FromKeylime(keylime.RootElement, "software.keylimePolicy ")
                : throw new FormatException($"The policy is not valid: software.keylimePolicy '{path}' is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"The policy is not valid: software.keylimePolicy '{path}': {e.Message}", e);
        }
    }

    private static SoftwarePolicy Merge(SoftwarePolicy own, SoftwarePolicy keylime)
    {
        var digests = new Dictionary<string, IReadOnlyList<string>>(own.Digests ?? new Dictionary<string, IReadOnlyList<string>>(), StringComparer.Ordinal);
        foreach (var (file, values) in keylime.Digests)
        {
            digests[file] = digests.TryGetValue(file, out var existing) ? [.. existing ?? [], .. values] : values;
        }

        return own with { Digests = digests, Excludes = [.. own.Excludes ?? [], .. keylime.Excludes] };
    }

    /// <summary>
    /// The software section of a Keylime runtime policy (meta.version, digests, excludes). Other
    /// Keylime members (keyrings, ima-buf, ima) allow more and are not read: what they would allow
    /// stays denied.
    /// </summary>
    /// <exception cref="FormatException">A member has the wrong shape or value; the message names it.</exception>
    private static SoftwarePolicy FromKeylime(JsonElement root, string prefix)
    {
        FormatException Bad(string field, string what) => new($"The policy is not valid: {prefix}{field} {what}.");
        var digests = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (root.TryGetProperty("digests", out var d))
        {
            if (d.ValueKind != JsonValueKind.Object)
            {
                throw Bad("digests", "must be an object of path → [hex digest, ...]");
            }

            foreach (var file in d.EnumerateObject())
            {
                if (file.Value.ValueKind != JsonValueKind.Array)
                {
                    throw Bad($"digests.{file.Name}", "must be an array of hex digests");
                }

                var list = new List<string>();
                var i = 0;
                foreach (var v in file.Value.EnumerateArray())
                {
                    list.Add(v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Bad($"digests.{file.Name}[{i}]", "is not a string"));
                    i++;
                }

                digests[file.Name] = list;
            }
        }

        var excludes = new List<string>();
        if (root.TryGetProperty("excludes", out var e) && e.ValueKind != JsonValueKind.Null)
        {
            if (e.ValueKind != JsonValueKind.Array)
            {
                throw Bad("excludes", "must be an array of regular expressions");
            }

            var i = 0;
            foreach (var v in e.EnumerateArray())
            {
                var text = v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Bad($"excludes[{i}]", "is not a string");
                if (text.Length > 0)
                {
                    excludes.Add(text);
                }

                i++;
            }
        }

        string? version = null;
        if (root.TryGetProperty("meta", out var meta))
        {
            if (meta.ValueKind != JsonValueKind.Object)
            {
                throw Bad("meta", "must be an object");
            }

            version = meta.TryGetProperty("version", out var v2) ? v2.ToString() : null;
        }

        var policy = new SoftwarePolicy { Digests = digests, Excludes = excludes, KeylimeVersion = version };
        var problems = new PolicyProblems(prefix);
        policy.CheckKeylimeParts(problems);
        return problems.List.Count == 0 ? policy : throw new FormatException($"The policy is not valid: {string.Join("; ", problems.List)}.");
    }
}

/// <summary>Collects out-of-range policy values, each as "field why".</summary>
internal sealed class PolicyProblems(string prefix = "")
{
    public List<string> List { get; } = [];

    public void Add(string field, string why) => List.Add($"{prefix}{field} {why}");

    public static bool IsHex(string? text, int maxOctets = 64) =>
        text is { Length: > 0 } && text.Length % 2 == 0 && text.Length <= 2 * maxOctets && text.All(char.IsAsciiHexDigit);

    public void Strings(string field, IReadOnlyList<string>? items, Func<string, string?>? check = null)
    {
        if (items is null)
        {
            Add(field, "is null");
            return;
        }

        for (var i = 0; i < items.Count; i++)
        {
            var why = string.IsNullOrEmpty(items[i]) ? "is empty" : check?.Invoke(items[i]);
            if (why is not null)
            {
                Add($"{field}[{i}]", why);
            }
        }
    }

    public void Digests(string field, IReadOnlyDictionary<string, IReadOnlyList<string>>? digests)
    {
        if (digests is null)
        {
            Add(field, "is null");
            return;
        }

        foreach (var (path, values) in digests)
        {
            if (string.IsNullOrEmpty(path))
            {
                Add(field, "has an empty path");
                continue;
            }

            Strings($"{field}.{path}", values, v => IsHex(v) ? null : $"'{v}' is not a hex digest (at most 64 octets)");
        }
    }

    public static string? Regex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            return null;
        }
        catch (ArgumentException e)
        {
            return $"'{pattern}' is not a regular expression: {e.Message}";
        }
    }
}

/// <summary>The p_tpm policy.</summary>
public sealed record TpmPolicy
{
    /// <summary>Names (hex) of trusted attestation keys; empty leaves p_tpm unknown ("AK not anchored").</summary>
    public IReadOnlyList<string> TrustedAkNames { get; init; } = [];

    /// <summary>Without a verifier nonce, p_tpm is at best unknown (freshness not proven). Default true.</summary>
    public bool RequireNonce { get; init; } = true;

    /// <summary>When set, the report's evidence PCR must be this one.</summary>
    public int? EvidencePcr { get; init; }

    /// <summary>Agent self-measurement fields (for example <c>assembly.truststack.evidence.collector.sha256</c>) and their allowed values.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> AgentDigests { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    internal void Check(PolicyProblems p)
    {
        // A Name is u16 nameAlg ‖ digest: at most 2 + 64 octets.
        p.Strings("tpm.trustedAkNames", TrustedAkNames, n => PolicyProblems.IsHex(n, 66) ? null : $"'{n}' is not a hex Name");
        if (EvidencePcr is { } pcr && pcr is < 0 or > 23)
        {
            p.Add("tpm.evidencePcr", $"{pcr} is not a PCR 0..23");
        }

        if (AgentDigests is null)
        {
            p.Add("tpm.agentDigests", "is null");
            return;
        }

        foreach (var (field, values) in AgentDigests)
        {
            if (!EvidenceRecord.IsValidName(field ?? ""))
            {
                p.Add("tpm.agentDigests", $"field '{field}' is not a record field name ([a-z0-9._-])");
            }

            p.Strings($"tpm.agentDigests.{field}", values, v => PolicyProblems.IsHex(v) ? null : $"'{v}' is not a hex digest");
        }
    }
}

/// <summary>What to do with a measured item that is neither listed nor excluded.</summary>
public enum UnlistedItems
{
    /// <summary>It makes p_software-configuration untrusted (Keylime's rule).</summary>
    Fail,

    /// <summary>It is ignored.</summary>
    Ignore,
}

/// <summary>The p_software-configuration policy: reference digests per path, excludes, required items, expected values.</summary>
public sealed record SoftwarePolicy
{
    /// <summary>Path → allowed digests (hex, any algorithm the evidence uses: SHA-256 for files and executables, the IMA digest for IMA entries).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Digests { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>Regular expressions of paths to ignore.</summary>
    public IReadOnlyList<string> Excludes { get; init; } = [];

    /// <summary>Paths that must have been measured (and readable).</summary>
    public IReadOnlyList<string> Required { get; init; } = [];

    /// <summary>Expected values: <c>subject</c> (the record's "value" field) or <c>subject#field</c> → value, for example <c>"sysctl:net.ipv4.ip_forward": "0"</c>.</summary>
    public IReadOnlyDictionary<string, string> Values { get; init; } = new Dictionary<string, string>();

    /// <summary>Unlisted items: fail (default) or ignore.</summary>
    public UnlistedItems Unlisted { get; init; } = UnlistedItems.Fail;

    /// <summary>A Keylime runtime policy file merged into <see cref="Digests"/> and <see cref="Excludes"/>.</summary>
    public string? KeylimePolicy { get; init; }

    /// <summary>The Keylime meta.version, when the policy came from one.</summary>
    public string? KeylimeVersion { get; init; }

    /// <summary>True when the section says nothing (then p_software-configuration is unknown).</summary>
    [JsonIgnore]
    public bool IsEmpty => Digests.Count == 0 && Required.Count == 0 && Values.Count == 0;

    internal void Check(PolicyProblems p)
    {
        p.Digests("software.digests", Digests);
        p.Strings("software.excludes", Excludes, PolicyProblems.Regex);
        p.Strings("software.required", Required);
        if (Values is null)
        {
            p.Add("software.values", "is null");
        }
        else
        {
            foreach (var (key, value) in Values)
            {
                if (string.IsNullOrEmpty(key) || key.StartsWith('#') || key.EndsWith('#'))
                {
                    p.Add("software.values", $"key '{key}' is not 'subject' or 'subject#field'");
                }
                else if (value is null)
                {
                    p.Add($"software.values.{key}", "is null");
                }
            }
        }

        if (!Enum.IsDefined(Unlisted))
        {
            p.Add("software.unlisted", $"{Unlisted} is not fail or ignore");
        }
    }

    /// <summary>The checks of the parts a Keylime runtime policy supplies (field names as Keylime's).</summary>
    internal void CheckKeylimeParts(PolicyProblems p)
    {
        p.Digests("digests", Digests);
        p.Strings("excludes", Excludes, PolicyProblems.Regex);
    }
}

/// <summary>The p_behavior policy; a null list is not checked.</summary>
public sealed record BehaviorPolicy
{
    /// <summary>Allowed listening sockets, "tcp:22", "udp:53" ("tcp" covers tcp6; "tcp6:22" only v6).</summary>
    public IReadOnlyList<string>? AllowedListeningPorts { get; init; }

    /// <summary>Allowed remote peers of connected sockets: addresses or CIDR prefixes.</summary>
    public IReadOnlyList<string>? AllowedPeers { get; init; }

    /// <summary>Processes that must not run (command name, executable path or its file name).</summary>
    public IReadOnlyList<string> ForbiddenProcesses { get; init; } = [];

    /// <summary>Processes that must run.</summary>
    public IReadOnlyList<string> RequiredProcesses { get; init; } = [];

    /// <summary>Every process must come from an executable the agent measured, still on disk as measured.</summary>
    public bool ExecutablesMustBeMeasured { get; init; }

    /// <summary>Upper bound of memory in use, percent.</summary>
    public int? MaxMemoryUsedPercent { get; init; }

    /// <summary>Upper bound of the number of processes.</summary>
    public int? MaxProcesses { get; init; }

    /// <summary>Upper bound of the 1-minute load average.</summary>
    public double? MaxLoad1 { get; init; }

    /// <summary>
    /// Record types of custom sources that the policy accepts without judging them (an explicit
    /// allow rule). A record of any type the appraiser does not know and this list does not name
    /// makes p_behavior untrusted.
    /// </summary>
    public IReadOnlyList<string> IgnoredRecordTypes { get; init; } = [];

    /// <summary>True when the section says nothing (then p_behavior is unknown).</summary>
    [JsonIgnore]
    public bool IsEmpty => AllowedListeningPorts is null && AllowedPeers is null && ForbiddenProcesses.Count == 0 && RequiredProcesses.Count == 0
        && !ExecutablesMustBeMeasured && MaxMemoryUsedPercent is null && MaxProcesses is null && MaxLoad1 is null;

    internal void Check(PolicyProblems p)
    {
        if (AllowedListeningPorts is not null)
        {
            p.Strings("behavior.allowedListeningPorts", AllowedListeningPorts, CheckPort);
        }

        if (AllowedPeers is not null)
        {
            p.Strings("behavior.allowedPeers", AllowedPeers, peer => IPNetwork.TryParse(peer, out _) || IPAddress.TryParse(peer, out _) ? null : $"'{peer}' is not an address or CIDR prefix");
        }

        p.Strings("behavior.ignoredRecordTypes", IgnoredRecordTypes, t => EvidenceRecord.IsValidName(t) ? null : $"'{t}' is not a record type ([a-z0-9._-])");
        p.Strings("behavior.forbiddenProcesses", ForbiddenProcesses);
        p.Strings("behavior.requiredProcesses", RequiredProcesses);
        if (MaxMemoryUsedPercent is { } memory && memory is < 0 or > 100)
        {
            p.Add("behavior.maxMemoryUsedPercent", $"{memory} is not a percentage 0..100");
        }

        if (MaxProcesses is { } processes && processes < 0)
        {
            p.Add("behavior.maxProcesses", $"{processes} is negative");
        }

        if (MaxLoad1 is { } load && (!double.IsFinite(load) || load < 0))
        {
            p.Add("behavior.maxLoad1", $"{load.ToString(CultureInfo.InvariantCulture)} is not a load of 0 or more");
        }
    }

    private static string? CheckPort(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var protocol = colon < 0 ? text : text[..colon];
        return colon > 0 && protocol is "tcp" or "tcp6" or "udp" or "udp6"
            && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535
            ? null
            : $"'{text}' is not protocol:port (tcp, tcp6, udp, udp6; port 0..65535)";
    }
}

/// <summary>How the combined decision is made.</summary>
public enum DecisionStrategy
{
    /// <summary>Trusted only when every property is trusted; any untrusted → untrusted; else unknown.</summary>
    AllMustHold,

    /// <summary>Weighted score (trusted 1, untrusted 0, unknown <see cref="DecisionPolicy.UnknownScore"/>) against a threshold; vetoes first.</summary>
    Weighted,
}

/// <summary>The combination strategy.</summary>
public sealed record DecisionPolicy
{
    /// <summary>The strategy ("all-must-hold" or "weighted" in JSON).</summary>
    public DecisionStrategy Strategy { get; init; } = DecisionStrategy.AllMustHold;

    /// <summary>Weights by property ("tpm", "software", "behavior"); missing ones weigh 1.</summary>
    public IReadOnlyDictionary<string, double> Weights { get; init; } = new Dictionary<string, double>();

    /// <summary>The score needed for trusted (0..1).</summary>
    public double Threshold { get; init; } = 0.75;

    /// <summary>What an unknown property scores (0..1).</summary>
    public double UnknownScore { get; init; } = 0.5;

    /// <summary>Properties whose untrusted verdict makes the decision untrusted whatever the score (default tpm).</summary>
    public IReadOnlyList<string> Veto { get; init; } = ["tpm"];

    internal void Check(PolicyProblems p)
    {
        if (!Enum.IsDefined(Strategy))
        {
            p.Add("decision.strategy", $"{Strategy} is not all-must-hold or weighted");
        }

        if (Weights is null)
        {
            p.Add("decision.weights", "is null");
        }
        else
        {
            foreach (var (property, weight) in Weights)
            {
                if (!AppraisalPolicy.PropertyNames.Contains(property))
                {
                    p.Add($"decision.weights.{property}", "is not a property (tpm, software, behavior)");
                }
                else if (!double.IsFinite(weight) || weight <= 0 || weight > AppraisalPolicy.MaxWeight)
                {
                    // A zero or negative weight silences a property or inverts it; an absurd one overflows the sum.
                    p.Add($"decision.weights.{property}", $"{weight.ToString(CultureInfo.InvariantCulture)} is not a weight in (0, {AppraisalPolicy.MaxWeight.ToString(CultureInfo.InvariantCulture)}]");
                }
            }
        }

        // A threshold of 0 or below is reached by any score: every verdict would be trusted.
        if (!double.IsFinite(Threshold) || Threshold <= 0 || Threshold > 1)
        {
            p.Add("decision.threshold", $"{Threshold.ToString(CultureInfo.InvariantCulture)} is not in (0, 1]");
        }

        if (!double.IsFinite(UnknownScore) || UnknownScore < 0 || UnknownScore > 1)
        {
            p.Add("decision.unknownScore", $"{UnknownScore.ToString(CultureInfo.InvariantCulture)} is not in [0, 1]");
        }

        p.Strings("decision.veto", Veto, v => AppraisalPolicy.PropertyNames.Contains(v) ? null : $"'{v}' is not a property (tpm, software, behavior)");
    }
}
