namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Limits of a TPM socket server (<see cref="SwtpmSocketServer"/>, <see cref="MssimServer"/>), so
/// that clients that connect and send nothing, or send one octet a second, cannot exhaust its
/// threads or sockets: a connection cap, an idle timeout and a per-command receive deadline.
/// </summary>
public sealed class TpmServerOptions
{
    /// <summary>The defaults: 64 connections, 5 minutes idle, 10 s per command.</summary>
    internal static TpmServerOptions Default { get; } = new();

    /// <summary>
    /// Connections open at once on both ports together (default 64). Each command connection is
    /// served by its own thread (see <see cref="SwtpmSocketServer"/>), so this also bounds the
    /// server's threads. A connection beyond it is closed at once and a warning says why.
    /// tpm2-tools opens one or two at a time; a vTPM guest one.
    /// </summary>
    public int MaxConnections { get; set; } = 64;

    /// <summary>
    /// How long a connection may wait between commands before it is closed (default 5 minutes;
    /// <see cref="Timeout.InfiniteTimeSpan"/> for never). TrustStack's own transports reconnect
    /// transparently before their next command; a client that holds one connection idle for
    /// longer and cannot reconnect (tpm2-abrmd over mssim, for example) needs a longer value.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a command may take to arrive, from its first octet to its last, and its response
    /// to be written (default 10 s; a command is at most 4 KiB and crosses loopback in
    /// microseconds). A slower sender is disconnected, so it holds its thread for this long at most.
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">MaxConnections is not 1..10,000, or a timeout is not positive (or infinite for IdleTimeout) and at most 24 days.</exception>
    public void Validate()
    {
        if (MaxConnections is < 1 or > 10_000)
        {
            throw new ArgumentException("MaxConnections must be 1..10000.", nameof(MaxConnections));
        }

        if (IdleTimeout != Timeout.InfiniteTimeSpan && !IsTimeout(IdleTimeout))
        {
            throw new ArgumentException("IdleTimeout must be 1 ms to 24 days, or Timeout.InfiniteTimeSpan.", nameof(IdleTimeout));
        }

        if (!IsTimeout(CommandTimeout))
        {
            throw new ArgumentException("CommandTimeout must be 1 ms to 24 days.", nameof(CommandTimeout));
        }
    }

    private static bool IsTimeout(TimeSpan value) => value >= TimeSpan.FromMilliseconds(1) && value <= TimeSpan.FromMilliseconds(int.MaxValue);
}
