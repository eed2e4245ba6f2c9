namespace TrustStack.Tpm.Hardware;

/// <summary>TPMS_CLOCK_INFO (TPM 2.0 Part 2 §10.11.1).</summary>
/// <param name="Clock">Milliseconds the TPM has been powered.</param>
/// <param name="ResetCount">TPM Resets since the last Clear.</param>
/// <param name="RestartCount">Restarts/resumes since the last Reset.</param>
/// <param name="Safe">Clock has not gone backwards.</param>
public sealed record TpmsClockInfo(ulong Clock, uint ResetCount, uint RestartCount, bool Safe)
{
    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteU64(Clock);
        writer.WriteU32(ResetCount);
        writer.WriteU32(RestartCount);
        writer.WriteU8(Safe ? (byte)1 : (byte)0);
    }

    /// <summary>Unmarshals the structure.</summary>
    public static TpmsClockInfo Unmarshal(ref TpmReader reader)
    {
        var clock = reader.ReadU64();
        var reset = reader.ReadU32();
        var restart = reader.ReadU32();
        var safe = reader.ReadU8();
        if (safe > 1)
        {
            throw reader.Fail(TpmRc.Value, "TPMI_YES_NO must be 0 or 1");
        }

        return new TpmsClockInfo(clock, reset, restart, safe == 1);
    }
}

/// <summary>TPMU_ATTEST: what an attestation structure attests to.</summary>
public abstract record AttestInfo
{
    private protected AttestInfo()
    {
    }

    /// <summary>The TPM_ST_ATTEST_* tag of this kind.</summary>
    public abstract TpmSt Tag { get; }

    /// <summary>Marshals the attested data.</summary>
    public abstract void Marshal(TpmWriter writer);
}

/// <summary>TPMS_QUOTE_INFO: the PCRs quoted and the digest of their values.</summary>
/// <param name="PcrSelect">The PCRs.</param>
/// <param name="PcrDigest">H_signScheme(PCR values in selection order).</param>
public sealed record QuoteInfo(PcrSelectionList PcrSelect, byte[] PcrDigest) : AttestInfo
{
    /// <inheritdoc />
    public override TpmSt Tag => TpmSt.AttestQuote;

    /// <inheritdoc />
    public override void Marshal(TpmWriter writer)
    {
        PcrSelect.Marshal(writer);
        writer.WriteTpm2b(PcrDigest);
    }
}

/// <summary>TPMS_CERTIFY_INFO: the Name and qualified name of a certified object.</summary>
/// <param name="Name">The object's Name.</param>
/// <param name="QualifiedName">The object's qualified name.</param>
public sealed record CertifyInfo(byte[] Name, byte[] QualifiedName) : AttestInfo
{
    /// <inheritdoc />
    public override TpmSt Tag => TpmSt.AttestCertify;

    /// <inheritdoc />
    public override void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteTpm2b(Name);
        writer.WriteTpm2b(QualifiedName);
    }
}

/// <summary>TPMS_CREATION_INFO: certifies an object's creation data.</summary>
/// <param name="ObjectName">The object's Name.</param>
/// <param name="CreationHash">Digest of its creation data.</param>
public sealed record CreationInfo(byte[] ObjectName, byte[] CreationHash) : AttestInfo
{
    /// <inheritdoc />
    public override TpmSt Tag => TpmSt.AttestCreation;

    /// <inheritdoc />
    public override void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteTpm2b(ObjectName);
        writer.WriteTpm2b(CreationHash);
    }
}

/// <summary>TPMS_NV_CERTIFY_INFO.</summary>
/// <param name="IndexName">The index's Name.</param>
/// <param name="Offset">Offset of the certified data.</param>
/// <param name="NvContents">The certified data.</param>
public sealed record NvCertifyInfo(byte[] IndexName, ushort Offset, byte[] NvContents) : AttestInfo
{
    /// <inheritdoc />
    public override TpmSt Tag => TpmSt.AttestNv;

    /// <inheritdoc />
    public override void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteTpm2b(IndexName);
        writer.WriteU16(Offset);
        writer.WriteTpm2b(NvContents);
    }
}

/// <summary>TPMS_TIME_ATTEST_INFO (TPM2_GetTime): TPMS_TIME_INFO (time, clock info) and the firmware version.</summary>
/// <param name="Time">Milliseconds since the last power-on.</param>
/// <param name="TimeClockInfo">The clock state (not obfuscated: the privacy administrator authorized it).</param>
/// <param name="TimeFirmwareVersion">The TPM firmware version.</param>
public sealed record TimeAttestInfo(ulong Time, TpmsClockInfo TimeClockInfo, ulong TimeFirmwareVersion) : AttestInfo
{
    /// <inheritdoc />
    public override TpmSt Tag => TpmSt.AttestTime;

    /// <inheritdoc />
    public override void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteU64(Time);
        TimeClockInfo.Marshal(writer);
        writer.WriteU64(TimeFirmwareVersion);
    }
}

/// <summary>TPMS_ATTEST: the structure a TPM signs in Quote, Certify and friends (TPM 2.0 Part 2 §10.12.12).</summary>
/// <param name="Magic">TPM_GENERATED_VALUE (0xff544347) when the TPM made it.</param>
/// <param name="QualifiedSigner">Qualified name of the signing key.</param>
/// <param name="ExtraData">Caller's qualifying data (the nonce).</param>
/// <param name="ClockInfo">Clock state.</param>
/// <param name="FirmwareVersion">TPM firmware version.</param>
/// <param name="Attested">What is attested; its tag is the structure's type.</param>
public sealed record TpmsAttest(uint Magic, byte[] QualifiedSigner, byte[] ExtraData, TpmsClockInfo ClockInfo, ulong FirmwareVersion, AttestInfo Attested)
{
    /// <summary>TPM_GENERATED_VALUE: marks structures the TPM itself created.</summary>
    public const uint GeneratedValue = 0xff544347;

    /// <summary>The attestation type (TPM_ST_ATTEST_*).</summary>
    public TpmSt Type => Attested.Tag;

    /// <summary>Marshals the structure.</summary>
    public void Marshal(TpmWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteU32(Magic);
        writer.WriteU16((ushort)Type);
        writer.WriteTpm2b(QualifiedSigner);
        writer.WriteTpm2b(ExtraData);
        ClockInfo.Marshal(writer);
        writer.WriteU64(FirmwareVersion);
        Attested.Marshal(writer);
    }

    /// <summary>The marshalled structure (what the TPM signs).</summary>
    public byte[] ToBytes()
    {
        var w = new TpmWriter();
        Marshal(w);
        return w.ToArray();
    }

    /// <summary>Parses a marshalled TPMS_ATTEST (no size prefix, as tpm2-tools writes a quote message).</summary>
    /// <exception cref="TpmException">Malformed or trailing octets.</exception>
    public static TpmsAttest Parse(ReadOnlySpan<byte> bytes)
    {
        var reader = new TpmReader(bytes);
        var result = Unmarshal(ref reader);
        reader.EnsureConsumed();
        return result;
    }

    /// <summary>Unmarshals the structure.</summary>
    public static TpmsAttest Unmarshal(ref TpmReader reader)
    {
        var magic = reader.ReadU32();
        var type = (TpmSt)reader.ReadU16();
        var signer = reader.ReadTpm2b(68);
        var extra = reader.ReadTpm2b(66);
        var clock = TpmsClockInfo.Unmarshal(ref reader);
        var firmware = reader.ReadU64();
        AttestInfo info = type switch
        {
            TpmSt.AttestQuote => new QuoteInfo(PcrSelectionList.Unmarshal(ref reader), reader.ReadTpm2b(64)),
            TpmSt.AttestCertify => new CertifyInfo(reader.ReadTpm2b(68), reader.ReadTpm2b(68)),
            TpmSt.AttestCreation => new CreationInfo(reader.ReadTpm2b(68), reader.ReadTpm2b(64)),
            TpmSt.AttestNv => new NvCertifyInfo(reader.ReadTpm2b(68), reader.ReadU16(), reader.ReadTpm2b(2048)),
            TpmSt.AttestTime => new TimeAttestInfo(reader.ReadU64(), TpmsClockInfo.Unmarshal(ref reader), reader.ReadU64()),
            _ => throw reader.Fail(TpmRc.Selector, $"attestation type {type} is not supported"),
        };
        return new TpmsAttest(magic, signer, extra, clock, firmware, info);
    }
}
