using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TrustStack.Tpm.Hardware.Tests.Transport;

/// <summary>A logger that keeps every formatted line, for tests that assert a line was logged.</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<(LogLevel Level, string Text)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Text)> Lines => [.. _lines];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue((logLevel, formatter(state, exception)));

    /// <summary>Waits until a line containing <paramref name="text"/> is logged; returns it.</summary>
    public async Task<(LogLevel Level, string Text)> WaitForAsync(string text, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var line in _lines)
            {
                if (line.Text.Contains(text, StringComparison.Ordinal))
                {
                    return line;
                }
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"no log line with '{text}'; lines: {string.Join(" | ", _lines.Select(l => l.Text))}");
    }
}
