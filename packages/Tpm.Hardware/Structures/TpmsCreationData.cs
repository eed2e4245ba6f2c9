namespace TrustStack.Tpm.Hardware;

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
