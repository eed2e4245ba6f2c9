using System.Security.Cryptography;

namespace TrustStack.Tpm.Hardware;

/// <summary>
/// Extension point: where a TPM engine keeps its secret material (hierarchy seeds, private
/// areas of loaded and persistent objects). The default keeps it in pinned, zeroed managed
/// memory; Vmm.ShadowPaging supplies protected stores (MMU-vTPM model, guarded memory).
/// </summary>
public interface ITpmSecretStore
{
    /// <summary>Copies <paramref name="value"/> into the store.</summary>
    /// <param name="value">The secret.</param>
    /// <param name="purpose">What it is ("EPS", "object 0x80000000 sensitive", ...), for audit logs; never the value.</param>
    ITpmSecret Store(ReadOnlySpan<byte> value, string purpose);

    /// <summary>Whether the engine may keep derived key objects (for example an imported RSA key) in ordinary memory between commands. Protected stores say no.</summary>
    bool AllowsDerivedKeyCaching { get; }
}

/// <summary>One secret held by an <see cref="ITpmSecretStore"/>.</summary>
public interface ITpmSecret : IDisposable
{
    /// <summary>Length in octets.</summary>
    int Length { get; }

    /// <summary>Copies the secret out for one use; the caller zeroes <paramref name="destination"/> afterwards.</summary>
    void CopyTo(Span<byte> destination);
}

/// <summary>The default store: pinned managed arrays, zeroed on dispose.</summary>
public sealed class ManagedSecretStore : ITpmSecretStore
{
    private ManagedSecretStore()
    {
    }

    /// <summary>The one instance.</summary>
    public static ManagedSecretStore Instance { get; } = new();

    /// <inheritdoc />
    public bool AllowsDerivedKeyCaching => true;

    /// <inheritdoc />
    public ITpmSecret Store(ReadOnlySpan<byte> value, string purpose) => new PinnedSecret(value);

    private sealed class PinnedSecret : ITpmSecret
    {
        private readonly byte[] _value;

        public PinnedSecret(ReadOnlySpan<byte> value)
        {
            _value = GC.AllocateUninitializedArray<byte>(value.Length, pinned: true);
            value.CopyTo(_value);
        }

        public int Length => _value.Length;

        public void CopyTo(Span<byte> destination) => _value.CopyTo(destination);

        public void Dispose() => CryptographicOperations.ZeroMemory(_value);

        public override string ToString() => $"secret ({_value.Length} octets)";
    }
}

/// <summary>Convenience members for <see cref="ITpmSecret"/>.</summary>
public static class TpmSecretExtensions
{
    /// <summary>Copies the secret into a new array; zero it when done.</summary>
    public static byte[] Reveal(this ITpmSecret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var copy = new byte[secret.Length];
        secret.CopyTo(copy);
        return copy;
    }
}

internal static class SecretMarshal
{
    public static ITpmSecret StoreSensitive(ITpmSecretStore store, TpmtSensitive sensitive, string purpose)
    {
        var w = new TpmWriter();
        sensitive.Marshal(w);
        var secret = store.Store(w.WrittenSpan, purpose);
        w.Clear();
        return secret;
    }

    public static TpmtSensitive LoadSensitive(ITpmSecret secret)
    {
        var bytes = secret.Reveal();
        try
        {
            var r = new TpmReader(bytes);
            return TpmtSensitive.Unmarshal(ref r);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }
}
