using Org.BouncyCastle.Crypto.Prng;
using Org.BouncyCastle.Security;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Presents an <see cref="IRandomSource"/> to BouncyCastle as a <see cref="SecureRandom"/>, so that
/// BouncyCastle operations (OAEP seeds, PSS salts, nonces) draw from the injected, possibly seeded,
/// source and nowhere else. Seed material BouncyCastle offers is ignored: the source owns its state.
/// </summary>
internal static class BouncyRandom
{
    /// <summary>A SecureRandom drawing every octet from <paramref name="source"/>.</summary>
    public static SecureRandom From(IRandomSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new SecureRandom(new Generator(source));
    }

    private sealed class Generator(IRandomSource source) : IRandomGenerator
    {
        public void AddSeedMaterial(byte[] seed)
        {
        }

        public void AddSeedMaterial(ReadOnlySpan<byte> seed)
        {
        }

        public void AddSeedMaterial(long seed)
        {
        }

        public void NextBytes(byte[] bytes) => source.Fill(bytes);

        public void NextBytes(byte[] bytes, int start, int len) => source.Fill(bytes.AsSpan(start, len));

        public void NextBytes(Span<byte> bytes) => source.Fill(bytes);
    }
}
