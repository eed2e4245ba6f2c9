using System.Buffers.Binary;

namespace TrustStack.Tpm.Hardware;

/// <summary>A bounds-checked little-endian reader for measurement logs; every failure is an <see cref="EventLogFormatException"/> with the offset.</summary>
internal ref struct LittleEndianReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly long _baseOffset;

    public LittleEndianReader(ReadOnlySpan<byte> data, long baseOffset = 0)
    {
        _data = data;
        _baseOffset = baseOffset;
        Position = 0;
    }

    public int Position { get; private set; }

    public readonly int Remaining => _data.Length - Position;

    public readonly long Offset => _baseOffset + Position;

    public byte ReadU8(string what) => Take(1, what)[0];

    public ushort ReadU16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));

    public uint ReadU32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));

    /// <summary>Reads a u32 length and checks that many octets remain (and that it is at most <paramref name="max"/>).</summary>
    public int ReadLength(string what, int max = int.MaxValue)
    {
        var at = Offset;
        var length = ReadU32(what);
        if (length > (uint)Remaining || length > (uint)max)
        {
            throw new EventLogFormatException($"{what} is {length} octets, but {(length > (uint)max ? $"the limit is {max}" : $"only {Remaining} remain")}", at);
        }

        return (int)length;
    }

    public ReadOnlySpan<byte> ReadBytes(int count, string what) => Take(count, what);

    public readonly EventLogFormatException Fail(string message) => new(message, Offset);

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count < 0 || count > Remaining)
        {
            throw new EventLogFormatException($"{what} needs {count} octets, only {Remaining} remain", Offset);
        }

        var span = _data.Slice(Position, count);
        Position += count;
        return span;
    }
}
