using System.Buffers.Binary;
using FsCheck;
using FsCheck.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Transport;

public class TpmCommandReaderTests
{
    [Fact]
    public async Task ReadAsync_PipelinedCommands_ReturnsEachInOrder()
    {
        var first = Command(0x17B, [0x00, 0x08]);
        var second = Command(0x145, [0x00, 0x00]);
        var reader = new TpmCommandReader(new MemoryStream([.. first, .. second]));

        Assert.Equal(first, (await reader.ReadAsync(default))!.Value.ToArray());
        Assert.Equal(second, (await reader.ReadAsync(default))!.Value.ToArray());
        Assert.Null(await reader.ReadAsync(default));
    }

    [Fact]
    public async Task ReadAsync_CommandArrivingOneOctetAtATime_IsReassembled()
    {
        var command = Command(0x182, new byte[40]);
        var reader = new TpmCommandReader(new TrickleStream(command));

        Assert.Equal(command, (await reader.ReadAsync(default))!.Value.ToArray());
        Assert.Null(await reader.ReadAsync(default));
    }

    [Fact]
    public async Task ReadAsync_ManySmallCommandsBeyondTheBuffer_AllReturned()
    {
        // 600 commands of 12 octets cross the 4096-octet buffer boundary several times.
        var commands = Enumerable.Range(0, 600).Select(i => Command(0x100 + (uint)i, [(byte)(i & 0xFF), 0])).ToList();
        var reader = new TpmCommandReader(new MemoryStream(commands.SelectMany(c => c).ToArray()));

        foreach (var expected in commands)
        {
            Assert.Equal(expected, (await reader.ReadAsync(default))!.Value.ToArray());
        }

        Assert.Null(await reader.ReadAsync(default));
    }

    [Fact]
    public async Task ReadAsync_SizeOutOfRange_ReturnsTheHeaderAlone()
    {
        var header = new byte[10];
        BinaryPrimitives.WriteUInt16BigEndian(header, 0x8001);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(2), 100_000);
        var reader = new TpmCommandReader(new MemoryStream([.. header, 1, 2, 3]));

        Assert.Equal(header, (await reader.ReadAsync(default))!.Value.ToArray());
    }

    [Fact]
    public async Task ReadAsync_StreamEndsInsideACommand_ThrowsEndOfStream()
    {
        var command = Command(0x17B, [0x00, 0x08]);
        var reader = new TpmCommandReader(new MemoryStream(command[..11]));

        await Assert.ThrowsAsync<EndOfStreamException>(async () => await reader.ReadAsync(default));
    }

    [Fact]
    public void Read_PipelinedAndTrickledCommands_MatchTheAsyncReader()
    {
        var commands = Enumerable.Range(0, 600).Select(i => Command(0x100 + (uint)i, [(byte)(i & 0xFF), 0])).ToList();
        var bytes = commands.SelectMany(c => c).ToArray();
        foreach (var stream in new Stream[] { new MemoryStream(bytes), new TrickleStream(bytes) })
        {
            var reader = new TpmCommandReader(stream);
            foreach (var expected in commands)
            {
                Assert.Equal(expected, reader.Read()!.Value.ToArray());
            }

            Assert.Null(reader.Read());
        }
    }

    [Fact]
    public void Read_StreamEndsInsideACommand_ThrowsEndOfStream()
    {
        var reader = new TpmCommandReader(new MemoryStream(Command(0x17B, [0x00, 0x08])[..11]));

        Assert.Throws<EndOfStreamException>(() => reader.Read());
    }

    /// <summary>
    /// Total parser: any octets, arriving in any chunks, give frames whose length is their header's
    /// size (or the 10-octet header alone when the size is out of range), then null at a clean end,
    /// or EndOfStreamException when the stream ends inside a frame; nothing else.
    /// </summary>
    [Property(MaxTest = 400)]
    public void Read_AnyOctetsInAnyChunks_FramesByHeaderSizeOrThrowsEndOfStream(byte[] input, PositiveInt chunk, bool validPrefix)
    {
        byte[] bytes = validPrefix ? [.. Command(0x17B, [0, 8]), .. input ?? []] : input ?? [];
        var reader = new TpmCommandReader(new ChunkedStream(bytes, chunk.Get % 64 + 1));
        var consumed = 0;
        try
        {
            while (reader.Read() is { } frame)
            {
                var size = BinaryPrimitives.ReadUInt32BigEndian(frame.Span[2..]);
                Assert.Equal(size is < 10 or > 4096 ? 10 : (int)size, frame.Length);
                Assert.Equal(bytes.AsSpan(consumed, frame.Length).ToArray(), frame.ToArray());
                consumed += frame.Length;
            }

            Assert.Equal(bytes.Length, consumed);
        }
        catch (EndOfStreamException)
        {
            Assert.True(bytes.Length > consumed, "end of stream only inside a frame");
        }
    }

    private static byte[] Command(uint code, byte[] parameters)
    {
        var command = new byte[10 + parameters.Length];
        BinaryPrimitives.WriteUInt16BigEndian(command, 0x8001);
        BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(2), (uint)command.Length);
        BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(6), code);
        parameters.CopyTo(command, 10);
        return command;
    }

    /// <summary>A stream that hands out at most <paramref name="chunk"/> octets per read.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(chunk, buffer.Length)]);
    }

    /// <summary>A stream that hands out one octet per read, as a slow network might.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(1, buffer.Length)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
    }
}
