using System.Globalization;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// One option string selects the TPM, in the style of a tpm2-tss TCTI configuration:
/// <c>embedded</c> (the in-process engine; <c>embedded:seed=42,state=DIR</c>, and
/// <c>state-key=FILE</c> to encrypt the state file, see <see cref="SoftwareTpmOptions.StateEncryptionKey"/>),
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
    private static readonly string[] s_embeddedKeys = ["seed", "state", "state-key"];
    private static readonly string[] s_socketKeys = ["host", "port", "timeout", "keygen-timeout", "connect-timeout", "send-timeout"];

    /// <summary>The embedded engine with default settings.</summary>
    public static TpmTransportSpec Embedded { get; } = new("embedded", new Dictionary<string, string>());

    /// <summary>Parses a specification.</summary>
    /// <exception cref="FormatException">Unknown kind, unknown or malformed setting (a typo such as <c>prot=</c> is not ignored), bad port, seed or timeout.</exception>
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

                    var key = part[..eq].Trim();
                    var known = kind == "embedded" ? s_embeddedKeys : s_socketKeys;
                    if (!known.Contains(key, StringComparer.OrdinalIgnoreCase))
                    {
                        throw new FormatException($"Unknown {kind} setting '{key}' in '{spec}': use {string.Join(", ", known.Select(k => k + "="))}.");
                    }

                    settings[key] = part[(eq + 1)..].Trim();
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
        else if (kind == "embedded")
        {
            if (settings.TryGetValue("seed", out var seed) && !ulong.TryParse(seed, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                throw new FormatException($"Seed '{seed}' in '{spec}' is not 0..{ulong.MaxValue}.");
            }

            foreach (var key in new[] { "state", "state-key" })
            {
                if (settings.TryGetValue(key, out var path) && path.Length == 0)
                {
                    throw new FormatException($"Setting '{key}=' in '{spec}' needs a path.");
                }
            }

            if (settings.ContainsKey("state-key") && !settings.ContainsKey("state"))
            {
                throw new FormatException($"'state-key=' in '{spec}' needs 'state=DIR' (an engine without a state folder keeps no state file).");
            }
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

    /// <summary>Opens the TPM. For <c>embedded</c>, <paramref name="embeddedOptions"/> are the defaults that <c>seed</c>, <c>state</c> and <c>state-key</c> override.</summary>
    /// <exception cref="TpmTransportException">A socket TPM does not answer.</exception>
    /// <exception cref="FileNotFoundException">No such device, or no such state key file.</exception>
    /// <exception cref="FormatException">The state key file holds no key.</exception>
    /// <exception cref="TpmStateException">The embedded engine's state file cannot be used (corrupt, or encrypted under another key).</exception>
    /// <exception cref="StateFolderLockedException">Another engine owns the embedded engine's state folder.</exception>
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

                if (!Settings.TryGetValue("state-key", out var keyFile))
                {
                    return new SoftwareTpm(options);
                }

                // The engine copies the key into its secret store; this holder is zeroed at once.
                using (var key = TpmStateKey.FromFile(keyFile))
                {
                    var given = options.StateEncryptionKey;
                    options.StateEncryptionKey = key;
                    try
                    {
                        return new SoftwareTpm(options);
                    }
                    finally
                    {
                        options.StateEncryptionKey = given;
                    }
                }
        }
    }

    /// <inheritdoc />
    public override string ToString() => Kind == "device" ? $"device:{Settings["path"]}" : Settings.Count == 0 ? Kind : $"{Kind}:{string.Join(',', Settings.Select(kv => $"{kv.Key}={kv.Value}"))}";
}
