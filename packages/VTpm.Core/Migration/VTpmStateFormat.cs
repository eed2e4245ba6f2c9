using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core;

/// <summary>
/// The neutral, versioned migration state format of a vTPM (Migration/README.md documents it
/// field by field): independent of any VMM, it carries the vTPM's seeds, hierarchies, PCR banks
/// and values, NV indices, persistent objects, counters and clock, and the VM it belongs to.
/// </summary>
public static class VTpmStateFormat
{
    /// <summary>The version this implementation writes.</summary>
    public const ushort CurrentVersion = 1;

    /// <summary>The oldest version this implementation reads; a destination refuses older ones (no downgrade).</summary>
    public const ushort MinimumVersion = 1;

    /// <summary>The section tag of the TPM state image (critical).</summary>
    internal const ushort TpmStateSection = 0x0001;

    /// <summary>The section tag of the vEK Name the source derived (optional, informative).</summary>
    internal const ushort EkNameSection = 0x8001;

    /// <summary>Tags with this bit set are optional: a reader that does not know them skips them.</summary>
    internal const ushort OptionalBit = 0x8000;

    private static readonly byte[] s_magic = "TSVTMIG1"u8.ToArray();

    /// <summary>Writes the format; the caller zeroes the result (it holds the seeds).</summary>
    internal static byte[] Encode(MigrationStatePayload payload, ushort version = CurrentVersion)
    {
        var w = new TpmWriter(payload.TpmState.Length + 128);
        w.WriteBytes(s_magic);
        w.WriteU16(version);
        WriteGuid(w, payload.VmId);
        w.WriteU8(payload.Live ? (byte)1 : (byte)0);
        w.WriteU8(checked((byte)payload.PcrBanks.Count));
        foreach (var bank in payload.PcrBanks)
        {
            w.WriteAlg(bank);
        }

        var sections = payload.EkName is null ? 1 : 2;
        w.WriteU16((ushort)sections);
        w.WriteU16(TpmStateSection);
        w.WriteU32((uint)payload.TpmState.Length);
        w.WriteBytes(payload.TpmState);
        if (payload.EkName is { } ek)
        {
            w.WriteU16(EkNameSection);
            w.WriteU32((uint)ek.Length);
            w.WriteBytes(ek);
        }

        var bytes = w.ToArray();
        w.Clear();
        return bytes;
    }

    /// <summary>Reads the format.</summary>
    /// <exception cref="FormatException">Not this format, an unsupported (older or newer) version, an unknown critical section, or malformed.</exception>
    internal static MigrationStatePayload Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < s_magic.Length + 2 || !bytes[..s_magic.Length].SequenceEqual(s_magic))
        {
            throw new FormatException("not a TrustStack vTPM migration state (bad magic)");
        }

        try
        {
            var r = new TpmReader(bytes[s_magic.Length..]);
            var version = r.ReadU16();
            if (version < MinimumVersion)
            {
                throw new FormatException($"state format version {version} is older than the minimum {MinimumVersion} (downgrade refused)");
            }

            if (version > CurrentVersion)
            {
                throw new FormatException($"state format version {version} is newer than {CurrentVersion}");
            }

            var vmId = ReadGuid(ref r);
            var live = r.ReadU8() switch
            {
                0 => false,
                1 => true,
                var f => throw new FormatException($"flags 0x{f:x2} are not defined"),
            };
            var bankCount = r.ReadU8();
            var banks = new List<TpmAlgId>();
            for (var i = 0; i < bankCount; i++)
            {
                banks.Add(r.ReadAlg());
            }

            byte[]? image = null;
            byte[]? ekName = null;
            var sectionCount = r.ReadU16();
            for (var i = 0; i < sectionCount; i++)
            {
                var tag = r.ReadU16();
                var length = r.ReadU32();
                if (length > r.Remaining)
                {
                    throw new FormatException($"section 0x{tag:x4} is truncated");
                }

                var body = r.ReadBytes((int)length);
                switch (tag)
                {
                    case TpmStateSection when image is null:
                        image = body.ToArray();
                        break;
                    case EkNameSection when ekName is null:
                        ekName = body.ToArray();
                        break;
                    case TpmStateSection or EkNameSection:
                        throw new FormatException($"section 0x{tag:x4} is repeated");
                    default:
                        if ((tag & OptionalBit) == 0)
                        {
                            throw new FormatException($"unknown critical section 0x{tag:x4}");
                        }

                        break;
                }
            }

            r.EnsureConsumed();
            return new MigrationStatePayload(vmId, live, banks, image ?? throw new FormatException("the TPM state section is missing"), ekName, version);
        }
        catch (TpmException e)
        {
            throw new FormatException($"malformed migration state: {e.Message}", e);
        }
    }

    internal static void WriteGuid(TpmWriter w, Guid id)
    {
        Span<byte> b = stackalloc byte[16];
        id.TryWriteBytes(b, bigEndian: true, out _);
        w.WriteBytes(b);
    }

    internal static Guid ReadGuid(ref TpmReader r) => new(r.ReadBytes(16), bigEndian: true);
}

/// <summary>The decoded migration state.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="Live">Whether the TPM state includes the reset data (PCRs): the destination resumes it with TPM2_Startup(STATE).</param>
/// <param name="PcrBanks">The vTPM's PCR banks.</param>
/// <param name="TpmState">The TPM state image (README: "TPM state section").</param>
/// <param name="EkName">The vEK Name at the source, or null.</param>
/// <param name="Version">The format version read or written.</param>
internal sealed record MigrationStatePayload(Guid VmId, bool Live, IReadOnlyList<TpmAlgId> PcrBanks, byte[] TpmState, byte[]? EkName, ushort Version = VTpmStateFormat.CurrentVersion);
