using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// A deterministic random source that streams KDFa(hash, seed, label, contextU, contextV, limit)
/// block by block with a running counter, like the reference implementation's KDF-based
/// generator (ms-tpm-20-ref DRBG_InstantiateSeededKdf / DRBG_Generate): the first N octets equal
/// the first N octets of one KDFa call of <c>limit</c> bits. Used to derive primary objects from a
/// hierarchy seed. Not thread-safe (one derivation owns it).
/// </summary>
internal sealed class KdfRandomSource : IRandomSource, IDisposable
{
    /// <summary>The default limit: int.MaxValue bits (about 268 MB of output).</summary>
    public const int DefaultLimitBits = int.MaxValue;

    private readonly IncrementalHash _hmac;
    private readonly byte[] _label;
    private readonly byte[] _contextU;
    private readonly byte[] _contextV;
    private readonly int _limitBits;
    private readonly byte[] _block;
    private readonly int _digestSize;
    private long _produced;
    private uint _counter;
    private int _residual;

    /// <summary>Starts the stream.</summary>
    public KdfRandomSource(TpmAlgId hash, ReadOnlySpan<byte> seed, string label, ReadOnlySpan<byte> contextU, ReadOnlySpan<byte> contextV, int limitBits = DefaultLimitBits)
        : this(hash, seed, TpmKdf.LabelBytes(label), contextU, contextV, limitBits)
    {
    }

    /// <summary>Starts the stream with a label given as octets (a NUL is appended unless it ends in one).</summary>
    public KdfRandomSource(TpmAlgId hash, ReadOnlySpan<byte> seed, ReadOnlySpan<byte> label, ReadOnlySpan<byte> contextU, ReadOnlySpan<byte> contextV, int limitBits = DefaultLimitBits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limitBits);
        _digestSize = TpmHash.DigestSize(hash);
        _hmac = IncrementalHash.CreateHMAC(TpmHash.Name(hash), seed);
        _label = label.IsEmpty || label[^1] != 0 ? [.. label, 0] : label.ToArray();
        _contextU = contextU.ToArray();
        _contextV = contextV.ToArray();
        _limitBits = limitBits;
        _block = new byte[_digestSize];
    }

    /// <inheritdoc />
    /// <exception cref="TpmException">TPM_RC_NO_RESULT: the request would exceed the limit (ceil(limit / 8) octets).</exception>
    public void Fill(Span<byte> destination)
    {
        if ((_produced + destination.Length) * 8 > (long)_limitBits + 7)
        {
            throw new TpmException(TpmRc.NoResult, "the KDF random stream is exhausted");
        }

        _produced += destination.Length;
        while (!destination.IsEmpty)
        {
            if (_residual == 0)
            {
                NextBlock();
            }

            var take = Math.Min(_residual, destination.Length);
            _block.AsSpan(_digestSize - _residual, take).CopyTo(destination);
            _residual -= take;
            destination = destination[take..];
        }
    }

    /// <summary>Zeroes the buffered output and releases the HMAC.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_block);
        _hmac.Dispose();
    }

    private void NextBlock()
    {
        Span<byte> word = stackalloc byte[4];
        _counter++;
        BinaryPrimitives.WriteUInt32BigEndian(word, _counter);
        _hmac.AppendData(word);
        _hmac.AppendData(_label);
        _hmac.AppendData(_contextU);
        _hmac.AppendData(_contextV);
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)_limitBits);
        _hmac.AppendData(word);
        _hmac.GetHashAndReset(_block);
        _residual = _digestSize;
    }
}
