using System.Buffers.Binary;
using System.Text.Json;

namespace TrustStack.VTpm.Core;

/// <summary>
/// The wire format of the control endpoint: each message is a u32 big-endian length and a UTF-8
/// JSON object of at most <see cref="MaxSize"/> octets, with a version (<c>"v": 1</c>). JSON so that
/// later commands (create, list, destroy) and fields are added without a new framing, and so that
/// an operator can read it. The decoders are total: anything malformed is a <see cref="FormatException"/>.
/// </summary>
internal static class VTpmControlProtocol
{
    public const int Version = 1;
    public const int MaxSize = 1 << 20;

    public static byte[] Encode(VTpmControlRequest request)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("v", Version);
            w.WriteString("command", request.Command.ToString());
            if (request.VmId is { } vm)
            {
                w.WriteString("vm", vm.ToString("D"));
            }

            if (request.Destination is { } to)
            {
                w.WriteString("to", to);
            }

            w.WriteStartArray("trustAk");
            foreach (var name in request.TrustedAttestationKeyNames)
            {
                w.WriteStringValue(Convert.ToHexStringLower(name));
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <exception cref="FormatException">Not a control request.</exception>
    public static VTpmControlRequest DecodeRequest(ReadOnlySpan<byte> json) => Total(json, DecodeRequestCore);

    /// <exception cref="FormatException">Not a control response.</exception>
    public static VTpmControlResponse DecodeResponse(ReadOnlySpan<byte> json) => Total(json, DecodeResponseCore);

    private static T Total<T>(ReadOnlySpan<byte> json, Func<byte[], T> decode)
    {
        try
        {
            return decode(json.ToArray());
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json's element accessors throw this for invalid UTF-8 inside a string.
            throw new FormatException($"not a control message: {e.Message}", e);
        }
    }

    private static VTpmControlRequest DecodeRequestCore(byte[] json)
    {
        using var document = Parse(json);
        var root = document.RootElement;
        var command = EnumOf<VTpmControlCommand>(root, "command") ?? throw new FormatException("the request has no command");
        var names = new List<byte[]>();
        if (root.TryGetProperty("trustAk", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("trustAk is not an array");
            }

            foreach (var item in list.EnumerateArray())
            {
                names.Add(item.ValueKind == JsonValueKind.String && item.GetString() is { } hex ? Hex(hex) : throw new FormatException("trustAk holds a non-string"));
            }
        }

        return new VTpmControlRequest(command)
        {
            VmId = GuidOf(root, "vm"),
            Destination = StringOf(root, "to"),
            TrustedAttestationKeyNames = names,
        };
    }

    public static byte[] Encode(VTpmControlResponse response)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("v", Version);
            if (response.Error is { } error)
            {
                w.WriteString("error", error);
            }

            if (response.Migration is { } m)
            {
                w.WriteStartObject("migration");
                w.WriteString("vm", m.VmId.ToString("D"));
                w.WriteString("migrationId", m.MigrationId.ToString("D"));
                w.WriteString("outcome", m.Outcome.ToString());
                w.WriteBoolean("awaitsDestination", m.AwaitsDestination);
                w.WriteStartArray("reasons");
                foreach (var reason in m.Reasons)
                {
                    w.WriteStringValue(reason);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            if (response.Instances is { } instances)
            {
                w.WriteStartArray("instances");
                foreach (var i in instances)
                {
                    w.WriteStartObject();
                    w.WriteString("vm", i.VmId.ToString("D"));
                    w.WriteString("state", i.State.ToString());
                    if (i.Port is { } port)
                    {
                        w.WriteNumber("port", port);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static VTpmControlResponse DecodeResponseCore(byte[] json)
    {
        using var document = Parse(json);
        var root = document.RootElement;
        VTpmMigrationResult? migration = null;
        if (root.TryGetProperty("migration", out var m))
        {
            if (m.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("migration is not an object");
            }

            var reasons = new List<string>();
            if (m.TryGetProperty("reasons", out var r) && r.ValueKind == JsonValueKind.Array)
            {
                reasons.AddRange(r.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new FormatException("a reason is not a string")));
            }

            migration = new VTpmMigrationResult(
                GuidOf(m, "vm") ?? throw new FormatException("the migration has no vm"),
                GuidOf(m, "migrationId") ?? Guid.Empty,
                EnumOf<VTpmMigrationOutcome>(m, "outcome") ?? throw new FormatException("the migration has no outcome"),
                reasons)
            {
                AwaitsDestination = m.TryGetProperty("awaitsDestination", out var a) && a.ValueKind == JsonValueKind.True,
            };
        }

        List<VTpmControlInstance>? instances = null;
        if (root.TryGetProperty("instances", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("instances is not an array");
            }

            instances = [];
            foreach (var i in list.EnumerateArray())
            {
                if (i.ValueKind != JsonValueKind.Object)
                {
                    throw new FormatException("an instance is not an object");
                }

                int? port = i.TryGetProperty("port", out var p) ? (p.TryGetInt32(out var value) ? value : throw new FormatException("a port is not a number")) : null;
                instances.Add(new VTpmControlInstance(
                    GuidOf(i, "vm") ?? throw new FormatException("an instance has no vm"),
                    EnumOf<VTpmInstanceState>(i, "state") ?? throw new FormatException("an instance has no state"),
                    port));
            }
        }

        return new VTpmControlResponse { Error = StringOf(root, "error"), Migration = migration, Instances = instances };
    }

    public static async ValueTask WriteAsync(Stream stream, byte[] message, CancellationToken cancellationToken)
    {
        var prefix = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)message.Length);
        await stream.WriteAsync(prefix, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one message; null at a clean end of stream.</summary>
    /// <exception cref="IOException">Truncated, or over the size limit.</exception>
    public static async ValueTask<byte[]?> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var prefix = new byte[4];
        var read = await stream.ReadAtLeastAsync(prefix, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            return null;
        }

        if (read < 4)
        {
            throw new IOException("Truncated control message length.");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        if (length > MaxSize)
        {
            throw new IOException($"A control message of {length} octets exceeds the limit of {MaxSize}.");
        }

        var message = new byte[length];
        await stream.ReadExactlyAsync(message, cancellationToken).ConfigureAwait(false);
        return message;
    }

    private static JsonDocument Parse(byte[] json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new FormatException($"not a control message: {e.Message}", e);
        }

        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("v", out var v) || !v.TryGetInt32(out var version) || version != Version)
        {
            document.Dispose();
            throw new FormatException($"not a control message of version {Version}");
        }

        return document;
    }

    private static string? StringOf(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null ? null
        : p.ValueKind == JsonValueKind.String ? p.GetString() : throw new FormatException($"{name} is not a string");

    private static Guid? GuidOf(JsonElement e, string name) =>
        StringOf(e, name) is not { } text ? null
        : Guid.TryParseExact(text, "D", out var id) ? id : throw new FormatException($"{name} '{text}' is not a UUID");

    private static T? EnumOf<T>(JsonElement e, string name)
        where T : struct, Enum =>
        StringOf(e, name) is not { } text ? null
        : Enum.GetNames<T>().Contains(text, StringComparer.Ordinal) ? Enum.Parse<T>(text) : throw new FormatException($"{name} '{text}' is not one of {string.Join(", ", Enum.GetNames<T>())}");

    private static byte[] Hex(string text)
    {
        try
        {
            return Convert.FromHexString(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"'{text}' is not hex: {e.Message}", e);
        }
    }
}
