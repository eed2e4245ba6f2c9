using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Where every random value in TrustStack comes from. Production code uses
/// <see cref="SystemRandomSource"/>; deterministic mode uses a seeded DRBG so that keys,
/// nonces and transcripts are byte-reproducible.
/// </summary>
public interface IRandomSource
{
    /// <summary>Fills <paramref name="destination"/> with random octets.</summary>
    void Fill(Span<byte> destination);
}

/// <summary>The operating system's CSPRNG.</summary>
public sealed class SystemRandomSource : IRandomSource
{
    private SystemRandomSource()
    {
    }

    /// <summary>The one instance.</summary>
    public static SystemRandomSource Instance { get; } = new();

    /// <inheritdoc />
    public void Fill(Span<byte> destination) => RandomNumberGenerator.Fill(destination);
}

/// <summary>Convenience members for <see cref="IRandomSource"/>.</summary>
public static class RandomSourceExtensions
{
    /// <summary>Returns <paramref name="count"/> fresh random octets.</summary>
    public static byte[] GetBytes(this IRandomSource source, int count)
    {
        ArgumentNullException.ThrowIfNull(source);
        var bytes = new byte[count];
        source.Fill(bytes);
        return bytes;
    }
}
