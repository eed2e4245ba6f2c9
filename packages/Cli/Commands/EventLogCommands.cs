using System.CommandLine;
using System.Globalization;
using System.Text;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack eventlog replay FILE</c> and <c>truststack ima replay FILE</c>: replay a
/// measurement log into the PCR values it implies and print them as tpm2_eventlog prints its
/// <c>pcrs:</c> section. Exit codes: 0 replayed, 2 the file is missing or malformed (the message
/// says where).
/// </summary>
internal static class EventLogCommands
{
    /// <summary>Exit code of unusable input.</summary>
    public const int UnusableInput = 2;

    /// <summary>The <c>eventlog</c> command (TCG PC Client crypto-agile log).</summary>
    public static Command CreateEventLogCommand()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The log, e.g. /sys/kernel/security/tpm0/binary_bios_measurements." };
        var replay = new Command("replay", "Replay a TCG crypto-agile event log into PCR values per bank.") { file };
        replay.SetAction(parseResult => Run(parseResult, parseResult.GetValue(file), bytes => TcgEventLog.Parse(bytes).Replay(), _ => null));
        return new Command("eventlog", "TCG PC Client event logs (binary_bios_measurements).") { replay };
    }

    /// <summary>The <c>ima</c> command (Linux IMA measurement list).</summary>
    public static Command CreateImaCommand()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The list, e.g. /sys/kernel/security/ima/ascii_runtime_measurements." };
        var format = new Option<string>("--format") { Description = "The list's form.", DefaultValueFactory = _ => "auto" };
        format.AcceptOnlyFromAmong("auto", "ascii", "binary");
        var replay = new Command("replay", "Replay an IMA measurement list (ima, ima-ng, ima-sig) into the SHA-1 and SHA-256 banks.") { file, format };
        replay.SetAction(parseResult =>
        {
            var form = parseResult.GetValue(format) switch
            {
                "ascii" => ImaLogFormat.Ascii,
                "binary" => ImaLogFormat.Binary,
                _ => ImaLogFormat.Auto,
            };
            ImaLog? list = null;
            return Run(
                parseResult,
                parseResult.GetValue(file),
                bytes => (list = ImaLog.Parse(bytes, form)).Replay(),
                _ =>
                {
                    var mismatched = list!.Events.Count(e => !e.IsViolation && !e.TemplateHashMatches);
                    return mismatched == 0 ? null : $"warning: {mismatched} of {list.Events.Count} entries have a template hash that is not the SHA-1 of their template data";
                });
        });
        return new Command("ima", "Linux IMA measurement lists.") { replay };
    }

    /// <summary>The values in tpm2_eventlog's layout: <c>pcrs:</c>, a line per bank, <c>    N  : 0x…</c> per PCR.</summary>
    internal static string FormatPcrs(PcrValues values)
    {
        var text = new StringBuilder("pcrs:\n");
        foreach (var bank in values.Banks)
        {
            text.Append("  ").Append(PcrValues.BankName(bank)).Append(":\n");
            foreach (var pcr in values.PcrsIn(bank))
            {
                text.Append(CultureInfo.InvariantCulture, $"    {pcr,-2} : 0x{Convert.ToHexStringLower(values[bank, pcr])}\n");
            }
        }

        return text.ToString();
    }

    private static int Run(ParseResult parseResult, FileInfo? file, Func<byte[], PcrValues> replay, Func<PcrValues, string?> warning)
    {
        var output = parseResult.InvocationConfiguration.Output;
        var error = parseResult.InvocationConfiguration.Error;
        if (file is null)
        {
            error.WriteLine("error: FILE is required.");
            return UnusableInput;
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {file.FullName}: {e.Message}");
            return UnusableInput;
        }

        try
        {
            var values = replay(bytes);
            output.Write(FormatPcrs(values));
            if (warning(values) is { } text)
            {
                error.WriteLine(text);
            }

            return 0;
        }
        catch (EventLogFormatException e)
        {
            error.WriteLine($"error: {file.FullName} is malformed: {e.Message}");
            return UnusableInput;
        }
    }
}
