namespace TrustStack.Tpm.Hardware;

/// <summary>
/// The one exception a TPM error raises: the TPM (ours or a real one) answered with a
/// response code other than TPM_RC_SUCCESS, or a wire structure could not be unmarshalled.
/// </summary>
public sealed class TpmException : Exception
{
    /// <summary>Creates an exception for <paramref name="responseCode"/>.</summary>
    public TpmException(TpmRc responseCode)
        : this(responseCode, TpmResponseCode.Describe(responseCode))
    {
    }

    /// <summary>Creates an exception for <paramref name="responseCode"/> with a message that says where it arose.</summary>
    public TpmException(TpmRc responseCode, string message)
        : base(message)
    {
        ResponseCode = responseCode;
    }

    /// <summary>Creates an exception for <paramref name="responseCode"/> with an inner cause.</summary>
    public TpmException(TpmRc responseCode, string message, Exception innerException)
        : base(message, innerException)
    {
        ResponseCode = responseCode;
    }

    /// <summary>The full response code, including any handle/parameter/session number.</summary>
    public TpmRc ResponseCode { get; }

    /// <summary>The response code without its handle/parameter/session number (for format-one codes).</summary>
    public TpmRc BaseCode => TpmResponseCode.Base(ResponseCode);
}

/// <summary>Helpers to build and read TPM_RC values (TPM 2.0 Part 2 §6.6.2).</summary>
public static class TpmResponseCode
{
    // Response-code names as the specification spells them (TPM_RC_COMMAND_SIZE); the enum also has
    // layout markers (VER1, FMT1, WARN, H, P, S, 1..F) that share values with real codes and are skipped.
    private static readonly Dictionary<uint, string> s_names = BuildNames();

    /// <summary>Adds "parameter <paramref name="n"/>" (1-based) to a format-one code.</summary>
    public static TpmRc Parameter(TpmRc code, int n) => (TpmRc)((uint)code | (uint)TpmRc.P | ((uint)n << 8));

    /// <summary>Adds "handle <paramref name="n"/>" (1-based) to a format-one code.</summary>
    public static TpmRc Handle(TpmRc code, int n) => (TpmRc)((uint)code | ((uint)n << 8));

    /// <summary>Adds "session <paramref name="n"/>" (1-based) to a format-one code.</summary>
    public static TpmRc Session(TpmRc code, int n) => (TpmRc)((uint)code | (uint)TpmRc.S | ((uint)n << 8));

    /// <summary>True for format-one codes (bit 7 set), which carry a handle/parameter/session number.</summary>
    public static bool IsFormatOne(TpmRc code) => ((uint)code & 0x80) != 0;

    /// <summary>The code without its number: format-one codes keep bits 0..5 and bit 7.</summary>
    public static TpmRc Base(TpmRc code) => IsFormatOne(code) ? (TpmRc)((uint)code & 0xBF) : code;

    /// <summary>A readable description, for example <c>TPM_RC_VALUE (parameter 2)</c>.</summary>
    public static string Describe(TpmRc code)
    {
        var raw = (uint)code;
        var baseCode = Base(code);
        var name = s_names.TryGetValue((uint)baseCode, out var known) ? $"TPM_RC_{known}" : $"0x{(uint)baseCode:x3}";
        if (!IsFormatOne(code))
        {
            return $"{name} (0x{raw:x3})";
        }

        var n = (raw >> 8) & 0xF;
        var where = (raw & 0x40) != 0 ? $"parameter {n}"
            : (raw & 0x800) != 0 ? $"session {n & 0x7}"
            : n == 0 ? "no handle/parameter" : $"handle {n}";
        return $"{name} ({where}, 0x{raw:x3})";
    }

    private static Dictionary<uint, string> BuildNames()
    {
        var markers = new HashSet<string>(StringComparer.Ordinal) { "Ver1", "Fmt1", "Warn", "H", "P", "S", "MaxFm0", "MaxFmt1", "NotUsed", "Success" };
        var names = new Dictionary<uint, string> { [0] = "SUCCESS" };
        foreach (var name in Enum.GetNames<TpmRc>())
        {
            if (markers.Contains(name) || name.Length == 1 || (name.Length == 2 && name[0] == 'V'))
            {
                continue;
            }

            var snake = System.Text.RegularExpressions.Regex.Replace(name, "(?<=[a-z0-9])(?=[A-Z])", "_").ToUpperInvariant();
            names.TryAdd((uint)Enum.Parse<TpmRc>(name), snake);
        }

        return names;
    }
}
