namespace TrustStack.Tpm.Hardware;

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
