using System.Globalization;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// One option string selects the TPM, in the style of a tpm2-tss TCTI configuration:
/// <c>embedded</c> (the in-process engine; <c>embedded:seed=42,state=DIR</c>),
/// <c>swtpm:host=127.0.0.1,port=2321</c>, <c>mssim:host=127.0.0.1,port=2321</c>,
/// <c>device:/dev/tpmrm0</c>. Socket TPMs also take timeouts (see <see cref="TpmSocketTimeouts"/>):
/// <c>timeout=</c> (response; alone it sets key generation too), <c>keygen-timeout=</c>,
/// <c>connect-timeout=</c>, <c>send-timeout=</c>, each in seconds or with a unit
/// (<c>swtpm:port=2321,timeout=30s,connect-timeout=500ms</c>).
/// </summary>
/// <param name="Kind">embedded, swtpm, mssim or device.</param>
/// <param name="Settings">The key=value settings (a device path is stored as <c>path</c>).</param>
public sealed record TpmTransportSpec(string Kind, IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>The embedded engine with default settings.</summary>
    public static TpmTransportSpec Embedded { get; } = new("embedded", new Dictionary<string, string>());

    /// <summary>Parses a specification.</summary>
    /// <exception cref="FormatException">Unknown kind, malformed setting, or bad port.</exception>
    public static TpmTransportSpec Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        var kind = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        var rest = colon < 0 ? string.Empty : spec[(colon + 1)..];
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        switch (kind)
        {
            case "embedded" or "swtpm" or "mssim":
                foreach (var part in rest.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var eq = part.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        throw new FormatException($"TPM setting '{part}' in '{spec}' is not key=value.");
                    }

                    settings[part[..eq]] = part[(eq + 1)..];
                }

                break;
            case "device":
                settings["path"] = rest.Length == 0 ? "/dev/tpmrm0" : rest;
                break;
            default:
                throw new FormatException($"Unknown TPM kind '{kind}' in '{spec}': use embedded, swtpm:host=H,port=P, mssim:host=H,port=P or device:/dev/tpmrm0.");
        }

        var result = new TpmTransportSpec(kind, settings);
        if (kind is "swtpm" or "mssim")
        {
            _ = result.Port;
            _ = result.Timeouts;
        }

        return result;
    }

    /// <summary>The host of a socket TPM (default 127.0.0.1).</summary>
    public string Host => Settings.TryGetValue("host", out var h) ? h : "127.0.0.1";

    /// <summary>The port of a socket TPM (default 2321).</summary>
    /// <exception cref="FormatException">The port is not 1..65535.</exception>
    public int Port => !Settings.TryGetValue("port", out var p) ? 2321
        : int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536 ? port
        : throw new FormatException($"Port '{p}' is not 1..65535.");

    /// <summary>The timeouts of a socket TPM: the defaults of <see cref="TpmSocketTimeouts"/>, overridden by the settings.</summary>
    /// <exception cref="FormatException">A timeout setting is not a duration of 1 ms to 24 days.</exception>
    public TpmSocketTimeouts Timeouts
    {
        get
        {
            TimeSpan? Setting(string key) => Settings.TryGetValue(key, out var v) ? TpmSocketTimeouts.ParseDuration(key, v) : null;
            var response = Setting("timeout");
            var keyGeneration = Setting("keygen-timeout") ?? response;
            var d = TpmSocketTimeouts.Default;
            return new TpmSocketTimeouts
            {
                Connect = Setting("connect-timeout") ?? d.Connect,
                Send = Setting("send-timeout") ?? d.Send,
                Response = response ?? d.Response,
                KeyGeneration = keyGeneration ?? d.KeyGeneration,
            };
        }
    }

    /// <summary>Opens the TPM. For <c>embedded</c>, <paramref name="embeddedOptions"/> are the defaults that <c>seed</c> and <c>state</c> override.</summary>
    /// <exception cref="TpmTransportException">A socket TPM does not answer.</exception>
    /// <exception cref="FileNotFoundException">No such device.</exception>
    public ITpmTransport Open(SoftwareTpmOptions? embeddedOptions = null)
    {
        switch (Kind)
        {
            case "swtpm":
                return new SwtpmSocketTransport(Host, Port, null, Timeouts);
            case "mssim":
                return new MssimTransport(Host, Port, null, true, Timeouts);
            case "device":
                return new LinuxDeviceTransport(Settings["path"]);
            default:
                var options = embeddedOptions ?? new SoftwareTpmOptions { AutoStartup = true };
                if (Settings.TryGetValue("seed", out var seed))
                {
                    options.Seed = ulong.Parse(seed, CultureInfo.InvariantCulture);
                }

                if (Settings.TryGetValue("state", out var state))
                {
                    options.StateDirectory = state;
                }

                return new SoftwareTpm(options);
        }
    }

    /// <inheritdoc />
    public override string ToString() => Kind == "device" ? $"device:{Settings["path"]}" : Settings.Count == 0 ? Kind : $"{Kind}:{string.Join(',', Settings.Select(kv => $"{kv.Key}={kv.Value}"))}";
}
