using System.Text;
using TrustStack.Tests.Shared;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Tests;

/// <summary><c>truststack eventlog replay</c> and <c>truststack ima replay</c>.</summary>
public sealed class EventLogCommandsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("truststack-cli-log-").FullName;

    [Fact]
    public void EventlogReplay_WriterLog_PrintsExactlyWhatTpm2EventlogPrints()
    {
        byte[] separator = [0, 0, 0, 0];
        var writer = new TcgEventLogWriter(TpmAlgId.Sha1, TpmAlgId.Sha256)
            .AddEvent(0, TcgEventType.SCrtmVersion, "1.0\0"u8)
            .AddEvent(1, TcgEventType.PostCode, "ACPI DATA"u8)
            .AddEvent(4, TcgEventType.EfiAction, "Calling EFI Application from Boot Option"u8)
            .AddEvent(12, TcgEventType.Ipl, "quiet splash"u8);
        for (uint pcr = 0; pcr <= 7; pcr++)
        {
            writer.AddEvent(pcr, TcgEventType.Separator, separator);
        }

        var path = Write("log.bin", writer.ToArray());

        var (code, output, error) = QuoteVerifyCommandTests.Invoke("eventlog", "replay", path);
        var tool = RunTpm2Eventlog(path);

        Assert.True(code == 0, error);
        Assert.Equal(tool[tool.IndexOf("pcrs:", StringComparison.Ordinal)..], output);
    }

    [Fact]
    public void EventlogReplay_TruncatedLog_ExitsTwoNamingTheOffset()
    {
        var log = new TcgEventLogWriter(TpmAlgId.Sha256).AddEvent(0, TcgEventType.PostCode, "x"u8).ToArray();
        var path = Write("truncated.bin", log[..^3]);

        var (code, output, error) = QuoteVerifyCommandTests.Invoke("eventlog", "replay", path);

        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains("is malformed", error, StringComparison.Ordinal);
        Assert.Contains("at offset", error, StringComparison.Ordinal);
    }

    [Fact]
    public void EventlogReplay_MissingFile_ExitsTwo()
    {
        var (code, _, error) = QuoteVerifyCommandTests.Invoke("eventlog", "replay", Path.Combine(_directory, "absent.bin"));

        Assert.Equal(2, code);
        Assert.Contains("absent.bin", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ImaReplay_AsciiAndBinary_PrintTheSameBanks()
    {
        var writer = new ImaLogWriter()
            .AddImaNg("boot_aggregate", "sha256", new byte[32])
            .AddImaSig("/usr/bin/bash", "sha256", Enumerable.Repeat((byte)7, 32).ToArray(), [3, 2, 1]);
        var ascii = Write("ascii_runtime_measurements", Encoding.UTF8.GetBytes(writer.ToAscii()));
        var binary = Write("binary_runtime_measurements", writer.ToBinary());

        var fromAscii = QuoteVerifyCommandTests.Invoke("ima", "replay", ascii, "--format", "ascii");
        var fromBinary = QuoteVerifyCommandTests.Invoke("ima", "replay", binary);

        Assert.Equal(0, fromAscii.ExitCode);
        Assert.Equal(0, fromBinary.ExitCode);
        Assert.Equal(fromBinary.Output, fromAscii.Output);
        var expected = ImaLog.ParseBinary(writer.ToBinary()).Replay();
        Assert.Equal(
            $"pcrs:\n  sha1:\n    10 : 0x{Convert.ToHexStringLower(expected[TpmAlgId.Sha1, 10])}\n  sha256:\n    10 : 0x{Convert.ToHexStringLower(expected[TpmAlgId.Sha256, 10])}\n",
            fromAscii.Output);
    }

    [Fact]
    public void ImaReplay_TamperedAsciiName_WarnsOnStderr()
    {
        var ascii = new ImaLogWriter().AddImaNg("/etc/passwd", "sha256", new byte[32]).ToAscii().Replace("passwd", "shadow", StringComparison.Ordinal);
        var path = Write("tampered", Encoding.UTF8.GetBytes(ascii));

        var (code, _, error) = QuoteVerifyCommandTests.Invoke("ima", "replay", path);

        Assert.Equal(0, code);
        Assert.Contains("1 of 1 entries", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ImaReplay_BinaryForcedAsAscii_ExitsTwo()
    {
        var path = Write("binary", new ImaLogWriter().AddImaNg("/a", "sha256", new byte[32]).ToBinary());

        var (code, _, error) = QuoteVerifyCommandTests.Invoke("ima", "replay", path, "--format", "ascii");

        Assert.Equal(2, code);
        Assert.Contains("is malformed", error, StringComparison.Ordinal);
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

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string RunTpm2Eventlog(string path) => PeerTools.RunChecked("tpm2_eventlog", [path]);
}
