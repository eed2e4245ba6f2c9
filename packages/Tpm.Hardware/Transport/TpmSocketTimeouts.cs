using System.Globalization;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// How long a socket transport (<see cref="SwtpmSocketTransport"/>, <see cref="MssimTransport"/>)
/// waits before it gives up with a <see cref="TpmTransportException"/>. In a transport spec:
/// <c>swtpm:host=H,port=P,timeout=30s,connect-timeout=2s,send-timeout=10s,keygen-timeout=10m</c>.
/// </summary>
/// <remarks>
/// The defaults follow the Linux kernel's TPM driver (drivers/char/tpm): it waits up to
/// 120 s (TPM2_DURATION_DEFAULT) for a command and up to 300 s (TPM2_DURATION_LONG_LONG) for
/// TPM2_CreatePrimary, TPM2_Create and TPM2_CreateLoaded, because RSA key generation on a
/// discrete TPM takes seconds and, on some parts, one or two minutes (libtpms takes 10–60 ms).
/// A TPM behind a socket may be such a TPM, so a shorter default would fail real work; a peer that
/// is merely gone is seen at once (connection refused or reset), not after the timeout.
/// </remarks>
public sealed class TpmSocketTimeouts
{
    private static readonly TimeSpan s_max = TimeSpan.FromMilliseconds(int.MaxValue);
    private readonly TimeSpan _connect = TimeSpan.FromSeconds(10);
    private readonly TimeSpan _send = TimeSpan.FromSeconds(30);
    private readonly TimeSpan _response = TimeSpan.FromSeconds(120);
    private readonly TimeSpan _keyGeneration = TimeSpan.FromSeconds(300);

    /// <summary>The defaults: connect 10 s, send 30 s, response 120 s, key generation 300 s.</summary>
    public static TpmSocketTimeouts Default { get; } = new();

    /// <summary>
    /// Making the TCP connection (default 10 s: loopback and LAN connect in well under a
    /// millisecond; 10 s covers three SYN retransmissions on a lossy path).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive, or over 24 days.</exception>
    public TimeSpan Connect { get => _connect; init => _connect = Check(value); }

    /// <summary>
    /// Writing one command (default 30 s): a send only blocks when the peer has stopped reading
    /// and both socket buffers are full; a 4 KiB TPM command normally goes out at once.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive, or over 24 days.</exception>
    public TimeSpan Send { get => _send; init => _send = Check(value); }

    /// <summary>From the command written to its response read whole (default 120 s, the kernel's TPM2_DURATION_DEFAULT).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive, or over 24 days.</exception>
    public TimeSpan Response { get => _response; init => _response = Check(value); }

    /// <summary>
    /// The response timeout of the key-generating commands TPM2_CreatePrimary, TPM2_Create and
    /// TPM2_CreateLoaded (default 300 s, the kernel's TPM2_DURATION_LONG_LONG). In a transport
    /// spec, <c>timeout=</c> alone sets both this and <see cref="Response"/>; <c>keygen-timeout=</c>
    /// sets this one.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive, or over 24 days.</exception>
    public TimeSpan KeyGeneration { get => _keyGeneration; init => _keyGeneration = Check(value); }

    /// <summary>The response timeout for a command with code <paramref name="commandCode"/>.</summary>
    internal TimeSpan ResponseFor(uint commandCode) =>
        (TpmCc)commandCode is TpmCc.CreatePrimary or TpmCc.Create or TpmCc.CreateLoaded ? KeyGeneration : Response;

    /// <inheritdoc />
    public override string ToString() =>
        $"connect {Describe(Connect)}, send {Describe(Send)}, response {Describe(Response)}, key generation {Describe(KeyGeneration)}";

    /// <summary>A duration as people write it: <c>250 ms</c>, <c>30 s</c>, <c>1.5 s</c>.</summary>
    internal static string Describe(TimeSpan value) =>
        value < TimeSpan.FromSeconds(1)
            ? $"{value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)} ms"
            : $"{value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";

    /// <summary>
    /// Parses a duration setting: a number of seconds (<c>30</c>, <c>1.5</c>) or a number with a
    /// unit <c>ms</c>, <c>s</c> or <c>m</c> (<c>500ms</c>, <c>30s</c>, <c>5m</c>).
    /// </summary>
    /// <exception cref="FormatException">Not such a duration, not positive, or over 24 days.</exception>
    internal static TimeSpan ParseDuration(string name, string text)
    {
        var t = text.Trim();
        var (number, scale) = t.EndsWith("ms", StringComparison.OrdinalIgnoreCase) ? (t[..^2], 0.001)
            : t.EndsWith('s') || t.EndsWith('S') ? (t[..^1], 1.0)
            : t.EndsWith('m') || t.EndsWith('M') ? (t[..^1], 60.0)
            : (t, 1.0);
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            || !double.IsFinite(value) || value * scale * 1000 < 1 || value * scale * 1000 > int.MaxValue)
        {
            throw new FormatException($"{name}={text} is not a duration of 1 ms to 24 days (write 30, 30s, 500ms or 5m).");
        }

        return TimeSpan.FromMilliseconds(Math.Round(value * scale * 1000));
    }

    private static TimeSpan Check(TimeSpan value, [System.Runtime.CompilerServices.CallerMemberName] string name = "")
    {
        if (value < TimeSpan.FromMilliseconds(1) || value > s_max)
        {
            throw new ArgumentOutOfRangeException(name, value, "A timeout must be 1 ms to 24 days.");
        }

        return value;
    }
}
