using System.Buffers.Binary;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Big-endian reader for the TPM 2.0 wire format. Every read checks the remaining length and
/// fails with a <see cref="TpmException"/> carrying the code a TPM returns
/// (TPM_RC_INSUFFICIENT, TPM_RC_SIZE, ...). When <see cref="Parameter"/> is set, the code
/// names that parameter, as a TPM does for command parameters.
/// </summary>
public ref struct TpmReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    /// <summary>Creates a reader over <paramref name="data"/>.</summary>
    public TpmReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
        Parameter = 0;
    }

    /// <summary>The 1-based command parameter being read, added to error codes; 0 for none.</summary>
    public int Parameter { get; set; }

    /// <summary>
    /// The whole parameter area of a command: octets left after the last parameter are
    /// TPM_RC_SIZE without a parameter number, as the reference CommandDispatcher answers.
    /// </summary>
    internal bool IsCommandParameterArea { get; init; }

    /// <summary>Octets consumed.</summary>
    public readonly int Position => _position;

    /// <summary>Octets left.</summary>
    public readonly int Remaining => _data.Length - _position;

    /// <summary>The unread octets.</summary>
    public readonly ReadOnlySpan<byte> RemainingSpan => _data[_position..];

    /// <summary>The octets consumed so far.</summary>
    public readonly ReadOnlySpan<byte> ConsumedSpan => _data[.._position];

    /// <summary>Reads one octet.</summary>
    public byte ReadU8() => Take(1)[0];

    /// <summary>Reads a UINT16.</summary>
    public ushort ReadU16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    /// <summary>Reads a UINT32.</summary>
    public uint ReadU32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    /// <summary>Reads a UINT64.</summary>
    public ulong ReadU64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

    /// <summary>Reads a TPM_ALG_ID.</summary>
    public TpmAlgId ReadAlg() => (TpmAlgId)ReadU16();

    /// <summary>Reads <paramref name="count"/> raw octets.</summary>
    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0)
        {
            throw Fail(TpmRc.Size, "negative length");
        }

        return Take(count);
    }

    /// <summary>Reads a TPM2B and returns its octets; fails with TPM_RC_SIZE above <paramref name="maxSize"/>.</summary>
    public byte[] ReadTpm2b(int maxSize = ushort.MaxValue)
    {
        var size = ReadU16();
        if (size > maxSize)
        {
            throw Fail(TpmRc.Size, $"TPM2B of {size} octets exceeds its limit of {maxSize}");
        }

        return Take(size).ToArray();
    }

    /// <summary>Reads a TPM2B and returns a reader over just its octets (for sized structures).</summary>
    public TpmReader ReadSized16()
    {
        var size = ReadU16();
        var inner = new TpmReader(Take(size)) { Parameter = Parameter };
        return inner;
    }

    /// <summary>Fails with TPM_RC_SIZE if octets are left (a sized structure must be consumed exactly).</summary>
    public readonly void EnsureConsumed()
    {
        if (Remaining != 0)
        {
            if (IsCommandParameterArea)
            {
                throw new TpmException(TpmRc.Size, $"{Remaining} octets after the last parameter");
            }

            throw Fail(TpmRc.Size, $"{Remaining} unexpected trailing octets");
        }
    }

    /// <summary>Builds the exception for <paramref name="code"/> qualified with the current parameter number.</summary>
    public readonly TpmException Fail(TpmRc code, string detail)
    {
        var qualified = Parameter > 0 && TpmResponseCode.IsFormatOne(code) ? TpmResponseCode.Parameter(code, Parameter) : code;
        return new TpmException(qualified, $"{TpmResponseCode.Describe(qualified)}: {detail}");
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > Remaining)
        {
            throw Fail(TpmRc.Insufficient, $"needed {count} octets at offset {_position}, {Remaining} left");
        }

        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }
}
