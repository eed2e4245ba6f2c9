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
