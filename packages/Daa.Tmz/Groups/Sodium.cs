using System.Runtime.InteropServices;

namespace TrustStack.Daa.Tmz;

/// <summary>The ristretto255 functions of libsodium, from the native library NSec.Cryptography ships.</summary>
internal static partial class Sodium
{
    private const string Library = "libsodium";

    private static readonly int InitResult = sodium_init();

    public const int PointBytes = 32;
    public const int ScalarBytes = 32;
    public const int HashBytes = 64;

    /// <summary>Initializes libsodium once (sodium_init returns 1 when already initialized).</summary>
    public static void EnsureInitialized()
    {
        if (InitResult < 0)
        {
            throw new InvalidOperationException("sodium_init failed");
        }
    }

    [LibraryImport(Library)]
    private static partial int sodium_init();

    [LibraryImport(Library)]
    public static partial int crypto_core_ristretto255_is_valid_point(ReadOnlySpan<byte> p);

    [LibraryImport(Library)]
    public static partial int crypto_core_ristretto255_add(Span<byte> r, ReadOnlySpan<byte> p, ReadOnlySpan<byte> q);

    [LibraryImport(Library)]
    public static partial int crypto_core_ristretto255_sub(Span<byte> r, ReadOnlySpan<byte> p, ReadOnlySpan<byte> q);

    [LibraryImport(Library)]
    public static partial int crypto_core_ristretto255_from_hash(Span<byte> p, ReadOnlySpan<byte> r);

    [LibraryImport(Library)]
    public static partial int crypto_scalarmult_ristretto255(Span<byte> q, ReadOnlySpan<byte> n, ReadOnlySpan<byte> p);

    [LibraryImport(Library)]
    public static partial int crypto_scalarmult_ristretto255_base(Span<byte> q, ReadOnlySpan<byte> n);
}
