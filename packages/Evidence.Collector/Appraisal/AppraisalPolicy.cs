using System.Text.Json;
using System.Text.Json.Serialization;

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

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>
    /// Parses a policy. A document with top-level <c>"digests"</c> (and no <c>"software"</c>) is a
    /// Keylime runtime policy (<c>{"meta":{"version":..},"digests":{path:[hex..]},"excludes":[regex..]}</c>)
    /// and becomes the software section. Our format's <c>software.keylimePolicy</c> names a Keylime
    /// file (relative to <paramref name="baseDirectory"/>) whose digests and excludes are merged in.
    /// </summary>
    /// <exception cref="FormatException">The JSON is malformed or has values of the wrong type.</exception>
    public static AppraisalPolicy Parse(string json, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("digests", out _) && !root.TryGetProperty("software", out _))
            {
                return new AppraisalPolicy { Software = FromKeylime(root) };
            }

            var policy = root.Deserialize<AppraisalPolicy>(Json) ?? new AppraisalPolicy();
            if (policy.Software.KeylimePolicy is { } keylimePath)
            {
                var path = Path.IsPathRooted(keylimePath) ? keylimePath : Path.Combine(baseDirectory ?? ".", keylimePath);
                using var keylime = JsonDocument.Parse(File.ReadAllText(path));
                var k = FromKeylime(keylime.RootElement);
                var digests = new Dictionary<string, IReadOnlyList<string>>(policy.Software.Digests, StringComparer.Ordinal);
                foreach (var (file, values) in k.Digests)
                {
                    digests[file] = digests.TryGetValue(file, out var existing) ? [.. existing, .. values] : values;
                }

                policy = policy with { Software = policy.Software with { Digests = digests, Excludes = [.. policy.Software.Excludes, .. k.Excludes] } };
            }

            return policy;
        }
        catch (JsonException e)
        {
            throw new FormatException($"The policy is not valid: {e.Message}", e);
        }
    }

    /// <summary>Reads and parses a policy file (a Keylime file named in it is relative to its directory).</summary>
    /// <exception cref="FormatException">The JSON is malformed.</exception>
    public static AppraisalPolicy Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllText(path), Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>The software section of a Keylime runtime policy (meta.version, digests, excludes).</summary>
    private static SoftwarePolicy FromKeylime(JsonElement root)
    {
        var digests = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (root.TryGetProperty("digests", out var d) && d.ValueKind == JsonValueKind.Object)
        {
            foreach (var file in d.EnumerateObject())
            {
                digests[file.Name] = file.Value.EnumerateArray().Select(v => v.GetString() ?? throw new FormatException($"digest of {file.Name} is not a string")).ToArray();
            }
        }

        var excludes = root.TryGetProperty("excludes", out var e) && e.ValueKind == JsonValueKind.Array
            ? e.EnumerateArray().Select(v => v.GetString() ?? "").Where(s => s.Length > 0).ToArray()
            : [];
        var version = root.TryGetProperty("meta", out var meta) && meta.TryGetProperty("version", out var v2) ? v2.ToString() : null;
        return new SoftwarePolicy { Digests = digests, Excludes = excludes, KeylimeVersion = version };
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

    /// <summary>True when the section says nothing (then p_behavior is unknown).</summary>
    [JsonIgnore]
    public bool IsEmpty => AllowedListeningPorts is null && AllowedPeers is null && ForbiddenProcesses.Count == 0 && RequiredProcesses.Count == 0
        && !ExecutablesMustBeMeasured && MaxMemoryUsedPercent is null && MaxProcesses is null && MaxLoad1 is null;
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
}
