using System.Globalization;
using System.Text;
using System.Text.Json;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// Reference values (<see cref="TvpQtReferenceValues"/>) as a JSON file, so a challenger
/// configures what it trusts explicitly (deployment rule "default deny": a verifier without
/// references does not start). Format <see cref="Format"/>:
/// <code>
/// {
///   "format": "truststack.tvpqt-references/1",
///   "junctionPcr": 15,
///   "platform": [ { "name": "firmware", "sha256": "hex", "pcr": 0, "kind": "Firmware" }, ... ],
///   "guest":    [ { "name": "ovmf", "sha256": "hex", "pcr": 0, "kind": "VirtualFirmware" }, ... ],
///   "trustedVTpmCode":    [ "hex SHA-256 code identity", ... ],
///   "trustedHardwareAks": [ "hex TPM Name", ... ],
///   "platformEvents": [ event-log policy rules ],
///   "guestEvents":    [ event-log policy rules ]
/// }
/// </code>
/// <c>platform</c> and <c>guest</c> list the chains in measure-before-run order (<c>pcr</c> and
/// <c>kind</c> optional); <c>platformEvents</c> and <c>guestEvents</c> (optional, default none)
/// are <see cref="EventLogPolicy"/> rule arrays; <c>trustedHardwareAks</c> may be empty when the
/// hardware AK is established by a certificate (TVP-PCA). Unknown fields are refused, so a
/// misspelt field never silently weakens the policy.
/// </summary>
public static class TvpQtReferenceFile
{
    /// <summary>The value of the <c>format</c> field this version reads and writes.</summary>
    public const string Format = "truststack.tvpqt-references/1";

    private static readonly HashSet<string> s_fields = new(StringComparer.Ordinal) { "format", "junctionPcr", "platform", "guest", "trustedVTpmCode", "trustedHardwareAks", "platformEvents", "guestEvents" };

    /// <summary>The reference values as JSON text.</summary>
    /// <param name="references">The reference values.</param>
    /// <returns>Indented JSON.</returns>
    public static string ToJson(TvpQtReferenceValues references)
    {
        ArgumentNullException.ThrowIfNull(references);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("junctionPcr", references.JunctionPcr);
            WriteChain(w, "platform", references.Platform);
            WriteChain(w, "guest", references.Guest);
            WriteHex(w, "trustedVTpmCode", references.TrustedVTpmCode);
            WriteHex(w, "trustedHardwareAks", references.TrustedHardwareAks);
            w.WritePropertyName("platformEvents");
            references.PlatformEvents.WriteTo(w);
            w.WritePropertyName("guestEvents");
            references.GuestEvents.WriteTo(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>Reads reference values from JSON text.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The reference values.</returns>
    /// <exception cref="FormatException">Not JSON, another format, or a field is missing or malformed; the message names the field.</exception>
    public static TvpQtReferenceValues FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            return Read(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new FormatException($"The reference-values file is not JSON: {e.Message}", e);
        }
    }

    /// <summary>Reads a reference-values file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The reference values.</returns>
    /// <exception cref="FormatException">The file's content is malformed (the message names the file and the field).</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static TvpQtReferenceValues Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var text = File.ReadAllText(path);
        try
        {
            return FromJson(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Writes a reference-values file atomically (a temporary file, flushed, then renamed over <paramref name="path"/>).</summary>
    /// <param name="references">The reference values.</param>
    /// <param name="path">The file.</param>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be written.</exception>
    public static void Save(TvpQtReferenceValues references, string path)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var temp = full + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(Encoding.UTF8.GetBytes(ToJson(references)));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private static TvpQtReferenceValues Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("The reference values must be a JSON object.");
        }

        foreach (var p in root.EnumerateObject())
        {
            if (!s_fields.Contains(p.Name))
            {
                throw new FormatException($"$.{p.Name} is not a field of a reference-values file ({string.Join(", ", s_fields)}).");
            }
        }

        var format = root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        if (format != Format)
        {
            throw new FormatException($"$.format is {(format is null ? "missing" : $"'{format}'")}, this reader reads '{Format}'.");
        }

        var junctionPcr = TrustedJunctionPoint.DefaultPcr;
        if (root.TryGetProperty("junctionPcr", out var j))
        {
            junctionPcr = j.ValueKind == JsonValueKind.Number && j.TryGetUInt32(out var v) && v <= 22 && v != 16
                ? v
                : throw new FormatException($"$.junctionPcr: {j.GetRawText()} is not a junction PCR (0..22, not 16 or 23: resettable at locality 0).");
        }

        return new TvpQtReferenceValues(
            ReadChain(root, "platform"),
            ReadChain(root, "guest"),
            ReadHex(root, "trustedVTpmCode", 32),
            ReadHex(root, "trustedHardwareAks", null))
        {
            JunctionPcr = junctionPcr,
            PlatformEvents = root.TryGetProperty("platformEvents", out var pe) ? EventLogPolicy.ReadFrom(pe, "$.platformEvents") : EventLogPolicy.DenyAll,
            GuestEvents = root.TryGetProperty("guestEvents", out var ge) ? EventLogPolicy.ReadFrom(ge, "$.guestEvents") : EventLogPolicy.DenyAll,
        };
    }

    private static List<ReferenceMeasurement> ReadChain(JsonElement root, string field)
    {
        if (!root.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"$.{field} must be an array of {{name, sha256, pcr?, kind?}} in measure-before-run order.");
        }

        var list = new List<ReferenceMeasurement>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var at = $"$.{field}[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"{at} must be an object.");
            }

            foreach (var p in item.EnumerateObject())
            {
                if (p.Name is not ("name" or "sha256" or "pcr" or "kind"))
                {
                    throw new FormatException($"{at}.{p.Name} is not a field of a reference measurement (name, sha256, pcr, kind).");
                }
            }

            var name = item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(n.GetString()) && !n.GetString()!.Contains('\n', StringComparison.Ordinal)
                ? n.GetString()!
                : throw new FormatException($"{at}.name must be a non-empty string without line feeds.");
            if (!names.Add(name))
            {
                throw new FormatException($"{at}: '{name}' is listed twice.");
            }

            var sha256 = item.TryGetProperty("sha256", out var h) && h.ValueKind == JsonValueKind.String && TryHex(h.GetString()!, out var digest) && digest.Length == 32
                ? digest
                : throw new FormatException($"{at}.sha256 must be a SHA-256 digest in hex (64 digits).");
            uint? pcr = null;
            if (item.TryGetProperty("pcr", out var pv))
            {
                pcr = pv.ValueKind == JsonValueKind.Number && pv.TryGetUInt32(out var pcrValue) && pcrValue <= 23
                    ? pcrValue
                    : throw new FormatException($"{at}.pcr: {pv.GetRawText()} is not a PCR index 0..23.");
            }

            string? kind = null;
            if (item.TryGetProperty("kind", out var k))
            {
                kind = k.ValueKind == JsonValueKind.String && KindsOf(field).Contains(k.GetString()!)
                    ? k.GetString()
                    : throw new FormatException($"{at}.kind: {k.GetRawText()} is not one of {string.Join(", ", KindsOf(field))}.");
            }

            list.Add(new ReferenceMeasurement(name, sha256) { Pcr = pcr, Kind = kind });
        }

        return list;
    }

    private static string[] KindsOf(string field) => field == "platform" ? Enum.GetNames<PlatformComponentKind>() : Enum.GetNames<GuestComponentKind>();

    private static List<byte[]> ReadHex(JsonElement root, string field, int? size)
    {
        if (!root.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"$.{field} must be an array of hex strings (it may be empty).");
        }

        var list = new List<byte[]>();
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var at = $"$.{field}[{i++}]";
            list.Add(item.ValueKind == JsonValueKind.String && TryHex(item.GetString()!, out var bytes) && bytes.Length > 0 && (size is null || bytes.Length == size)
                ? bytes
                : throw new FormatException($"{at} must be {(size is { } s ? $"{s} octets" : "octets")} in hex."));
        }

        return list;
    }

    private static bool TryHex(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }

    private static void WriteChain(Utf8JsonWriter w, string field, IReadOnlyList<ReferenceMeasurement> chain)
    {
        w.WriteStartArray(field);
        foreach (var m in chain)
        {
            w.WriteStartObject();
            w.WriteString("name", m.Name);
            w.WriteString("sha256", Convert.ToHexStringLower(m.Sha256));
            if (m.Pcr is { } pcr)
            {
                w.WriteNumber("pcr", pcr);
            }

            if (m.Kind is { } kind)
            {
                w.WriteString("kind", kind);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WriteHex(Utf8JsonWriter w, string field, IReadOnlyList<byte[]> values)
    {
        w.WriteStartArray(field);
        foreach (var v in values)
        {
            w.WriteStringValue(Convert.ToHexStringLower(v));
        }

        w.WriteEndArray();
    }
}
