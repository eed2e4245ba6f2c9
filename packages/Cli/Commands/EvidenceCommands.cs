using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TrustStack.Evidence.Collector;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack evidence collect</c> (a collection round on this host: TPM-extended evidence log,
/// quote, sealed store) and <c>truststack evidence appraise</c> (the runtime-environment
/// decision). Appraise exit codes: 0 trusted, 1 untrusted, 2 unknown (or unusable input).
/// Collect exits 0, or 2 with the reason on standard error.
/// </summary>
internal static class EvidenceCommands
{
    /// <summary>Exit code of a trusted decision (and of a successful collection).</summary>
    public const int Trusted = 0;

    /// <summary>Exit code of an untrusted decision.</summary>
    public const int Untrusted = 1;

    /// <summary>Exit code of an unknown decision, and of unusable input.</summary>
    public const int Unknown = 2;

    private static readonly JsonSerializerOptions ConfigJson = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>The <c>evidence</c> command with <c>collect</c> and <c>appraise</c>.</summary>
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config", "-c") { Description = "Collector configuration (JSON, the EvidenceCollectorOptions shape; see the Evidence.Collector README).", HelpName = "FILE" };
        var output = new Option<DirectoryInfo?>("--out", "-o") { Description = "(required) Report directory to write.", HelpName = "DIR" };
        var tpm = new Option<string>("--tpm") { Description = "The TPM: embedded | swtpm:host=H,port=P | mssim:host=H,port=P | device:/dev/tpmrm0.", DefaultValueFactory = _ => "embedded", HelpName = "SPEC" };
        var state = new Option<DirectoryInfo?>("--state") { Description = "State folder of the embedded TPM, so its AK (an endorsement primary) stays the same between runs.", HelpName = "DIR" };
        var nonce = new Option<string?>("--nonce", "-q") { Description = "The verifier's nonce (hex, at most 64 octets); default: 32 random octets, recorded in report.json.", HelpName = "HEX" };
        var noStore = new Option<bool>("--no-store") { Description = "Do not write the TPM-sealed evidence store (DIR/store)." };
        var collect = new Command("collect", "Measure the agent, collect runtime evidence on this host, extend it into the evidence PCR, quote it, and write a report.")
        {
            config, output, tpm, state, nonce, noStore,
        };
        collect.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                return await CollectAsync(
                    parseResult.GetValue(config),
                    parseResult.GetValue(output) ?? throw new UsageException("--out is required"),
                    parseResult.GetValue(tpm) ?? "embedded",
                    parseResult.GetValue(state),
                    parseResult.GetValue(nonce),
                    !parseResult.GetValue(noStore),
                    parseResult.InvocationConfiguration.Output,
                    error,
                    cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is UsageException or IOException or UnauthorizedAccessException or FormatException or ArgumentException or TpmException or JsonException or System.Net.Sockets.SocketException)
            {
                await error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return Unknown;
            }
        });

        var report = new Option<DirectoryInfo?>("--report", "-r") { Description = "(required) Report directory from 'evidence collect'.", HelpName = "DIR" };
        var policy = new Option<FileInfo?>("--policy", "-p") { Description = "(required) Appraisal policy (JSON: our format or a Keylime runtime policy).", HelpName = "FILE" };
        var appraiseNonce = new Option<string?>("--nonce", "-q") { Description = "The nonce the verifier sent (hex). Without it freshness is not proven.", HelpName = "HEX" };
        var appraise = new Command("appraise", "Judge a report: p_tpm, p_software-configuration, p_behavior and the combined decision. Exit 0 trusted, 1 untrusted, 2 unknown.")
        {
            report, policy, appraiseNonce,
        };
        appraise.SetAction(parseResult =>
        {
            var outputWriter = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var reportDir = parseResult.GetValue(report) ?? throw new UsageException("--report is required");
                var policyFile = parseResult.GetValue(policy) ?? throw new UsageException("--policy is required");
                var expected = parseResult.GetValue(appraiseNonce) is { } hex ? ParseHex(hex) : null;
                var loaded = EvidenceReport.Read(reportDir.FullName);
                var result = EvidenceAppraiser.Appraise(loaded, AppraisalPolicy.Load(policyFile.FullName), expected);
                outputWriter.Write(result.ToText());
                return result.Decision switch
                {
                    Verdict.Trusted => Trusted,
                    Verdict.Untrusted => Untrusted,
                    _ => Unknown,
                };
            }
            catch (Exception e) when (e is UsageException or IOException or UnauthorizedAccessException or FormatException or ArgumentException)
            {
                error.WriteLine($"error: {e.Message}");
                return Unknown;
            }
        });

        return new Command("evidence", "Runtime evidence: collect on this host, appraise a report.") { collect, appraise };
    }

    internal static async Task<int> CollectAsync(FileInfo? configFile, DirectoryInfo outDir, string tpmSpec, DirectoryInfo? state, string? nonceHex, bool writeStore, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var loaded = new EvidenceCollectorOptions();
        if (configFile is not null)
        {
            loaded = JsonSerializer.Deserialize<EvidenceCollectorOptions>(await File.ReadAllTextAsync(configFile.FullName, cancellationToken).ConfigureAwait(false), ConfigJson)
                ?? throw new FormatException($"{configFile.Name} is empty");
            loaded.ConfigurationFile = configFile.FullName;
        }

        loaded.Validate();
        var nonce = nonceHex is null ? RandomNumberGenerator.GetBytes(32) : ParseHex(nonceHex);
        if (nonce.Length > 64)
        {
            throw new UsageException("--nonce has more than 64 octets");
        }

        var spec = TpmTransportSpec.Parse(tpmSpec);
        if (state is not null)
        {
            if (spec.Kind != "embedded")
            {
                throw new UsageException("--state applies to the embedded TPM only");
            }

            spec = spec with { Settings = new Dictionary<string, string>(spec.Settings) { ["state"] = state.FullName } };
        }
        else if (spec.Kind == "embedded" && !spec.Settings.ContainsKey("state"))
        {
            await error.WriteLineAsync("[evidence] warning: embedded TPM without --state: its AK will differ on the next run").ConfigureAwait(false);
        }

        var services = new ServiceCollection();
        services.AddEvidenceCollector(o => Copy(loaded, o));
        await using var provider = services.BuildServiceProvider();
        var collector = provider.GetRequiredService<EvidenceCollector>();
        var progress = new Progress(error);
        progress.Report($"TPM {spec}; evidence PCR {loaded.EvidencePcr} ({loaded.EvidenceBank}); {collector.Sources.Count} sources");
        using var evidenceTpm = new EvidenceTpm(new Tpm2(spec.Open(), ownsTransport: true), ownsClient: true);
        var report = await collector.RunAsync(evidenceTpm, nonce, progress, cancellationToken).ConfigureAwait(false);
        report.Write(outDir.FullName);
        progress.Report($"report written to {outDir.FullName}");
        if (writeStore)
        {
            var content = new MemoryStream();
            content.Write(report.Log);
            EvidenceStore.Write(evidenceTpm, Path.Combine(outDir.FullName, "store"), content.ToArray(), PcrSelectionList.Parse(loaded.SealPcrs), SystemRandomSource.Instance);
            progress.Report($"evidence sealed at rest in {Path.Combine(outDir.FullName, "store")} (key sealed to {loaded.SealPcrs})");
        }

        await output.WriteLineAsync($"report: {outDir.FullName}").ConfigureAwait(false);
        await output.WriteLineAsync($"records: {report.Manifest.Records}").ConfigureAwait(false);
        await output.WriteLineAsync($"nonce: {report.Manifest.Nonce}").ConfigureAwait(false);
        await output.WriteLineAsync($"ak-name: {report.Manifest.AkName}").ConfigureAwait(false);
        return Trusted;
    }

    private static void Copy(EvidenceCollectorOptions from, EvidenceCollectorOptions to)
    {
        to.Enabled = from.Enabled;
        to.ProcRoot = from.ProcRoot;
        to.EvidencePcr = from.EvidencePcr;
        to.EvidenceBank = from.EvidenceBank;
        to.ResetEvidencePcr = from.ResetEvidencePcr;
        to.Files = from.Files;
        to.PolicyFiles = from.PolicyFiles;
        to.PolicyValues = from.PolicyValues;
        to.Sysctls = from.Sysctls;
        to.ImaMeasurementList = from.ImaMeasurementList;
        to.HashProcessExecutables = from.HashProcessExecutables;
        to.HashConcurrency = from.HashConcurrency;
        to.SealPcrs = from.SealPcrs;
        to.AgentFiles = from.AgentFiles;
        to.ConfigurationFile = from.ConfigurationFile;
    }

    private static byte[] ParseHex(string hex)
    {
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new UsageException($"--nonce '{hex}' is not hex");
        }
    }

    private sealed class Progress(TextWriter error) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (error)
            {
                error.WriteLine("[evidence] " + value);
            }
        }
    }

    private sealed class UsageException(string message) : Exception(message);
}
