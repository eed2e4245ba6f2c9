using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TrustStack.Tpm.Hardware;

/// <summary>How an <see cref="EventAllowRule"/> decides that an event is allowed.</summary>
public enum EventAllowRuleKind
{
    /// <summary>The event's digest in every appraised bank is one the rule lists (or any digest, for a wildcard rule).</summary>
    Digest,

    /// <summary>The event data is one the rule lists and the event measures exactly that data (digest = H_bank(data) in every appraised bank), as EV_SEPARATOR and EV_EFI_ACTION events do.</summary>
    EventData,

    /// <summary>An EV_NO_ACTION event with all-zero digests: informational, never extended (PC Client PFP §10.4.1).</summary>
    NoAction,
}

/// <summary>
/// One rule of an <see cref="EventLogPolicy"/>: which events it allows, by PCR, event type and
/// digest (or by event data that the event measures). A rule never allows an event of another PCR
/// or type than it names.
/// </summary>
public sealed class EventAllowRule
{
    private static readonly byte[] s_separatorData = [0, 0, 0, 0];
    private readonly HashSet<uint> _pcrs;
    private readonly Dictionary<TpmAlgId, HashSet<string>> _digests;
    private readonly byte[][] _data;

    private EventAllowRule(string name, EventAllowRuleKind kind, IEnumerable<uint> pcrs, TcgEventType? eventType, IEnumerable<TpmtHa> digests, IEnumerable<byte[]> data, bool anyDigest)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("A rule needs a name (it is quoted in the reasons of the events it allows).", nameof(name));
        }

        Name = name;
        Kind = kind;
        _pcrs = [.. pcrs];
        if (_pcrs.Any(p => p > PcrValues.MaxPcr))
        {
            throw new ArgumentOutOfRangeException(nameof(pcrs), $"A PCR index is at most {PcrValues.MaxPcr}.");
        }

        Pcrs = [.. _pcrs.Order()];
        EventType = eventType;
        AnyDigest = anyDigest;
        var list = digests.ToArray();
        foreach (var d in list)
        {
            ArgumentNullException.ThrowIfNull(d);
            ArgumentNullException.ThrowIfNull(d.Digest);
            if (!TpmHash.IsSupported(d.HashAlg) || d.Digest.Length != TpmHash.DigestSize(d.HashAlg))
            {
                throw new ArgumentException($"A {d.HashAlg} digest of {d.Digest.Length} octets is not a digest TrustStack can compare.", nameof(digests));
            }
        }

        Digests = list;
        _digests = list.GroupBy(d => d.HashAlg).ToDictionary(g => g.Key, g => g.Select(d => Convert.ToHexString(d.Digest)).ToHashSet(StringComparer.Ordinal));
        _data = [.. data.Select(d => (byte[])(d ?? throw new ArgumentNullException(nameof(data))).Clone())];
        EventData = _data;
    }

    /// <summary>
    /// The named rule <c>separator</c>: EV_SEPARATOR events in PCRs 0–7 whose data is the four
    /// zero octets firmware logs at the end of pre-OS measurement and whose digests are
    /// H_bank(00000000) (PC Client PFP §3.3.2.2, §10.4.1). A separator of 0xFFFFFFFF signals a
    /// measurement error and is not allowed.
    /// </summary>
    public static EventAllowRule Separator { get; } = new("separator", EventAllowRuleKind.EventData, Enumerable.Range(0, 8).Select(p => (uint)p), TcgEventType.Separator, [], [s_separatorData], false);

    /// <summary>
    /// The named rule <c>no-action</c>: EV_NO_ACTION events (Spec ID, StartupLocality, vendor
    /// events) whose digests are all zero. They never extend a PCR; a StartupLocality event sets
    /// PCR 0's initial value, which the replay reads.
    /// </summary>
    public static EventAllowRule NoAction { get; } = new("no-action", EventAllowRuleKind.NoAction, [], TcgEventType.NoAction, [], [], false);

    /// <summary>The rule's name, quoted in reasons (a named rule's name, such as <c>separator</c>).</summary>
    public string Name { get; }

    /// <summary>How the rule matches.</summary>
    public EventAllowRuleKind Kind { get; }

    /// <summary>The PCRs whose events the rule may allow, ascending; empty: any PCR.</summary>
    public IReadOnlyList<uint> Pcrs { get; }

    /// <summary>The event type the rule allows; null: any type.</summary>
    public TcgEventType? EventType { get; }

    /// <summary>For <see cref="EventAllowRuleKind.Digest"/>: the allowed digests (any number per bank).</summary>
    public IReadOnlyList<TpmtHa> Digests { get; }

    /// <summary>For <see cref="EventAllowRuleKind.Digest"/>: true when any digest is allowed (a wildcard; use sparingly).</summary>
    public bool AnyDigest { get; }

    /// <summary>For <see cref="EventAllowRuleKind.EventData"/>: the allowed event data.</summary>
    public IReadOnlyList<byte[]> EventData { get; }

    /// <summary>A rule allowing events of <paramref name="eventType"/> in <paramref name="pcrs"/> whose digest in every appraised bank is one of <paramref name="digests"/>.</summary>
    /// <param name="name">The rule's name, quoted in reasons.</param>
    /// <param name="pcrs">The PCRs; empty: any.</param>
    /// <param name="eventType">The event type; null: any.</param>
    /// <param name="digests">The allowed digests, in any banks; at least one.</param>
    /// <returns>The rule.</returns>
    /// <exception cref="ArgumentException">No name, no digest, or a digest of an unsupported bank or the wrong size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A PCR above 31.</exception>
    public static EventAllowRule ForDigests(string name, IEnumerable<uint> pcrs, TcgEventType? eventType, IEnumerable<TpmtHa> digests)
    {
        ArgumentNullException.ThrowIfNull(pcrs);
        ArgumentNullException.ThrowIfNull(digests);
        var list = digests.ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException("Give at least one digest; AnyDigestOf allows any digest.", nameof(digests));
        }

        return new EventAllowRule(name, EventAllowRuleKind.Digest, pcrs, eventType, list, [], false);
    }

    /// <summary>A wildcard rule: any event of <paramref name="eventType"/> in <paramref name="pcrs"/>, whatever it measured. The policy then vouches for nothing those events measure.</summary>
    /// <param name="name">The rule's name.</param>
    /// <param name="pcrs">The PCRs; at least one (a wildcard over every PCR would allow everything of that type).</param>
    /// <param name="eventType">The event type.</param>
    /// <returns>The rule.</returns>
    /// <exception cref="ArgumentException">No name or no PCR.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A PCR above 31.</exception>
    public static EventAllowRule AnyDigestOf(string name, IEnumerable<uint> pcrs, TcgEventType eventType)
    {
        ArgumentNullException.ThrowIfNull(pcrs);
        var list = pcrs.ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException("A wildcard rule names its PCRs.", nameof(pcrs));
        }

        return new EventAllowRule(name, EventAllowRuleKind.Digest, list, eventType, [], [], true);
    }

    /// <summary>A rule allowing events of <paramref name="eventType"/> in <paramref name="pcrs"/> whose data is one of <paramref name="eventData"/> and whose digests are H_bank of that data.</summary>
    /// <param name="name">The rule's name.</param>
    /// <param name="pcrs">The PCRs; empty: any.</param>
    /// <param name="eventType">The event type.</param>
    /// <param name="eventData">The allowed event data; at least one.</param>
    /// <returns>The rule.</returns>
    /// <exception cref="ArgumentException">No name or no event data.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A PCR above 31.</exception>
    public static EventAllowRule ForEventData(string name, IEnumerable<uint> pcrs, TcgEventType eventType, IEnumerable<byte[]> eventData)
    {
        ArgumentNullException.ThrowIfNull(pcrs);
        ArgumentNullException.ThrowIfNull(eventData);
        var list = eventData.ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException("Give at least one event data value.", nameof(eventData));
        }

        return new EventAllowRule(name, EventAllowRuleKind.EventData, pcrs, eventType, [], list, false);
    }

    /// <summary>
    /// True when the rule allows <paramref name="logEvent"/>. Only the digests of
    /// <paramref name="banks"/> are compared (the banks the quote covers: the other banks'
    /// digests are attested by nothing); with no bank given, every digest of the event is.
    /// </summary>
    /// <param name="logEvent">The event.</param>
    /// <param name="banks">The appraised banks.</param>
    /// <returns>Whether the rule allows it.</returns>
    public bool Matches(TcgEvent logEvent, IReadOnlyCollection<TpmAlgId> banks)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentNullException.ThrowIfNull(banks);
        if ((_pcrs.Count > 0 && !_pcrs.Contains(logEvent.PcrIndex)) || (EventType is { } t && t != logEvent.EventType))
        {
            return false;
        }

        switch (Kind)
        {
            case EventAllowRuleKind.NoAction:
                return logEvent.EventType == TcgEventType.NoAction && logEvent.Digests.All(d => !d.Digest.AsSpan().ContainsAnyExcept((byte)0));
            case EventAllowRuleKind.EventData:
                if (!_data.Any(d => d.AsSpan().SequenceEqual(logEvent.EventData)))
                {
                    return false;
                }

                return EachAppraised(logEvent, banks, (bank, digest) => TpmHash.IsSupported(bank) && CryptographicOperations.FixedTimeEquals(digest, TpmHash.Hash(bank, logEvent.EventData)));
            default:
                return AnyDigest
                    ? EachAppraised(logEvent, banks, (_, _) => true)
                    : EachAppraised(logEvent, banks, (bank, digest) => _digests.TryGetValue(bank, out var allowed) && allowed.Contains(Convert.ToHexString(digest)));
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static bool EachAppraised(TcgEvent e, IReadOnlyCollection<TpmAlgId> banks, Func<TpmAlgId, byte[], bool> accept)
    {
        if (banks.Count == 0)
        {
            return e.Digests.Count > 0 && e.Digests.All(d => accept(d.HashAlg, d.Digest));
        }

        foreach (var bank in banks)
        {
            if (e.DigestFor(bank) is not { } digest || !accept(bank, digest))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>An event a policy rule allowed.</summary>
/// <param name="Index">The event's 1-based position after the Spec ID event.</param>
/// <param name="Event">The event.</param>
/// <param name="Rule">The rule that allowed it.</param>
public sealed record AllowedEvent(int Index, TcgEvent Event, EventAllowRule Rule);

/// <summary>An event that neither the caller's reference values nor any policy rule accounts for.</summary>
/// <param name="Index">The event's 1-based position after the Spec ID event.</param>
/// <param name="Event">The event.</param>
public sealed record UnattributedEvent(int Index, TcgEvent Event)
{
    /// <summary>A sentence naming the event: index, PCR, type and digests.</summary>
    public string Reason => $"{EventLogPolicy.Describe(Index, Event)} has no reference value or policy rule that allows it";
}

/// <summary>The outcome of <see cref="EventLogPolicy.Appraise"/>: what the rules allowed and what nothing accounts for.</summary>
/// <param name="Allowed">Events a rule allowed.</param>
/// <param name="Unattributed">Events nothing accounts for; the verdict must be untrusted when any.</param>
public sealed record EventLogAppraisal(IReadOnlyList<AllowedEvent> Allowed, IReadOnlyList<UnattributedEvent> Unattributed)
{
    /// <summary>True when every event is accounted for.</summary>
    public bool IsClean => Unattributed.Count == 0;
}

/// <summary>
/// Default-deny appraisal of a TCG event log (deployment rule "default deny"): every event that a
/// verifier's reference values do not match must be allowed by one of these rules — by PCR, event
/// type and digest, by the event data it measures, or by a named rule (<see cref="EventAllowRule.Separator"/>,
/// <see cref="EventAllowRule.NoAction"/>); anything else is unattributed and makes the verdict
/// untrusted with a reason naming the event (<see cref="Describe"/>). Rules are tried in order;
/// the first that matches is the one reported. Immutable and thread-safe.
/// </summary>
/// <remarks>
/// JSON form (<see cref="ToJson"/>, <see cref="FromJson"/>, <see cref="ReadFrom"/>): an array of rules,
/// each <c>{"rule":"separator"}</c> / <c>{"rule":"no-action"}</c> for a named rule, or
/// <c>{"name":N, "pcrs":[8], "eventType":"EV_IPL", "digests":{"sha256":["hex",...]}}</c>,
/// <c>{"name":N, "pcrs":[4], "eventType":"EV_EFI_ACTION", "eventData":["hex",...]}</c> or
/// <c>{"name":N, "pcrs":[8], "eventType":"EV_IPL", "anyDigest":true}</c>. Event types are TCG
/// names (<c>EV_IPL</c>) or numbers (<c>"0x0000000d"</c>); banks <c>sha1</c>, <c>sha256</c>,
/// <c>sha384</c>, <c>sha512</c>; hex in either case.
/// </remarks>
public sealed class EventLogPolicy
{
    /// <summary>Creates a policy of <paramref name="rules"/>, tried in order.</summary>
    /// <param name="rules">The rules.</param>
    public EventLogPolicy(IEnumerable<EventAllowRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        Rules = [.. rules.Select(r => r ?? throw new ArgumentNullException(nameof(rules)))];
    }

    /// <summary>The policy that allows nothing: only reference values account for events.</summary>
    public static EventLogPolicy DenyAll { get; } = new([]);

    /// <summary>The rules, in the order they are tried.</summary>
    public IReadOnlyList<EventAllowRule> Rules { get; }

    /// <summary>The first rule that allows <paramref name="logEvent"/>, or null.</summary>
    /// <param name="logEvent">The event.</param>
    /// <param name="banks">The appraised banks (see <see cref="EventAllowRule.Matches"/>).</param>
    /// <returns>The rule or null.</returns>
    public EventAllowRule? FindRule(TcgEvent logEvent, IReadOnlyCollection<TpmAlgId> banks)
    {
        foreach (var rule in Rules)
        {
            if (rule.Matches(logEvent, banks))
            {
                return rule;
            }
        }

        return null;
    }

    /// <summary>
    /// Appraises <paramref name="events"/>: each one that <paramref name="attributed"/> does not
    /// account for (the caller's reference values) must be allowed by a rule.
    /// </summary>
    /// <param name="events">The attested events (those the quote covers), in log order; their index is their 1-based position.</param>
    /// <param name="banks">The appraised banks (the quoted banks).</param>
    /// <param name="attributed">Whether the caller's reference values match the event at a 1-based index; null: none do.</param>
    /// <returns>What was allowed and what is unattributed.</returns>
    public EventLogAppraisal Appraise(IReadOnlyList<TcgEvent> events, IReadOnlyCollection<TpmAlgId> banks, Func<int, TcgEvent, bool>? attributed = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(banks);
        var allowed = new List<AllowedEvent>();
        var unattributed = new List<UnattributedEvent>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (attributed?.Invoke(i + 1, e) == true)
            {
                continue;
            }

            if (FindRule(e, banks) is { } rule)
            {
                allowed.Add(new AllowedEvent(i + 1, e, rule));
            }
            else
            {
                unattributed.Add(new UnattributedEvent(i + 1, e));
            }
        }

        return new EventLogAppraisal(allowed, unattributed);
    }

    /// <summary>Names an event for a reason: <c>event #4 (PCR 8, EV_IPL, sha1:…, sha256:…)</c>, every digest in full.</summary>
    /// <param name="index">Its 1-based position after the Spec ID event.</param>
    /// <param name="logEvent">The event.</param>
    /// <returns>The description.</returns>
    public static string Describe(int index, TcgEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        var text = new StringBuilder().Append("event #").Append(index.ToString(CultureInfo.InvariantCulture))
            .Append(" (PCR ").Append(logEvent.PcrIndex.ToString(CultureInfo.InvariantCulture)).Append(", ").Append(TcgEventTypeNames.Name(logEvent.EventType));
        foreach (var d in logEvent.Digests)
        {
            text.Append(", ").Append(PcrValues.BankName(d.HashAlg)).Append(':').Append(Convert.ToHexStringLower(d.Digest));
        }

        return text.Append(')').ToString();
    }

    /// <summary>The policy as a JSON array (see remarks).</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            WriteTo(w);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Writes the policy as a JSON array (see remarks).</summary>
    /// <param name="writer">The writer.</param>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartArray();
        foreach (var r in Rules)
        {
            writer.WriteStartObject();
            if (ReferenceEquals(r, EventAllowRule.Separator) || ReferenceEquals(r, EventAllowRule.NoAction))
            {
                writer.WriteString("rule", r.Name);
                writer.WriteEndObject();
                continue;
            }

            writer.WriteString("name", r.Name);
            writer.WriteStartArray("pcrs");
            foreach (var p in r.Pcrs)
            {
                writer.WriteNumberValue(p);
            }

            writer.WriteEndArray();
            if (r.EventType is { } type)
            {
                writer.WriteString("eventType", TcgEventTypeNames.Name(type));
            }

            switch (r.Kind)
            {
                case EventAllowRuleKind.EventData:
                    writer.WriteStartArray("eventData");
                    foreach (var d in r.EventData)
                    {
                        writer.WriteStringValue(Convert.ToHexStringLower(d));
                    }

                    writer.WriteEndArray();
                    break;
                case EventAllowRuleKind.Digest when r.AnyDigest:
                    writer.WriteBoolean("anyDigest", true);
                    break;
                default:
                    writer.WriteStartObject("digests");
                    foreach (var bank in r.Digests.GroupBy(d => d.HashAlg))
                    {
                        writer.WriteStartArray(PcrValues.BankName(bank.Key));
                        foreach (var d in bank)
                        {
                            writer.WriteStringValue(Convert.ToHexStringLower(d.Digest));
                        }

                        writer.WriteEndArray();
                    }

                    writer.WriteEndObject();
                    break;
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary>Reads a policy from its JSON text (see remarks).</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The policy.</returns>
    /// <exception cref="FormatException">Not JSON, or a rule is malformed; the message names the rule and field.</exception>
    public static EventLogPolicy FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            return ReadFrom(doc.RootElement, "$");
        }
        catch (JsonException e)
        {
            throw new FormatException($"The event-log policy is not JSON: {e.Message}", e);
        }
    }

    /// <summary>Reads a policy from a JSON element (an array of rules; see remarks).</summary>
    /// <param name="element">The element.</param>
    /// <param name="path">Where the element is, for messages (for example <c>$.platformEvents</c>).</param>
    /// <returns>The policy.</returns>
    /// <exception cref="FormatException">A rule is malformed; the message names the rule and field.</exception>
    public static EventLogPolicy ReadFrom(JsonElement element, string path = "$")
    {
        ArgumentNullException.ThrowIfNull(path);
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{path} must be an array of rules, not {element.ValueKind}.");
        }

        var rules = new List<EventAllowRule>();
        var i = 0;
        foreach (var item in element.EnumerateArray())
        {
            rules.Add(ReadRule(item, $"{path}[{i++}]"));
        }

        return new EventLogPolicy(rules);
    }

    private static EventAllowRule ReadRule(JsonElement r, string at)
    {
        if (r.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{at} must be an object.");
        }

        var known = new HashSet<string>(StringComparer.Ordinal) { "rule", "name", "pcrs", "eventType", "digests", "eventData", "anyDigest" };
        foreach (var p in r.EnumerateObject())
        {
            if (!known.Contains(p.Name))
            {
                throw new FormatException($"{at}.{p.Name} is not a field of a rule (rule, name, pcrs, eventType, digests, eventData, anyDigest).");
            }
        }

        if (r.TryGetProperty("rule", out var named))
        {
            if (r.EnumerateObject().Count() != 1)
            {
                throw new FormatException($"{at}: a named rule has only the field \"rule\".");
            }

            return named.ValueKind == JsonValueKind.String ? named.GetString() switch
            {
                "separator" => EventAllowRule.Separator,
                "no-action" => EventAllowRule.NoAction,
                var other => throw new FormatException($"{at}.rule: '{other}' is not a named rule (separator, no-action)."),
            } : throw new FormatException($"{at}.rule must be a string.");
        }

        var name = r.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(n.GetString())
            ? n.GetString()!
            : throw new FormatException($"{at}.name must be a non-empty string.");
        var pcrs = new List<uint>();
        if (r.TryGetProperty("pcrs", out var pa))
        {
            if (pa.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException($"{at}.pcrs must be an array of PCR indexes.");
            }

            foreach (var p in pa.EnumerateArray())
            {
                pcrs.Add(p.ValueKind == JsonValueKind.Number && p.TryGetUInt32(out var v) && v <= PcrValues.MaxPcr
                    ? v
                    : throw new FormatException($"{at}.pcrs: {p.GetRawText()} is not a PCR index 0..{PcrValues.MaxPcr}."));
            }
        }

        TcgEventType? type = null;
        if (r.TryGetProperty("eventType", out var t))
        {
            type = t.ValueKind == JsonValueKind.String && TcgEventTypeNames.TryParse(t.GetString()!, out var parsed)
                ? parsed
                : throw new FormatException($"{at}.eventType: {t.GetRawText()} is not an event type (a TCG name such as \"EV_IPL\", or \"0x0000000d\").");
        }

        var forms = new[] { "digests", "eventData", "anyDigest" }.Count(f => r.TryGetProperty(f, out _));
        if (forms != 1)
        {
            throw new FormatException($"{at} ('{name}') needs exactly one of digests, eventData, anyDigest.");
        }

        try
        {
            if (r.TryGetProperty("anyDigest", out var any))
            {
                if (any.ValueKind != JsonValueKind.True)
                {
                    throw new FormatException($"{at}.anyDigest must be true (omit it otherwise).");
                }

                return EventAllowRule.AnyDigestOf(name, pcrs, type ?? throw new FormatException($"{at} ('{name}'): a wildcard rule names its eventType."));
            }

            if (r.TryGetProperty("eventData", out var data))
            {
                return EventAllowRule.ForEventData(name, pcrs, type ?? throw new FormatException($"{at} ('{name}'): an eventData rule names its eventType."), ReadHexArray(data, $"{at}.eventData"));
            }

            var digests = r.GetProperty("digests");
            if (digests.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"{at}.digests must be an object of bank → array of hex digests.");
            }

            var list = new List<TpmtHa>();
            foreach (var bank in digests.EnumerateObject())
            {
                var alg = ParseBank(bank.Name) ?? throw new FormatException($"{at}.digests.{bank.Name} is not a bank (sha1, sha256, sha384, sha512).");
                foreach (var d in ReadHexArray(bank.Value, $"{at}.digests.{bank.Name}"))
                {
                    list.Add(d.Length == TpmHash.DigestSize(alg) ? new TpmtHa(alg, d) : throw new FormatException($"{at}.digests.{bank.Name}: a {bank.Name} digest has {TpmHash.DigestSize(alg)} octets, not {d.Length}."));
                }
            }

            return EventAllowRule.ForDigests(name, pcrs, type, list);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"{at} ('{name}'): {e.Message}", e);
        }
    }

    private static List<byte[]> ReadHexArray(JsonElement array, string at)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{at} must be an array of hex strings.");
        }

        var list = new List<byte[]>();
        foreach (var item in array.EnumerateArray())
        {
            try
            {
                list.Add(item.ValueKind == JsonValueKind.String ? Convert.FromHexString(item.GetString()!) : throw new FormatException($"{at}: {item.GetRawText()} is not a hex string."));
            }
            catch (FormatException e) when (item.ValueKind == JsonValueKind.String)
            {
                throw new FormatException($"{at}: '{item.GetString()}' is not hex: {e.Message}", e);
            }
        }

        return list;
    }

    private static TpmAlgId? ParseBank(string name) => name switch
    {
        "sha1" => TpmAlgId.Sha1,
        "sha256" => TpmAlgId.Sha256,
        "sha384" => TpmAlgId.Sha384,
        "sha512" => TpmAlgId.Sha512,
        _ => null,
    };
}

/// <summary>TCG names of event types (<c>EV_IPL</c>, <c>EV_EFI_ACTION</c>), as the PC Client PFP §10.4.1 spells them.</summary>
internal static class TcgEventTypeNames
{
    private static readonly Dictionary<TcgEventType, string> s_names = Enum.GetValues<TcgEventType>().Distinct().ToDictionary(t => t, ToTcgName);
    private static readonly Dictionary<string, TcgEventType> s_types = s_names.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);

    /// <summary>The TCG name, or <c>0x%08x</c> for a type without one.</summary>
    public static string Name(TcgEventType type) => s_names.TryGetValue(type, out var name) ? name : $"0x{(uint)type:x8}";

    /// <summary>Reads a TCG name or a <c>0x</c> hex number.</summary>
    public static bool TryParse(string text, out TcgEventType type)
    {
        if (s_types.TryGetValue(text, out type))
        {
            return true;
        }

        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && uint.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            type = (TcgEventType)value;
            return true;
        }

        return false;
    }

    // EfiVariableDriverConfig → EV_EFI_VARIABLE_DRIVER_CONFIG, SCrtmContents → EV_S_CRTM_CONTENTS.
    private static string ToTcgName(TcgEventType type)
    {
        var text = type.ToString();
        var name = new StringBuilder("EV");
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var boundary = i == 0 || (char.IsUpper(c) && !char.IsUpper(text[i - 1])) || (char.IsUpper(c) && i + 1 < text.Length && char.IsLower(text[i + 1]) && char.IsUpper(text[i - 1]));
            if (boundary)
            {
                name.Append('_');
            }

            name.Append(char.ToUpperInvariant(c));
        }

        return name.ToString();
    }
}
