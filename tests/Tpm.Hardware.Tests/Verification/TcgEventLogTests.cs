using System.Buffers.Binary;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Xunit;
using Snapshooter.Xunit;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

public sealed class TcgEventLogTests
{
    private static readonly byte[] Separator = [0, 0, 0, 0];

    [Fact]
    public void Parse_WriterOutput_GivesTheSpecIdAndEveryEvent()
    {
        var log = TcgEventLog.Parse(SmallLog());

        Assert.Equal([TpmAlgId.Sha1, TpmAlgId.Sha256], log.SpecId.DigestSizes.Select(d => d.Algorithm));
        Assert.Equal([(ushort)20, (ushort)32], log.SpecId.DigestSizes.Select(d => d.DigestSize));
        Assert.Equal(2, log.SpecId.SpecVersionMajor);
        Assert.Equal(2, log.SpecId.UintnSize);
        Assert.Equal(
            [TcgEventType.NoAction, TcgEventType.SCrtmVersion, TcgEventType.PostCode, TcgEventType.Separator, TcgEventType.EfiAction, TcgEventType.Separator],
            log.Events.Select(e => e.EventType));
        Assert.Equal((byte)3, log.Events[0].StartupLocality);
        Assert.Null(log.Events[1].StartupLocality);
        Assert.Equal(SHA256.HashData("UEFI 2.70"u8), log.Events[1].DigestFor(TpmAlgId.Sha256));
    }

    [Fact]
    public void Replay_StartupLocalityAndNoAction_FollowsThePcClientSpec()
    {
        var pcrs = TcgEventLog.Parse(SmallLog()).Replay();

        // PCR 0 starts at 0...03 (StartupLocality 3); the EV_NO_ACTION event itself is not extended.
        var pcr0 = new byte[32];
        pcr0[^1] = 3;
        pcr0 = SHA256.HashData([.. pcr0, .. SHA256.HashData("UEFI 2.70"u8)]);
        pcr0 = SHA256.HashData([.. pcr0, .. SHA256.HashData("POST CODE"u8)]);
        pcr0 = SHA256.HashData([.. pcr0, .. SHA256.HashData(Separator)]);
        var pcr4 = SHA256.HashData([.. new byte[32], .. SHA256.HashData("Calling EFI Application from Boot Option"u8)]);
        pcr4 = SHA256.HashData([.. pcr4, .. SHA256.HashData(Separator)]);

        Assert.Equal(pcr0, pcrs[TpmAlgId.Sha256, 0]);
        Assert.Equal(pcr4, pcrs[TpmAlgId.Sha256, 4]);
        Assert.Equal([0, 4], pcrs.PcrsIn(TpmAlgId.Sha1));
        Assert.Equal([TpmAlgId.Sha1, TpmAlgId.Sha256], pcrs.Banks);
    }

    [Fact]
    public void Replay_NoStartupLocality_StartsAtZero()
    {
        var log = new TcgEventLogWriter(TpmAlgId.Sha256).AddEvent(0, TcgEventType.Separator, Separator).ToArray();

        var pcrs = TcgEventLog.Parse(log).Replay();

        Assert.Equal(SHA256.HashData([.. new byte[32], .. SHA256.HashData(Separator)]), pcrs[TpmAlgId.Sha256, 0]);
    }

    [Fact]
    public void Replay_HcrtmEvent_StartsPcr0AtLocality4()
    {
        var log = new TcgEventLogWriter(TpmAlgId.Sha256).AddEvent(0, TcgEventType.EfiHcrtmEvent, "HCRTM"u8).ToArray();
        var start = new byte[32];
        start[^1] = 4;

        var pcrs = TcgEventLog.Parse(log).Replay();

        Assert.Equal(SHA256.HashData([.. start, .. SHA256.HashData("HCRTM"u8)]), pcrs[TpmAlgId.Sha256, 0]);
    }

    [Fact]
    public void Replay_UnsupportedBankInSpecId_IsSkipped()
    {
        // SM3_256 (0x0012) is listed with its size, parsed, and left out of the replay.
        var log = new TcgEventLogWriter(TpmAlgId.Sha256).AddEvent(1, TcgEventType.PostCode, "x"u8).ToArray();
        var withSm3 = AddBank(log, 0x0012, 32);

        var parsed = TcgEventLog.Parse(withSm3);

        Assert.Equal(32, parsed.Events[0].DigestFor((TpmAlgId)0x0012)!.Length);
        Assert.Equal([TpmAlgId.Sha256], parsed.Replay().Banks);
    }

    [Fact]
    public void Parse_Sha1FormatLog_ThrowsNotCryptoAgile()
    {
        // A TCG 1.2 log starts with a real measurement, not the Spec ID event.
        var log = new byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(log.AsSpan(4), (uint)TcgEventType.SCrtmVersion);

        var e = Assert.Throws<EventLogFormatException>(() => TcgEventLog.Parse(log));

        Assert.Contains("crypto-agile", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, e.Offset);
    }

    [Fact]
    public void Parse_DigestAlgorithmNotInSpecId_ThrowsWithOffset()
    {
        var log = new TcgEventLogWriter(TpmAlgId.Sha256).AddEvent(1, TcgEventType.PostCode, "x"u8).ToArray();
        var firstEvent = log.Length - (4 + 4 + 4 + 2 + 32 + 4 + 1);
        BinaryPrimitives.WriteUInt16LittleEndian(log.AsSpan(firstEvent + 12), (ushort)TpmAlgId.Sha384);

        var e = Assert.Throws<EventLogFormatException>(() => TcgEventLog.Parse(log));

        Assert.Equal(firstEvent + 12, e.Offset);
    }

    [Fact]
    public void Parse_EventSizeBeyondTheEnd_ThrowsWithOffset()
    {
        var log = new TcgEventLogWriter(TpmAlgId.Sha256).AddEvent(1, TcgEventType.PostCode, "x"u8).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(log.AsSpan(log.Length - 5), 0xFFFFFFF0);

        var e = Assert.Throws<EventLogFormatException>(() => TcgEventLog.Parse(log));

        Assert.Equal(log.Length - 5, e.Offset);
    }

    [Fact]
    public void Parse_EveryTruncation_ThrowsOnlyEventLogFormatException()
    {
        var log = SmallLog();
        var boundaries = new HashSet<int> { log.Length };
        var parsed = TcgEventLog.Parse(log);
        foreach (var e in parsed.Events)
        {
            boundaries.Add((int)e.Offset);
        }

        for (var length = 0; length < log.Length; length++)
        {
            if (boundaries.Contains(length))
            {
                Assert.Equal(parsed.Events.Count(e => e.Offset < length), TcgEventLog.Parse(log.AsSpan(0, length)).Events.Count);
            }
            else
            {
                Assert.Throws<EventLogFormatException>(() => TcgEventLog.Parse(log.AsSpan(0, length)));
            }
        }
    }

    [Property(MaxTest = 500)]
    public void Parse_AnyMutation_ParsesOrThrowsEventLogFormatException(NonNegativeInt position, byte value, NonNegativeInt second, byte secondValue)
    {
        var log = SmallLog();
        log[position.Get % log.Length] = value;
        log[second.Get % log.Length] = secondValue;

        try
        {
            TcgEventLog.Parse(log).Replay();
        }
        catch (EventLogFormatException)
        {
            // The one typed error.
        }
    }

    [Property(MaxTest = 200)]
    public void Parse_AnyOctets_ParsesOrThrowsEventLogFormatException(byte[] octets)
    {
        try
        {
            // The Spec ID header, then random octets as events.
            var log = SmallLog();
            TcgEventLog.Parse([.. log[..(int)TcgEventLog.Parse(log).Events[0].Offset], .. octets]);
        }
        catch (EventLogFormatException)
        {
            // The one typed error.
        }
    }

    [Fact]
    public void Parse_SmallLog_MatchesSnapshot()
    {
        var log = TcgEventLog.Parse(SmallLog());

        Snapshot.Match(new
        {
            log.SpecId.PlatformClass,
            SpecVersion = $"{log.SpecId.SpecVersionMajor}.{log.SpecId.SpecVersionMinor} errata {log.SpecId.SpecErrata}",
            log.SpecId.UintnSize,
            DigestSizes = log.SpecId.DigestSizes.Select(d => $"{d.Algorithm}={d.DigestSize}"),
            Events = log.Events.Select(e => new
            {
                e.Offset,
                e.PcrIndex,
                EventType = e.EventType.ToString(),
                Digests = e.Digests.Select(d => $"{d.HashAlg}:{Convert.ToHexStringLower(d.Digest)}"),
                EventData = Convert.ToHexStringLower(e.EventData),
            }),
            Replay = log.Replay().ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries),
        });
    }

    internal static byte[] SmallLog() => new TcgEventLogWriter(TpmAlgId.Sha1, TpmAlgId.Sha256)
        .AddStartupLocality(3)
        .AddEvent(0, TcgEventType.SCrtmVersion, "UEFI 2.70"u8)
        .AddEvent(0, TcgEventType.PostCode, "POST CODE"u8)
        .AddEvent(0, TcgEventType.Separator, Separator)
        .AddEvent(4, TcgEventType.EfiAction, "Calling EFI Application from Boot Option"u8)
        .AddEvent(4, TcgEventType.Separator, Separator)
        .ToArray();

    /// <summary>Adds a bank to a single-bank writer log: patches the Spec ID table and appends a digest to each event.</summary>
    private static byte[] AddBank(byte[] log, ushort algorithm, ushort size)
    {
        var parsed = TcgEventLog.Parse(log);
        var header = new List<byte>();
        var specData = parsed.Header.EventData.ToList();
        var tableEnd = 16 + 4 + 4 + 4 + (4 * parsed.SpecId.DigestSizes.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(specData)[24..], (uint)parsed.SpecId.DigestSizes.Count + 1);
        specData.InsertRange(tableEnd, [(byte)algorithm, (byte)(algorithm >> 8), (byte)size, (byte)(size >> 8)]);
        header.AddRange(log[..8]);
        header.AddRange(new byte[20]);
        header.AddRange(BitConverter.GetBytes(specData.Count));
        header.AddRange(specData);
        foreach (var e in parsed.Events)
        {
            header.AddRange(BitConverter.GetBytes(e.PcrIndex));
            header.AddRange(BitConverter.GetBytes((uint)e.EventType));
            header.AddRange(BitConverter.GetBytes(e.Digests.Count + 1));
            foreach (var d in e.Digests)
            {
                header.AddRange(BitConverter.GetBytes((ushort)d.HashAlg));
                header.AddRange(d.Digest);
            }

            header.AddRange(BitConverter.GetBytes(algorithm));
            header.AddRange(Enumerable.Repeat((byte)0x5A, size));
            header.AddRange(BitConverter.GetBytes(e.EventData.Length));
            header.AddRange(e.EventData);
        }

        return [.. header];
    }
}
