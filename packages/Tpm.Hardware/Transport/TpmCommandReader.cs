using System.Buffers.Binary;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Reads TPM commands framed by their own header size from a stream into one reused buffer.
/// A client's command usually arrives in one segment, so one receive per command replaces the
/// header-then-body pair of reads; octets of a pipelined next command are kept for the next call.
/// With a <see cref="ServerReceiveTimer"/> the blocking <see cref="Read"/> waits at most the idle
/// timeout for a command to begin and the command deadline for it to end.
/// </summary>
internal sealed class TpmCommandReader(Stream stream, ServerReceiveTimer? timer = null)
{
    private const int HeaderSize = 10;
    private readonly byte[] _buffer = new byte[TpmStreams.MaxBufferSize];
    private int _start;
    private int _end;

    /// <summary>
    /// The next command, valid until the next call; <see langword="null"/> on a clean end of stream
    /// between commands. A header whose size is out of range is returned alone (10 octets) so the
    /// caller can answer it as a TPM does before dropping the connection.
    /// </summary>
    /// <exception cref="EndOfStreamException">The stream ended part-way through a command.</exception>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadAsync(CancellationToken cancellationToken)
    {
        if (!await FillAsync(HeaderSize, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var length = FrameLength();
        if (!await FillAsync(length, cancellationToken).ConfigureAwait(false))
        {
            throw new EndOfStreamException("connection closed part-way through a command");
        }

        return Take(length);
    }

    /// <summary>The blocking form of <see cref="ReadAsync"/>, for a connection served by its own thread.</summary>
    /// <exception cref="EndOfStreamException">The stream ended part-way through a command.</exception>
    /// <exception cref="ServerConnectionTimeoutException">With a timer: idle too long, or the command arrived too slowly.</exception>
    public ReadOnlyMemory<byte>? Read()
    {
        if (timer is not null)
        {
            timer.AwaitCommand();
            if (_end > _start)
            {
                // Octets of a pipelined command are already buffered: that command has begun.
                timer.CommandStarted();
            }
        }

        if (!Fill(HeaderSize))
        {
            return null;
        }

        var length = FrameLength();
        if (!Fill(length))
        {
            throw new EndOfStreamException("connection closed part-way through a command");
        }

        return Take(length);
    }

    /// <summary>Ensures <paramref name="count"/> unread octets are buffered; false on end of stream.</summary>
    private async ValueTask<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        Compact();
        while (_end < count)
        {
            var n = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                if (_end == 0)
                {
                    return false;
                }

                throw new EndOfStreamException($"connection closed after {_end} of {count} octets");
            }

            _end += n;
        }

        return true;
    }

    private bool Fill(int count)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        Compact();
        while (_end < count)
        {
            int n;
            if (timer is null)
            {
                n = stream.Read(_buffer.AsSpan(_end));
            }
            else
            {
                if (timer.InCommand)
                {
                    timer.BeforeReceive(_end);
                }

                try
                {
                    n = stream.Read(_buffer.AsSpan(_end));
                }
                catch (IOException e) when (timer.Translate(e, _end) is { } timeout)
                {
                    throw timeout;
                }

                if (n > 0)
                {
                    timer.CommandStarted();
                }
            }

            if (n == 0)
            {
                return _end == 0 ? false : throw new EndOfStreamException($"connection closed after {_end} of {count} octets");
            }

            _end += n;
        }

        return true;
    }

    /// <summary>The buffered command's length from its header; a size out of range frames the header alone.</summary>
    private int FrameLength()
    {
        var size = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start + 2));
        return size is < HeaderSize or > TpmStreams.MaxBufferSize ? HeaderSize : (int)size;
    }

    private ReadOnlyMemory<byte> Take(int length)
    {
        var command = _buffer.AsMemory(_start, length);
        _start += length;
        return command;
    }

    /// <summary>Moves the unread tail to the front so a whole command fits.</summary>
    private void Compact()
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
    }
}
