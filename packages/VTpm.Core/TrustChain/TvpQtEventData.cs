using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>The two kinds of TVP-QT event, the <c>taggedEventID</c> of their TCG_PCClientTaggedEvent.</summary>
public enum TvpQtEventTag : uint
{
    /// <summary>A component of a boot chain (platform or guest) measured by its predecessor before it ran ("TVQ" 01).</summary>
    Component = 0x5456_5101,

    /// <summary>A vTPM launch measured by the trusted junction point ("TVQ" 02).</summary>
    VTpmLaunch = 0x5456_5102,
}

/// <summary>
/// The canonical event data of every TVP-QT log event. The event type is EV_EVENT_TAG and the
/// data is a TCG_PCClientTaggedEvent (PC Client PFP §10.4.2: little-endian u32 taggedEventID,
/// u32 taggedEventDataSize, taggedEventData) whose taggedEventData is UTF-8 text, one
/// <c>key=value</c> line per field, each ended by LF, keys in a fixed order per tag:
/// <list type="bullet">
/// <item><see cref="TvpQtEventTag.Component"/>: <c>seq</c> (1-based position in its chain), <c>name</c>, <c>kind</c>, <c>measured-by</c> (the name of the component that measured it, <see cref="PlatformMeasurement.RootOfTrustName"/> or <see cref="GuestMeasurement.RootOfTrustName"/> for the first).</item>
/// <item><see cref="TvpQtEventTag.VTpmLaunch"/>: <c>seq</c> (launch number on this platform), <c>vm</c> (the VM UUID, lower-case "D" format), <c>vek-name</c>, <c>vek-public-digest</c>, <c>code</c> (lower-case hex), <c>measured-by</c> (the junction point's component name).</item>
/// </list>
/// Values never contain LF; the encoding of a given set of fields is unique, so a verifier can
/// re-encode what it parsed and compare.
/// </summary>
/// <param name="Tag">Which kind of event.</param>
/// <param name="Fields">The fields in canonical order.</param>
public sealed record TvpQtEventData(TvpQtEventTag Tag, IReadOnlyList<KeyValuePair<string, string>> Fields)
{
    private static readonly string[] s_componentKeys = ["seq", "name", "kind", "measured-by"];
    private static readonly string[] s_launchKeys = ["seq", "vm", "vek-name", "vek-public-digest", "code", "measured-by"];

    /// <summary>The value of field <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">The event has no such field.</exception>
    public string this[string key]
    {
        get
        {
            foreach (var (k, v) in Fields)
            {
                if (k == key)
                {
                    return v;
                }
            }

            throw new KeyNotFoundException($"The event has no field '{key}'.");
        }
    }

    /// <summary>The <c>seq</c> field.</summary>
    public int Sequence => int.Parse(this["seq"], NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>The <c>measured-by</c> field.</summary>
    public string MeasuredBy => this["measured-by"];

    /// <summary>The event data of a component event.</summary>
    /// <exception cref="ArgumentException">A value contains LF or '=' in a name, or is empty.</exception>
    public static TvpQtEventData ForComponent(int sequence, string name, string kind, string measuredBy) =>
        Create(TvpQtEventTag.Component, [
            new("seq", sequence.ToString(CultureInfo.InvariantCulture)),
            new("name", name),
            new("kind", kind),
            new("measured-by", measuredBy)]);

    /// <summary>The event data of a junction-point launch event.</summary>
    /// <exception cref="ArgumentException">A value is empty or contains LF.</exception>
    public static TvpQtEventData ForLaunch(int sequence, VTpmLaunch launch, string measuredBy)
    {
        ArgumentNullException.ThrowIfNull(launch);
        return Create(TvpQtEventTag.VTpmLaunch, [
            new("seq", sequence.ToString(CultureInfo.InvariantCulture)),
            new("vm", launch.VmId.ToString("D")),
            new("vek-name", Convert.ToHexStringLower(launch.EkName)),
            new("vek-public-digest", Convert.ToHexStringLower(launch.EkPublicDigest)),
            new("code", Convert.ToHexStringLower(launch.CodeDigest)),
            new("measured-by", measuredBy)]);
    }

    /// <summary>The marshalled TCG_PCClientTaggedEvent.</summary>
    public byte[] ToBytes()
    {
        var text = new StringBuilder();
        foreach (var (key, value) in Fields)
        {
            text.Append(key).Append('=').Append(value).Append('\n');
        }

        var payload = Encoding.UTF8.GetBytes(text.ToString());
        var bytes = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)Tag);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)payload.Length);
        payload.CopyTo(bytes.AsSpan(8));
        return bytes;
    }

    /// <summary>Parses the event data of a log event, or returns null when it is not a TVP-QT event.</summary>
    /// <param name="logEvent">An event of a TCG log.</param>
    public static TvpQtEventData? TryParse(TcgEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        return logEvent.EventType == TcgEventType.EventTag ? TryParse(logEvent.EventData) : null;
    }

    /// <summary>Parses a TCG_PCClientTaggedEvent, or returns null when it is not a canonical TVP-QT event.</summary>
    /// <param name="data">The event data.</param>
    public static TvpQtEventData? TryParse(ReadOnlySpan<byte> data)
    {
        if (data.Length < 8)
        {
            return null;
        }

        var tag = (TvpQtEventTag)BinaryPrimitives.ReadUInt32LittleEndian(data);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        var keys = tag switch
        {
            TvpQtEventTag.Component => s_componentKeys,
            TvpQtEventTag.VTpmLaunch => s_launchKeys,
            _ => null,
        };
        if (keys is null || size != (uint)(data.Length - 8))
        {
            return null;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(data[8..]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        if (!text.EndsWith('\n'))
        {
            return null;
        }

        var lines = text[..^1].Split('\n');
        if (lines.Length != keys.Length)
        {
            return null;
        }

        var fields = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < lines.Length; i++)
        {
            var eq = lines[i].IndexOf('=', StringComparison.Ordinal);
            if (eq < 0 || lines[i][..eq] != keys[i] || eq == lines[i].Length - 1)
            {
                return null;
            }

            fields.Add(new(keys[i], lines[i][(eq + 1)..]));
        }

        // seq in canonical decimal (no sign, no leading zero), so one set of fields has one encoding.
        var parsed = new TvpQtEventData(tag, fields);
        return int.TryParse(parsed["seq"], NumberStyles.None, CultureInfo.InvariantCulture, out var seq) && seq.ToString(CultureInfo.InvariantCulture) == parsed["seq"] ? parsed : null;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Tag}: {string.Join(", ", Fields.Select(f => $"{f.Key}={f.Value}"))}";

    private static TvpQtEventData Create(TvpQtEventTag tag, KeyValuePair<string, string>[] fields)
    {
        foreach (var (key, value) in fields)
        {
            if (string.IsNullOrEmpty(value) || value.Contains('\n', StringComparison.Ordinal))
            {
                throw new ArgumentException($"The event field '{key}' is empty or contains a line feed.", key);
            }
        }

        return new TvpQtEventData(tag, fields);
    }
}
