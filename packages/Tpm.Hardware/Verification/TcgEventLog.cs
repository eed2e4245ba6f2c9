using System.Text;

namespace TrustStack.Tpm.Hardware;

/// <summary>Event types of the TCG PC Client Platform Firmware Profile (§10.4.1) and of the EFI extension (UEFI).</summary>
public enum TcgEventType : uint
{
    /// <summary>EV_PREBOOT_CERT.</summary>
    PrebootCert = 0x00000000,

    /// <summary>EV_POST_CODE.</summary>
    PostCode = 0x00000001,

    /// <summary>EV_UNUSED.</summary>
    Unused = 0x00000002,

    /// <summary>EV_NO_ACTION: informational, never extended into a PCR.</summary>
    NoAction = 0x00000003,

    /// <summary>EV_SEPARATOR.</summary>
    Separator = 0x00000004,

    /// <summary>EV_ACTION.</summary>
    Action = 0x00000005,

    /// <summary>EV_EVENT_TAG.</summary>
    EventTag = 0x00000006,

    /// <summary>EV_S_CRTM_CONTENTS.</summary>
    SCrtmContents = 0x00000007,

    /// <summary>EV_S_CRTM_VERSION.</summary>
    SCrtmVersion = 0x00000008,

    /// <summary>EV_CPU_MICROCODE.</summary>
    CpuMicrocode = 0x00000009,

    /// <summary>EV_PLATFORM_CONFIG_FLAGS.</summary>
    PlatformConfigFlags = 0x0000000A,

    /// <summary>EV_TABLE_OF_DEVICES.</summary>
    TableOfDevices = 0x0000000B,

    /// <summary>EV_COMPACT_HASH.</summary>
    CompactHash = 0x0000000C,

    /// <summary>EV_IPL.</summary>
    Ipl = 0x0000000D,

    /// <summary>EV_IPL_PARTITION_DATA.</summary>
    IplPartitionData = 0x0000000E,

    /// <summary>EV_NONHOST_CODE.</summary>
    NonhostCode = 0x0000000F,

    /// <summary>EV_NONHOST_CONFIG.</summary>
    NonhostConfig = 0x00000010,

    /// <summary>EV_NONHOST_INFO.</summary>
    NonhostInfo = 0x00000011,

    /// <summary>EV_OMIT_BOOT_DEVICE_EVENTS.</summary>
    OmitBootDeviceEvents = 0x00000012,

    /// <summary>EV_EFI_EVENT_BASE.</summary>
    EfiEventBase = 0x80000000,

    /// <summary>EV_EFI_VARIABLE_DRIVER_CONFIG.</summary>
    EfiVariableDriverConfig = 0x80000001,

    /// <summary>EV_EFI_VARIABLE_BOOT.</summary>
    EfiVariableBoot = 0x80000002,

    /// <summary>EV_EFI_BOOT_SERVICES_APPLICATION.</summary>
    EfiBootServicesApplication = 0x80000003,

    /// <summary>EV_EFI_BOOT_SERVICES_DRIVER.</summary>
    EfiBootServicesDriver = 0x80000004,

    /// <summary>EV_EFI_RUNTIME_SERVICES_DRIVER.</summary>
    EfiRuntimeServicesDriver = 0x80000005,

    /// <summary>EV_EFI_GPT_EVENT.</summary>
    EfiGptEvent = 0x80000006,

    /// <summary>EV_EFI_ACTION.</summary>
    EfiAction = 0x80000007,

    /// <summary>EV_EFI_PLATFORM_FIRMWARE_BLOB.</summary>
    EfiPlatformFirmwareBlob = 0x80000008,

    /// <summary>EV_EFI_HANDOFF_TABLES.</summary>
    EfiHandoffTables = 0x80000009,

    /// <summary>EV_EFI_PLATFORM_FIRMWARE_BLOB2.</summary>
    EfiPlatformFirmwareBlob2 = 0x8000000A,

    /// <summary>EV_EFI_HANDOFF_TABLES2.</summary>
    EfiHandoffTables2 = 0x8000000B,

    /// <summary>EV_EFI_VARIABLE_BOOT2.</summary>
    EfiVariableBoot2 = 0x8000000C,

    /// <summary>EV_EFI_HCRTM_EVENT: an H-CRTM measurement; PCR 0 then starts at locality 4.</summary>
    EfiHcrtmEvent = 0x80000010,

    /// <summary>EV_EFI_VARIABLE_AUTHORITY.</summary>
    EfiVariableAuthority = 0x800000E0,

    /// <summary>EV_EFI_SPDM_FIRMWARE_BLOB.</summary>
    EfiSpdmFirmwareBlob = 0x800000E1,

    /// <summary>EV_EFI_SPDM_FIRMWARE_CONFIG.</summary>
    EfiSpdmFirmwareConfig = 0x800000E2,
}

/// <summary>One entry of the Spec ID event's digest-size table: an algorithm and the size of its digests in the log.</summary>
/// <param name="Algorithm">The TPM_ALG_ID.</param>
/// <param name="DigestSize">Octets per digest.</param>
public sealed record TcgDigestSize(TpmAlgId Algorithm, ushort DigestSize);

/// <summary>
/// TCG_EfiSpecIDEvent ("Spec ID Event03", PC Client PFP §10.4.5.1): the data of the first log
/// event, which marks a crypto-agile log and gives the digest sizes of its algorithms.
/// </summary>
/// <param name="PlatformClass">0 client, 1 server.</param>
/// <param name="SpecVersionMinor">Spec version, minor.</param>
/// <param name="SpecVersionMajor">Spec version, major (2).</param>
/// <param name="SpecErrata">Errata.</param>
/// <param name="UintnSize">1 for 32-bit UINTN, 2 for 64-bit.</param>
/// <param name="DigestSizes">The algorithms of the log, in order.</param>
/// <param name="VendorInfo">Vendor data.</param>
public sealed record TcgSpecIdEvent(uint PlatformClass, byte SpecVersionMinor, byte SpecVersionMajor, byte SpecErrata, byte UintnSize, IReadOnlyList<TcgDigestSize> DigestSizes, byte[] VendorInfo)
{
    /// <summary>The signature that starts the structure: "Spec ID Event03" and a NUL.</summary>
    public static ReadOnlySpan<byte> Signature => "Spec ID Event03\0"u8;
}

/// <summary>One event of a TCG log.</summary>
/// <param name="Offset">Octet offset of the event in the log.</param>
/// <param name="PcrIndex">The PCR.</param>
/// <param name="EventType">The event type.</param>
/// <param name="Digests">One digest per algorithm (TPML_DIGEST_VALUES; the first event has only SHA-1).</param>
/// <param name="EventData">The event data.</param>
public sealed record TcgEvent(long Offset, uint PcrIndex, TcgEventType EventType, IReadOnlyList<TpmtHa> Digests, byte[] EventData)
{
    /// <summary>The event's digest for <paramref name="algorithm"/>, or null.</summary>
    public byte[]? DigestFor(TpmAlgId algorithm) => Digests.FirstOrDefault(d => d.HashAlg == algorithm)?.Digest;

    /// <summary>For a StartupLocality event (EV_NO_ACTION in PCR 0 with data "StartupLocality\0" ‖ locality), the locality; otherwise null.</summary>
    public byte? StartupLocality =>
        EventType == TcgEventType.NoAction && PcrIndex == 0 && EventData.Length >= TcgEventLog.StartupLocalitySignature.Length + 1 &&
        EventData.AsSpan().StartsWith(TcgEventLog.StartupLocalitySignature)
            ? EventData[TcgEventLog.StartupLocalitySignature.Length]
            : null;
}

/// <summary>
/// A TCG PC Client crypto-agile event log (<c>/sys/kernel/security/tpm0/binary_bios_measurements</c>,
/// PC Client PFP §10): a first event in the SHA-1 TCG_PCR_EVENT format holding the Spec ID
/// event, then TCG_PCR_EVENT2 records, all little-endian:
/// u32 pcrIndex, u32 eventType, TPML_DIGEST_VALUES (u32 count, count × {u16 algorithm, digest of
/// the size the Spec ID event gives}), u32 eventSize, event.
/// </summary>
public sealed class TcgEventLog
{
    /// <summary>Octets of a StartupLocality event's signature, "StartupLocality" and a NUL.</summary>
    internal static ReadOnlySpan<byte> StartupLocalitySignature => "StartupLocality\0"u8;

    private const int MaxAlgorithms = 16;
    private const int MaxDigestSize = 512;

    private TcgEventLog(TcgEvent header, TcgSpecIdEvent specId, IReadOnlyList<TcgEvent> events)
    {
        Header = header;
        SpecId = specId;
        Events = events;
    }

    /// <summary>The first event (TCG_PCR_EVENT, SHA-1 format) that carries the Spec ID event.</summary>
    public TcgEvent Header { get; }

    /// <summary>The Spec ID event: the log's algorithms and digest sizes.</summary>
    public TcgSpecIdEvent SpecId { get; }

    /// <summary>The TCG_PCR_EVENT2 records after the first event, in log order.</summary>
    public IReadOnlyList<TcgEvent> Events { get; }

    /// <summary>Parses a crypto-agile log.</summary>
    /// <exception cref="EventLogFormatException">The log is malformed or not crypto-agile; says where.</exception>
    public static TcgEventLog Parse(ReadOnlySpan<byte> log)
    {
        var reader = new LittleEndianReader(log);
        var (header, specId) = ReadHeader(ref reader);
        var sizes = specId.DigestSizes.ToDictionary(d => d.Algorithm, d => (int)d.DigestSize);
        var events = new List<TcgEvent>();
        while (reader.Remaining > 0)
        {
            events.Add(ReadEvent2(ref reader, sizes));
        }

        return new TcgEventLog(header, specId, events);
    }

    /// <summary>
    /// Replays the log into the PCR values a TPM that saw the same measurements holds, for each
    /// bank of the Spec ID event that TrustStack can hash (SHA-1/256/384/512; others are skipped).
    /// Every PCR starts at zero, except PCR 0, which starts with the startup locality in its last
    /// octet: from a StartupLocality event, or 4 when an H-CRTM event (EV_EFI_HCRTM_EVENT) is
    /// logged to PCR 0 (PC Client PFP §10.4.5.3, TPM 2.0 Part 1 §34.3). Each event extends its
    /// digest into its PCR, except EV_NO_ACTION events, which are never extended. The result holds
    /// every PCR that any event names, like tpm2_eventlog's <c>pcrs:</c> section.
    /// </summary>
    public PcrValues Replay()
    {
        var banks = SpecId.DigestSizes.Select(d => d.Algorithm).Where(TpmHash.IsSupported).Distinct().ToArray();
        var locality = Events.Any(e => e.PcrIndex == 0 && e.EventType == TcgEventType.EfiHcrtmEvent)
            ? (byte)4
            : Events.Select(e => e.StartupLocality).FirstOrDefault(l => l is not null) ?? 0;
        var pcrs = new Dictionary<(TpmAlgId, int), byte[]>();
        foreach (var e in Events)
        {
            var pcr = (int)e.PcrIndex;
            foreach (var bank in banks)
            {
                var digest = e.DigestFor(bank);
                if (digest is null)
                {
                    continue;
                }

                if (!pcrs.TryGetValue((bank, pcr), out var value))
                {
                    value = new byte[TpmHash.DigestSize(bank)];
                    if (pcr == 0)
                    {
                        value[^1] = locality;
                    }
                }

                pcrs[(bank, pcr)] = e.EventType == TcgEventType.NoAction ? value : TpmHash.Extend(bank, value, digest);
            }
        }

        return PcrValues.Create(pcrs.Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value)));
    }

    private static (TcgEvent Header, TcgSpecIdEvent SpecId) ReadHeader(ref LittleEndianReader reader)
    {
        // TCG_PCR_EVENT: u32 pcrIndex, u32 eventType, u8 digest[20], u32 eventDataSize, event.
        var offset = reader.Offset;
        var pcr = reader.ReadU32("first event pcrIndex");
        var type = (TcgEventType)reader.ReadU32("first event eventType");
        var digest = reader.ReadBytes(20, "first event SHA-1 digest").ToArray();
        if (type != TcgEventType.NoAction || pcr != 0)
        {
            throw new EventLogFormatException($"The first event is {type} in PCR {pcr}, not the Spec ID EV_NO_ACTION event in PCR 0: not a crypto-agile log", offset);
        }

        if (digest.AsSpan().ContainsAnyExcept((byte)0))
        {
            throw new EventLogFormatException("The Spec ID event's digest is not all zero", offset + 8);
        }

        var dataSize = reader.ReadLength("Spec ID event data");
        var dataOffset = reader.Offset;
        var data = reader.ReadBytes(dataSize, "Spec ID event data");
        var spec = new LittleEndianReader(data, dataOffset);
        var signature = spec.ReadBytes(TcgSpecIdEvent.Signature.Length, "Spec ID signature");
        if (!signature.SequenceEqual(TcgSpecIdEvent.Signature))
        {
            throw new EventLogFormatException("The first event is not a \"Spec ID Event03\" event: not a crypto-agile log", dataOffset);
        }

        var platformClass = spec.ReadU32("platformClass");
        var minor = spec.ReadU8("specVersionMinor");
        var major = spec.ReadU8("specVersionMajor");
        var errata = spec.ReadU8("specErrata");
        var uintnSize = spec.ReadU8("uintnSize");
        var countOffset = spec.Offset;
        var count = spec.ReadU32("numberOfAlgorithms");
        if (count is 0 or > MaxAlgorithms)
        {
            throw new EventLogFormatException($"numberOfAlgorithms is {count}, must be 1..{MaxAlgorithms}", countOffset);
        }

        var sizes = new List<TcgDigestSize>();
        for (var i = 0; i < (int)count; i++)
        {
            var at = spec.Offset;
            var alg = (TpmAlgId)spec.ReadU16("algorithmId");
            var size = spec.ReadU16("digestSize");
            if (size is 0 or > MaxDigestSize || (TpmHash.IsSupported(alg) && size != TpmHash.DigestSize(alg)))
            {
                throw new EventLogFormatException($"Digest size {size} for {alg} is wrong", at);
            }

            if (sizes.Any(s => s.Algorithm == alg))
            {
                throw new EventLogFormatException($"Algorithm {alg} is listed twice", at);
            }

            sizes.Add(new TcgDigestSize(alg, size));
        }

        var vendorSize = spec.ReadU8("vendorInfoSize");
        var vendor = spec.ReadBytes(vendorSize, "vendorInfo").ToArray();
        if (spec.Remaining != 0)
        {
            throw spec.Fail($"{spec.Remaining} octets follow the Spec ID event's vendorInfo");
        }

        var header = new TcgEvent(offset, pcr, type, [new TpmtHa(TpmAlgId.Sha1, digest)], data.ToArray());
        return (header, new TcgSpecIdEvent(platformClass, minor, major, errata, uintnSize, sizes, vendor));
    }

    private static TcgEvent ReadEvent2(ref LittleEndianReader reader, Dictionary<TpmAlgId, int> sizes)
    {
        var offset = reader.Offset;
        var pcr = reader.ReadU32("pcrIndex");
        if (pcr > PcrValues.MaxPcr)
        {
            throw new EventLogFormatException($"PCR index {pcr} exceeds {PcrValues.MaxPcr}", offset);
        }

        var type = (TcgEventType)reader.ReadU32("eventType");
        var countOffset = reader.Offset;
        var count = reader.ReadU32("TPML_DIGEST_VALUES.count");
        if (count > (uint)sizes.Count)
        {
            throw new EventLogFormatException($"The event has {count} digests, the log has {sizes.Count} algorithms", countOffset);
        }

        var digests = new List<TpmtHa>();
        for (var i = 0; i < (int)count; i++)
        {
            var at = reader.Offset;
            var alg = (TpmAlgId)reader.ReadU16("digest algorithm");
            if (!sizes.TryGetValue(alg, out var size))
            {
                throw new EventLogFormatException($"Digest algorithm {alg} (0x{(ushort)alg:x4}) is not in the Spec ID event", at);
            }

            if (digests.Any(d => d.HashAlg == alg))
            {
                throw new EventLogFormatException($"The event has two {alg} digests", at);
            }

            digests.Add(new TpmtHa(alg, reader.ReadBytes(size, $"{alg} digest").ToArray()));
        }

        var dataSize = reader.ReadLength("event data");
        var data = reader.ReadBytes(dataSize, "event data").ToArray();
        return new TcgEvent(offset, pcr, type, digests, data);
    }

    /// <inheritdoc />
    public override string ToString() =>
        new StringBuilder().Append("TCG event log: ").Append(Events.Count).Append(" events, banks ")
            .Append(string.Join(',', SpecId.DigestSizes.Select(d => PcrValues.BankName(d.Algorithm)))).ToString();
}
