using TrustStack.Tpm.Hardware;

namespace TrustStack.Vmm.ShadowPaging;

/// <summary>
/// The real back end: every secret lives in its own libsodium guarded allocation (guard pages,
/// canary, locked against swapping) that is mprotect'ed to no-access except inside an explicit
/// access window (<see cref="GuardedSecret.CopyTo"/>). A stray read or write of a secret outside
/// its window — by a bug or by injected code in this process — faults for real (SIGSEGV).
/// </summary>
public sealed class GuardedMemorySecretStore : ITpmSecretStore
{
    /// <summary>Creates the store (initializes libsodium).</summary>
    /// <exception cref="DllNotFoundException">The libsodium native library that NSec ships is missing.</exception>
    public GuardedMemorySecretStore() => Sodium.EnsureInitialized();

    /// <inheritdoc />
    /// <remarks>No: a derived key object would keep the secret in ordinary managed memory.</remarks>
    public bool AllowsDerivedKeyCaching => false;

    /// <inheritdoc />
    public ITpmSecret Store(ReadOnlySpan<byte> value, string purpose) => new GuardedSecret(value, purpose);

    /// <inheritdoc cref="Store"/>
    public GuardedSecret StoreGuarded(ReadOnlySpan<byte> value, string purpose) => new(value, purpose);
}

/// <summary>One secret in a libsodium guarded allocation; no-access outside its access windows.</summary>
public sealed class GuardedSecret : ITpmSecret
{
    private readonly Lock _lock = new();
    private IntPtr _pointer;

    internal GuardedSecret(ReadOnlySpan<byte> value, string purpose)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        Purpose = purpose;
        Length = value.Length;

        // sodium_malloc(0) is valid but returns a pointer to nothing; allocate one octet so every secret has a guarded region.
        _pointer = Sodium.sodium_malloc((nuint)Math.Max(1, value.Length));
        if (_pointer == IntPtr.Zero)
        {
            throw new InsufficientMemoryException("sodium_malloc failed.");
        }

        unsafe
        {
            value.CopyTo(new Span<byte>((void*)_pointer, value.Length));
        }

        Protect(Sodium.sodium_mprotect_noaccess(_pointer));
    }

    /// <summary>What it is, never the value.</summary>
    public string Purpose { get; }

    /// <inheritdoc />
    public int Length { get; }

    /// <summary>Whether the secret was freed.</summary>
    public bool IsDisposed => _pointer == IntPtr.Zero;

    /// <summary>The address of the guarded region (for the protection tests; touching it outside a window faults).</summary>
    internal IntPtr Address => _pointer;

    /// <inheritdoc />
    /// <remarks>The region is read-only for the copy and no-access again before this returns.</remarks>
    /// <exception cref="ObjectDisposedException">Disposed.</exception>
    /// <exception cref="ArgumentException">The destination is too short.</exception>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Length)
        {
            throw new ArgumentException($"The destination needs {Length} octets.", nameof(destination));
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            Protect(Sodium.sodium_mprotect_readonly(_pointer));
            try
            {
                unsafe
                {
                    new ReadOnlySpan<byte>((void*)_pointer, Length).CopyTo(destination);
                }
            }
            finally
            {
                Protect(Sodium.sodium_mprotect_noaccess(_pointer));
            }
        }
    }

    /// <summary>Overwrites the secret (same length) inside a read-write window.</summary>
    /// <exception cref="ObjectDisposedException">Disposed.</exception>
    /// <exception cref="ArgumentException">The length differs.</exception>
    public void Update(ReadOnlySpan<byte> value)
    {
        if (value.Length != Length)
        {
            throw new ArgumentException($"The secret has {Length} octets.", nameof(value));
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            Protect(Sodium.sodium_mprotect_readwrite(_pointer));
            try
            {
                unsafe
                {
                    value.CopyTo(new Span<byte>((void*)_pointer, Length));
                }
            }
            finally
            {
                Protect(Sodium.sodium_mprotect_noaccess(_pointer));
            }
        }
    }

    /// <summary>Frees the region (libsodium checks the canary, zeroes and unmaps it).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_pointer == IntPtr.Zero)
            {
                return;
            }

            // sodium_free needs the pages accessible to zero them.
            Sodium.sodium_mprotect_readwrite(_pointer);
            Sodium.sodium_free(_pointer);
            _pointer = IntPtr.Zero;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"guarded secret ({Purpose}, {Length} octets)";

    private static void Protect(int result)
    {
        if (result != 0)
        {
            throw new InvalidOperationException("sodium_mprotect failed.");
        }
    }
}
