namespace TrustStack.Tpm.Hardware;

/// <summary>TPMS_NV_PUBLIC: the public area of an NV index (TPM 2.0 Part 2 §13.5).</summary>
/// <param name="NvIndex">The index handle (0x01xxxxxx).</param>
/// <param name="NameAlg">Hash of the index Name.</param>
/// <param name="Attributes">TPMA_NV.</param>
/// <param name="AuthPolicy">Policy digest.</param>
/// <param name="DataSize">Size of the data area.</param>
public sealed record TpmsNvPublic(uint NvIndex, TpmAlgId NameAlg, TpmaNv Attributes, byte[] AuthPolicy, ushort DataSize)
{
    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteU32(NvIndex);
        writer.WriteAlg(NameAlg);
        writer.WriteU32((uint)Attributes);
        writer.WriteTpm2b(AuthPolicy);
        writer.WriteU16(DataSize);
    }

    /// <summary>The marshalled structure.</summary>
    public byte[] ToBytes()
    {
        var w = new TpmWriter();
        Marshal(w);
        return w.ToArray();
    }

    /// <summary>Unmarshals the structure.</summary>
    public static TpmsNvPublic Unmarshal(ref TpmReader reader) =>
        new(reader.ReadU32(), reader.ReadAlg(), (TpmaNv)reader.ReadU32(), reader.ReadTpm2b(64), reader.ReadU16());

    /// <summary>Unmarshals a TPM2B_NV_PUBLIC.</summary>
    public static TpmsNvPublic UnmarshalSized(ref TpmReader reader)
    {
        var inner = reader.ReadSized16();
        var result = Unmarshal(ref inner);
        inner.EnsureConsumed();
        return result;
    }

    /// <summary>The index's Name: nameAlg ‖ H(TPMS_NV_PUBLIC).</summary>
    public byte[] GetName() => TpmHash.NameOf(NameAlg, ToBytes());

    /// <summary>The TPM_NT index type (ordinary, counter, bits, extend) from bits 4..7.</summary>
    public int IndexType => (int)(((uint)Attributes >> 4) & 0xF);
}

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

/// <summary>TPMS_CONTEXT: a saved object or session context (TPM 2.0 Part 2 §14.5).</summary>
/// <param name="Sequence">Context sequence number.</param>
/// <param name="SavedHandle">The handle type of what was saved (0x80000000 objects, 0x80000001 sequences, 0x80000002 stClear objects, or the session handle).</param>
/// <param name="Hierarchy">The hierarchy of the saved object.</param>
/// <param name="ContextBlob">Integrity HMAC and encrypted context.</param>
public sealed record TpmsContext(ulong Sequence, uint SavedHandle, uint Hierarchy, byte[] ContextBlob)
{
    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteU64(Sequence);
        writer.WriteU32(SavedHandle);
        writer.WriteU32(Hierarchy);
        writer.WriteTpm2b(ContextBlob);
    }

    /// <summary>Unmarshals the structure.</summary>
    public static TpmsContext Unmarshal(ref TpmReader reader) =>
        new(reader.ReadU64(), reader.ReadU32(), reader.ReadU32(), reader.ReadTpm2b(4096));
}

/// <summary>TPMS_CREATION_DATA: what a TPM records about an object's creation (TPM 2.0 Part 2 §15.1).</summary>
/// <param name="PcrSelect">PCRs selected at creation.</param>
/// <param name="PcrDigest">Digest of those PCRs.</param>
/// <param name="Locality">TPMA_LOCALITY.</param>
/// <param name="ParentNameAlg">Parent's nameAlg.</param>
/// <param name="ParentName">Parent's Name.</param>
/// <param name="ParentQualifiedName">Parent's qualified name.</param>
/// <param name="OutsideInfo">Caller's data.</param>
public sealed record TpmsCreationData(PcrSelectionList PcrSelect, byte[] PcrDigest, byte Locality, TpmAlgId ParentNameAlg, byte[] ParentName, byte[] ParentQualifiedName, byte[] OutsideInfo)
{
    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        PcrSelect.Marshal(writer);
        writer.WriteTpm2b(PcrDigest);
        writer.WriteU8(Locality);
        writer.WriteAlg(ParentNameAlg);
        writer.WriteTpm2b(ParentName);
        writer.WriteTpm2b(ParentQualifiedName);
        writer.WriteTpm2b(OutsideInfo);
    }

    /// <summary>The marshalled structure.</summary>
    public byte[] ToBytes()
    {
        var w = new TpmWriter();
        Marshal(w);
        return w.ToArray();
    }

    /// <summary>Unmarshals the structure.</summary>
    public static TpmsCreationData Unmarshal(ref TpmReader reader) =>
        new(PcrSelectionList.Unmarshal(ref reader), reader.ReadTpm2b(64), reader.ReadU8(), reader.ReadAlg(), reader.ReadTpm2b(68), reader.ReadTpm2b(68), reader.ReadTpm2b(64));
}
