namespace TrustStack.Tpm.Hardware;

/// <summary>TPMT_SENSITIVE: the private area of an object (TPM 2.0 Part 2 §12.3.2.5). Holds secrets: dispose to zero them.</summary>
public sealed class TpmtSensitive : IDisposable
{
    /// <summary>Creates a sensitive area.</summary>
    /// <param name="sensitiveType">The object type.</param>
    /// <param name="authValue">The authValue.</param>
    /// <param name="seedValue">For storage keys the symmetric seed; for other objects the obfuscation value.</param>
    /// <param name="sensitive">RSA prime p, ECC private scalar, HMAC key, sealed data or symmetric key.</param>
    public TpmtSensitive(TpmAlgId sensitiveType, byte[] authValue, byte[] seedValue, byte[] sensitive)
    {
        SensitiveType = sensitiveType;
        AuthValue = authValue ?? throw new ArgumentNullException(nameof(authValue));
        SeedValue = seedValue ?? throw new ArgumentNullException(nameof(seedValue));
        Sensitive = sensitive ?? throw new ArgumentNullException(nameof(sensitive));
    }

    /// <summary>The object type.</summary>
    public TpmAlgId SensitiveType { get; }

    /// <summary>The authValue.</summary>
    public byte[] AuthValue { get; }

    /// <summary>The seedValue.</summary>
    public byte[] SeedValue { get; }

    /// <summary>The private key, data or symmetric key.</summary>
    public byte[] Sensitive { get; }

    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteAlg(SensitiveType);
        writer.WriteTpm2b(AuthValue);
        writer.WriteTpm2b(SeedValue);
        writer.WriteTpm2b(Sensitive);
    }

    /// <summary>Unmarshals the structure.</summary>
    public static TpmtSensitive Unmarshal(ref TpmReader reader) =>
        new(reader.ReadAlg(), reader.ReadTpm2b(64), reader.ReadTpm2b(64), reader.ReadTpm2b(1024));

    /// <summary>Zeroes every secret.</summary>
    public void Dispose()
    {
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(AuthValue);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(SeedValue);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(Sensitive);
    }

    /// <inheritdoc />
    public override string ToString() => $"TpmtSensitive {{ {SensitiveType}, secrets hidden }}";
}
