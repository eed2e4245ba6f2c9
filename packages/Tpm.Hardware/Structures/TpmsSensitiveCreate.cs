namespace TrustStack.Tpm.Hardware;

/// <summary>TPMS_SENSITIVE_CREATE: the caller's auth value and data for a new object (TPM 2.0 Part 2 §11.1.15).</summary>
/// <param name="UserAuth">The object's authValue.</param>
/// <param name="Data">Data to seal, or a key to import (empty for TPM-generated keys).</param>
public sealed record TpmsSensitiveCreate(byte[] UserAuth, byte[] Data)
{
    /// <summary>No auth, no data.</summary>
    public static TpmsSensitiveCreate Empty { get; } = new([], []);

    /// <summary>Marshals as TPM2B_SENSITIVE_CREATE.</summary>
    public void MarshalSized(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var mark = writer.BeginSize16();
        writer.WriteTpm2b(UserAuth);
        writer.WriteTpm2b(Data);
        writer.EndSize16(mark);
    }

    /// <summary>Unmarshals a TPM2B_SENSITIVE_CREATE.</summary>
    public static TpmsSensitiveCreate UnmarshalSized(ref TpmReader reader)
    {
        var inner = reader.ReadSized16();
        var result = new TpmsSensitiveCreate(inner.ReadTpm2b(64), inner.ReadTpm2b(256));
        inner.EnsureConsumed();
        return result;
    }

    /// <inheritdoc />
    public override string ToString() => $"TpmsSensitiveCreate {{ UserAuth = {UserAuth.Length} octets, Data = {Data.Length} octets }}";
}
