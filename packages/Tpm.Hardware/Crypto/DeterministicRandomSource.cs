using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// HMAC_DRBG with SHA-256 (NIST SP 800-90A Rev. 1 §10.1.2), without prediction resistance or
/// reseeding, instantiated from caller-supplied octets. The same seed always yields the same
/// stream, which makes keys, nonces and transcripts byte-reproducible in deterministic mode.
/// Thread-safe.
/// </summary>
/// <remarks>
/// The output is only as secret as the seed: <see cref="FromSeed(ulong)"/> is for tests and
/// reproducible simulations, never for protecting real secrets.
/// </remarks>
public sealed class DeterministicRandomSource : IRandomSource, IDisposable
{
    private const int OutLen = 32;

    // SP 800-90A Table 2: at most 2^19 bits per generate request.
    private const int MaxRequestOctets = 1 << 16;

    private static readonly byte[] FromSeedPersonalization = Encoding.ASCII.GetBytes("TrustStack DeterministicRandomSource");

    private readonly Lock _lock = new();
    private readonly byte[] _key = new byte[OutLen];
    private readonly byte[] _value = new byte[OutLen];
    private bool _disposed;

    /// <summary>Instantiates the DRBG: seed material = entropy ‖ nonce ‖ personalization.</summary>
    /// <param name="entropyInput">The entropy input (the seed).</param>
    /// <param name="nonce">The nonce (may be empty).</param>
    /// <param name="personalization">The personalization string (may be empty).</param>
    public DeterministicRandomSource(ReadOnlySpan<byte> entropyInput, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> personalization)
    {
        _value.AsSpan().Fill(0x01);
        Update(entropyInput, nonce, personalization);
    }

    /// <summary>Instantiates the DRBG from <paramref name="seed"/> alone.</summary>
    /// <param name="seed">The entropy input.</param>
    public DeterministicRandomSource(ReadOnlySpan<byte> seed)
        : this(seed, default, default)
    {
    }

    /// <summary>A generator seeded from a 64-bit number (big-endian), for tests and reproducible runs.</summary>
    /// <param name="seed">The seed.</param>
    /// <returns>A new generator.</returns>
    public static DeterministicRandomSource FromSeed(ulong seed)
    {
        Span<byte> entropy = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(entropy, seed);
        return new DeterministicRandomSource(entropy, default, FromSeedPersonalization);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The generator was disposed.</exception>
    public void Fill(Span<byte> destination) => Generate(destination, default);

    /// <summary>Generates octets with additional input (SP 800-90A §10.1.2.5).</summary>
    /// <param name="destination">Receives the octets; requests above 65536 octets are split into several generate calls.</param>
    /// <param name="additionalInput">Additional input (may be empty).</param>
    /// <exception cref="ObjectDisposedException">The generator was disposed.</exception>
    public void Generate(Span<byte> destination, ReadOnlySpan<byte> additionalInput)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            do
            {
                var chunk = destination[..Math.Min(destination.Length, MaxRequestOctets)];
                GenerateOne(chunk, additionalInput);
                destination = destination[chunk.Length..];
            }
            while (!destination.IsEmpty);
        }
    }

    /// <summary>Zeroes the internal state; later use throws.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            CryptographicOperations.ZeroMemory(_key);
            CryptographicOperations.ZeroMemory(_value);
        }
    }

    /// <inheritdoc />
    public override string ToString() => "DeterministicRandomSource { HMAC_DRBG SHA-256, state hidden }";

    private void GenerateOne(Span<byte> output, ReadOnlySpan<byte> additionalInput)
    {
        if (!additionalInput.IsEmpty)
        {
            Update(additionalInput, default, default);
        }

        for (var offset = 0; offset < output.Length; offset += OutLen)
        {
            HMACSHA256.HashData(_key, _value, _value);
            var take = Math.Min(OutLen, output.Length - offset);
            _value.AsSpan(0, take).CopyTo(output[offset..]);
        }

        Update(additionalInput, default, default);
    }

    // HMAC_DRBG_Update (SP 800-90A §10.1.2.2) with provided_data = a ‖ b ‖ c.
    private void Update(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c)
    {
        var provided = a.Length + b.Length + c.Length;
        UpdateRound(0x00, a, b, c);
        if (provided != 0)
        {
            UpdateRound(0x01, a, b, c);
        }
    }

    private void UpdateRound(byte separator, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c)
    {
        using (var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key))
        {
            hmac.AppendData(_value);
            hmac.AppendData([separator]);
            hmac.AppendData(a);
            hmac.AppendData(b);
            hmac.AppendData(c);
            hmac.GetHashAndReset(_key);
        }

        HMACSHA256.HashData(_key, _value, _value);
    }
}
