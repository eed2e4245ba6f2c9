using System.Globalization;
using System.Text.RegularExpressions;
using TrustStack.Tests.Shared;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

/// <summary>Logs written by <see cref="TcgEventLogWriter"/>, replayed by us and by tpm2_eventlog.</summary>
public sealed partial class TcgEventLogInteropTests : IDisposable
{
    private static readonly byte[] Separator = [0, 0, 0, 0];
    private readonly string _directory = Directory.CreateTempSubdirectory("truststack-eventlog-").FullName;

    [Fact]
    public void Replay_ThreeBanksManyEventTypes_MatchesTpm2Eventlog()
    {
        var blob = new byte[16]; // UEFI_PLATFORM_FIRMWARE_BLOB: base and length
        blob[0] = 0x10;
        blob[8] = 0x20;
        var writer = new TcgEventLogWriter(TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384)
            .AddEvent(0, TcgEventType.SCrtmVersion, "1.0\0"u8)
            .AddMeasurement(0, TcgEventType.EfiPlatformFirmwareBlob, "firmware volume"u8, blob)
            .AddEvent(1, TcgEventType.PostCode, "ACPI DATA"u8)
            .AddEvent(2, TcgEventType.CompactHash, "compact"u8)
            .AddEvent(4, TcgEventType.EfiAction, "Calling EFI Application from Boot Option"u8)
            .AddEvent(5, TcgEventType.EventTag, "tag"u8)
            .AddEvent(7, TcgEventType.EfiAction, "Exit Boot Services Invocation"u8);
        for (uint pcr = 0; pcr <= 7; pcr++)
        {
            writer.AddEvent(pcr, TcgEventType.Separator, Separator);
        }

        writer.AddEvent(8, TcgEventType.Ipl, "grub_cmd: linux /vmlinuz\0"u8)
            .AddEvent(9, TcgEventType.Ipl, "/boot/vmlinuz\0"u8)
            .AddEvent(14, TcgEventType.Ipl, "MokList\0"u8)
            .AddEvent(23, TcgEventType.PostCode, "application"u8);

        var ours = TcgEventLog.Parse(writer.ToArray()).Replay();
        var theirs = RunTpm2Eventlog(writer.ToArray());

        Assert.Equal(Describe(theirs), Describe(ours));
        Assert.Equal(3, ours.Banks.Count);
        Assert.Equal(12, ours.PcrsIn(TpmAlgId.Sha384).Count);
    }

    [Fact]
    public void Replay_StartupLocalityLog_AgreesWithTpm2EventlogExceptItsKnownPcr0Behaviour()
    {
        var log = TcgEventLogTests.SmallLog();
        var ours = TcgEventLog.Parse(log).Replay();
        var theirs = RunTpm2Eventlog(log);

        if (Tpm2ToolsVersion() >= new Version(5, 6))
        {
            // tpm2-tools 5.6 skips EV_NO_ACTION and applies StartupLocality (commits 9735dc33, 576a31bc).
            Assert.Equal(Describe(theirs), Describe(ours));
            return;
        }

        // tpm2-tools before 5.6 extends the EV_NO_ACTION zero digest into PCR 0 and ignores the locality.
        // Everything else agrees; PCR 0 is what that behaviour gives, and ours is what the spec gives.
        foreach (var bank in ours.Banks)
        {
            Assert.Equal(ours[bank, 4], theirs[bank, 4]);
            var buggy = new byte[TpmHash.DigestSize(bank)];
            foreach (var e in TcgEventLog.Parse(log).Events.Where(e => e.PcrIndex == 0))
            {
                buggy = TpmHash.Extend(bank, buggy, e.DigestFor(bank)!);
            }

            Assert.Equal(buggy, theirs[bank, 0]);
            Assert.NotEqual(buggy, ours[bank, 0]);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    /// <summary>Reads the <c>pcrs:</c> section of tpm2_eventlog's YAML.</summary>
    internal static PcrValues ParsePcrsSection(string yaml)
    {
        var values = PcrValues.Empty;
        var inPcrs = false;
        TpmAlgId? bank = null;
        foreach (var line in yaml.Split('\n'))
        {
            if (line.StartsWith("pcrs:", StringComparison.Ordinal))
            {
                inPcrs = true;
                continue;
            }

            if (!inPcrs)
            {
                continue;
            }

            var bankMatch = BankLine().Match(line);
            if (bankMatch.Success)
            {
                bank = bankMatch.Groups[1].Value switch
                {
                    "sha1" => TpmAlgId.Sha1,
                    "sha256" => TpmAlgId.Sha256,
                    "sha384" => TpmAlgId.Sha384,
                    "sha512" => TpmAlgId.Sha512,
                    var other => throw new InvalidOperationException($"Unexpected bank {other}"),
                };
                continue;
            }

            var pcrMatch = PcrLine().Match(line);
            if (pcrMatch.Success && bank is not null)
            {
                values = values.With(bank.Value, int.Parse(pcrMatch.Groups[1].Value, CultureInfo.InvariantCulture), Convert.FromHexString(pcrMatch.Groups[2].Value));
            }
        }

        return values;
    }

    private PcrValues RunTpm2Eventlog(byte[] log)
    {
        var path = Path.Combine(_directory, $"log-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(path, log);
        var (code, output, error) = PeerTools.Run("tpm2_eventlog", [path], workingDirectory: _directory);
        Assert.True(code == 0, $"tpm2_eventlog failed ({code}): {error}");
        return ParsePcrsSection(output);
    }

    private Version Tpm2ToolsVersion()
    {
        var (_, output, _) = PeerTools.Run("tpm2_eventlog", ["--version"], workingDirectory: _directory);
        var match = Regex.Match(output, "version=\"(\\d+)\\.(\\d+)");
        Assert.True(match.Success, $"Cannot read the version from '{output}'");
        return new Version(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    private static string Describe(PcrValues values) => values.ToString();

    [GeneratedRegex("^  (sha1|sha256|sha384|sha512|sm3_256):\\s*$")]
    private static partial Regex BankLine();

    [GeneratedRegex("^    (\\d+)\\s*: 0x([0-9A-Fa-f]+)\\s*$")]
    private static partial Regex PcrLine();
}
