using System.Buffers.Binary;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Big-endian writer for the TPM 2.0 wire format (TPM 2.0 Part 1 §18). Sized structures
/// (TPM2B_*, command and response sizes) are back-patched with <see cref="BeginSize16"/> /
/// <see cref="EndSize16"/>; a size that does not fit its field throws, never wraps.
/// </summary>
public sealed class TpmWriter
{
    private byte[] _buffer;
    private int _length;

    /// <summary>Creates a writer with room for <paramref name="capacity"/> bytes.</summary>
    public TpmWriter(int capacity = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _buffer = new byte[Math.Max(capacity, 16)];
    }

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    /// <summary>The bytes written so far (valid until the next write).</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>A copy of the bytes written.</summary>
    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    /// <summary>Forgets everything written; the buffer is zeroed because it may have held secrets.</summary>
    public void Clear()
    {
        Array.Clear(_buffer, 0, _length);
        _length = 0;
    }

    /// <summary>The four big-endian octets of a UINT32 (a handle as a Name, a command code, a framing word).</summary>
    internal static byte[] U32Bytes(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>Writes one octet.</summary>
    public void WriteU8(byte value) => Reserve(1)[0] = value;

    /// <summary>Writes a UINT16.</summary>
    public void WriteU16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Reserve(2), value);

    /// <summary>Writes a UINT32.</summary>
    public void WriteU32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), value);

    /// <summary>Writes a UINT64.</summary>
    public void WriteU64(ulong value) => BinaryPrimitives.WriteUInt64BigEndian(Reserve(8), value);

    /// <summary>Writes a TPM_ALG_ID.</summary>
    public void WriteAlg(TpmAlgId alg) => WriteU16((ushort)alg);

    /// <summary>Writes raw octets with no size prefix.</summary>
    public void WriteBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    /// <summary>Writes a TPM2B: a UINT16 size then the octets.</summary>
    /// <exception cref="ArgumentException">More than 65535 octets.</exception>
    public void WriteTpm2b(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"A TPM2B holds at most 65535 octets, not {bytes.Length}.", nameof(bytes));
        }

        WriteU16((ushort)bytes.Length);
        WriteBytes(bytes);
    }

    /// <summary>Reserves a UINT16 size field; pass the result to <see cref="EndSize16"/>.</summary>
    public int BeginSize16()
    {
        var at = _length;
        Reserve(2);
        return at;
    }

    /// <summary>Back-patches the size reserved by <see cref="BeginSize16"/> with the octets written since.</summary>
    /// <exception cref="InvalidOperationException">The structure exceeds 65535 octets.</exception>
    public void EndSize16(int mark)
    {
        var size = _length - mark - 2;
        if (size > ushort.MaxValue)
        {
            throw new InvalidOperationException($"Sized structure of {size} octets exceeds a UINT16 size field.");
        }

        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(mark, 2), (ushort)size);
    }

    /// <summary>Reserves a UINT32 size field; pass the result to <see cref="EndSize32"/>.</summary>
    public int BeginSize32()
    {
        var at = _length;
        Reserve(4);
        return at;
    }

    /// <summary>Back-patches a UINT32 size reserved by <see cref="BeginSize32"/>. With <paramref name="includeField"/> the size counts its own field and everything before the mark (command/response headers).</summary>
    public void EndSize32(int mark, bool includeField = false)
    {
        var size = includeField ? _length : _length - mark - 4;
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(mark, 4), checked((uint)size));
    }

    /// <summary>Overwrites a UINT32 at an absolute position already written.</summary>
    public void PatchU32(int position, uint value)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position + 4, _length);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(position, 4), value);
    }

    private Span<byte> Reserve(int count)
    {
        var needed = checked(_length + count);
        if (needed > _buffer.Length)
        {
            var bigger = new byte[Math.Max(needed, _buffer.Length * 2)];
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            Array.Clear(_buffer);
            _buffer = bigger;
        }

        var span = _buffer.AsSpan(_length, count);
        _length = needed;
        return span;
    }
}
