namespace TrustStack.Tpm.Hardware;

/// <summary>
/// A measurement log (TCG PC Client event log, IMA measurement list) is malformed. Says where:
/// <see cref="Offset"/> is the octet offset (binary logs) or the 0-based line (IMA ASCII lists)
/// at which the problem was found.
/// </summary>
public sealed class EventLogFormatException : FormatException
{
    /// <summary>Creates an exception with no detail.</summary>
    public EventLogFormatException()
        : this("The measurement log is malformed.")
    {
    }

    /// <summary>Creates an exception with <paramref name="message"/>.</summary>
    public EventLogFormatException(string message)
        : this(message, -1)
    {
    }

    /// <summary>Creates an exception with <paramref name="message"/> and an inner cause.</summary>
    public EventLogFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Offset = -1;
    }

    /// <summary>Creates an exception for a problem at <paramref name="offset"/>.</summary>
    public EventLogFormatException(string message, long offset)
        : base(offset >= 0 ? $"{message} (at offset {offset})" : message)
    {
        Offset = offset;
    }

    /// <summary>Where the problem was found (octet offset, or line for ASCII lists); −1 when unknown.</summary>
    public long Offset { get; }
}
