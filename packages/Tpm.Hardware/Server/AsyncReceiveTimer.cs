using System.Net.Sockets;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// The receive timeouts of a control (swtpm) or platform (mssim) connection, which is served
/// asynchronously (it holds no thread while it waits): the idle timeout until the first octet of
/// a command, then the command deadline for the rest of it and its reply. A timeout or the
/// server's stop cancels the pending read.
/// </summary>
internal sealed class AsyncReceiveTimer : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly CancellationToken _stopping;
    private readonly TimeSpan _idle;
    private readonly TimeSpan _command;
    private bool _inCommand;

    public AsyncReceiveTimer(TimeSpan idle, TimeSpan command, CancellationToken stopping)
    {
        _idle = idle;
        _command = command;
        _stopping = stopping;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
    }

    /// <summary>Cancelled at the current deadline or when the server stops; for the reply's write.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>Reads the first octets of a command: the first within the idle timeout, the rest within the command deadline. False on a clean close before any octet.</summary>
    /// <exception cref="ServerConnectionTimeoutException">Idle too long, or the command too slow.</exception>
    /// <exception cref="EndOfStreamException">The client closed part-way.</exception>
    public async ValueTask<bool> ReadCommandStartAsync(NetworkStream stream, Memory<byte> buffer)
    {
        _inCommand = false;
        _cts.CancelAfter(_idle);
        var n = await ReadAsync(stream, buffer, 0).ConfigureAwait(false);
        if (n == 0)
        {
            return false;
        }

        _inCommand = true;
        _cts.CancelAfter(_command);
        await ReadWithinAsync(stream, buffer[n..], n).ConfigureAwait(false);
        return true;
    }

    /// <summary>Reads exactly <paramref name="buffer"/> within the current command's deadline.</summary>
    /// <exception cref="ServerConnectionTimeoutException">The command is too slow.</exception>
    /// <exception cref="EndOfStreamException">The client closed part-way.</exception>
    public async ValueTask ReadWithinAsync(NetworkStream stream, Memory<byte> buffer, int alreadyReceived = 0)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await ReadAsync(stream, buffer[read..], alreadyReceived + read).ConfigureAwait(false);
            if (n == 0)
            {
                throw new EndOfStreamException($"connection closed after {alreadyReceived + read} octets of a command");
            }

            read += n;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _cts.Dispose();

    private async ValueTask<int> ReadAsync(NetworkStream stream, Memory<byte> buffer, int received)
    {
        try
        {
            return await stream.ReadAsync(buffer, _cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            throw _inCommand
                ? new ServerConnectionTimeoutException(idle: false, $"a command was not complete within {TpmSocketTimeouts.Describe(_command)} (CommandTimeout; {received} octets received)")
                : new ServerConnectionTimeoutException(idle: true, $"idle for {TpmSocketTimeouts.Describe(_idle)} (IdleTimeout)");
        }
    }
}
