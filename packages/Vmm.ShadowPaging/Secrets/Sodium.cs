using System.Runtime.InteropServices;

namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// libsodium's guarded heap (https://doc.libsodium.org/memory_management): sodium_malloc places the
/// region right before a PROT_NONE guard page, behind a canary, with a guard page in front;
/// sodium_mprotect_* change the region's protection with mprotect; sodium_free checks the canary,
/// zeroes and unmaps. The library is the one NSec.Cryptography brings (package libsodium).
/// </summary>
internal static partial class Sodium
{
    private const string Library = "libsodium";
    private static readonly Lazy<bool> s_initialized = new(() => sodium_init() >= 0);

    public static void EnsureInitialized()
    {
        if (!s_initialized.Value)
        {
            throw new InvalidOperationException("sodium_init failed.");
        }
    }

    [LibraryImport(Library)]
    internal static partial int sodium_init();

    [LibraryImport(Library)]
    internal static partial IntPtr sodium_malloc(nuint size);

    [LibraryImport(Library)]
    internal static partial void sodium_free(IntPtr ptr);

    [LibraryImport(Library)]
    internal static partial int sodium_mprotect_noaccess(IntPtr ptr);

    [LibraryImport(Library)]
    internal static partial int sodium_mprotect_readonly(IntPtr ptr);

    [LibraryImport(Library)]
    internal static partial int sodium_mprotect_readwrite(IntPtr ptr);
}
