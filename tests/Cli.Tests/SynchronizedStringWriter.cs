namespace TrustStack.Cli.Tests;

/// <summary>
/// A <see cref="StringWriter"/> a server command writes on its own thread while the test reads
/// <see cref="Text"/> (for its "listening" lines).
/// </summary>
internal class SynchronizedStringWriter : StringWriter
{
    private readonly Lock _lock = new();

    /// <summary>Everything written so far.</summary>
    public string Text
    {
        get
        {
            lock (_lock)
            {
                return ToString();
            }
        }
    }

    public override void Write(char value)
    {
        lock (_lock)
        {
            base.Write(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_lock)
        {
            base.Write(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_lock)
        {
            base.Write(buffer, index, count);
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_lock)
        {
            base.WriteLine(value);
        }
    }
}
