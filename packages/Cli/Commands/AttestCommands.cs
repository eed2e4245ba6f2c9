using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using TrustStack.Attestation.TvpPca;
using TrustStack.Certs.Vmek;
using TrustStack.Tpm.Hardware;
using TrustStack.VTpm.Core;

namespace TrustStack.Cli.Commands;

/// <summary>
/// <c>truststack attest serve</c> runs a TVP-PCA demo platform (hardware TPM, VMEK, N VMs) with its
/// Privacy CA and serves it on 127.0.0.1 until Ctrl-C or SIGTERM; <c>truststack attest challenge</c>
/// attests one VM top-down over the network and prints the decision with every reason.
/// </summary>
internal static class AttestCommands
{
    /// <summary>Exit code: the VM is trusted (or the server stopped cleanly).</summary>
    public const int Trusted = 0;

    /// <summary>Exit code: an error (unreachable host, unusable options, a refused request).</summary>
    public const int Error = 1;

    /// <summary>Exit code: the VM is untrusted.</summary>
    public const int Untrusted = 2;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The <c>attest</c> command with <c>serve</c> and <c>challenge</c>.</summary>
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1; 0 (default) picks a free one.", DefaultValueFactory = _ => 0, HelpName = "P" };
        var vms = new Option<int>("--vms") { Description = "Number of VMs (each with a vTPM and an attestation agent).", DefaultValueFactory = _ => 3, HelpName = "N" };
        var seed = new Option<ulong?>("--seed") { Description = "Deterministic mode: seeds the TPMs, CAs and VM UUIDs (same seed, same platform). Default: OS randomness.", HelpName = "N" };
        var pcaOut = new Option<FileInfo?>("--pca-cert-out") { Description = "Where to write the Privacy CA certificate (PEM) a challenger trusts. Default: a file in the temp folder.", HelpName = "FILE" };
        var tamper = new Option<int[]>("--tamper-vm") { Description = "Boot a tampered guest kernel in the VM of this index (0-based; repeatable): it attests untrusted.", HelpName = "INDEX", AllowMultipleArgumentsPerToken = false };
        var referencesOut = new Option<FileInfo?>("--references-out") { Description = "Where to write the served platform's reference values (JSON, truststack.tvpqt-references/1) a challenger passes to --references. Default: a file in the temp folder.", HelpName = "FILE" };
        var serve = new Command("serve", "Run a TVP-PCA platform (hardware TPM, VMEK, VMs with vTPMs) and its Privacy CA, served over HTTP on 127.0.0.1 until Ctrl-C.")
        {
            port, vms, seed, pcaOut, tamper, referencesOut,
        };
        serve.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new ServeSettings(
                parseResult.GetValue(port),
                parseResult.GetValue(vms),
                parseResult.GetValue(seed),
                parseResult.GetValue(pcaOut)?.FullName,
                parseResult.GetValue(tamper) ?? [])
            {
                ReferencesFile = parseResult.GetValue(referencesOut)?.FullName,
            };
            return await ServeAsync(settings, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, null, cancellationToken).ConfigureAwait(false);
        });

        var vm = new Option<string>("--vm") { Description = "The VM's UUID.", Required = true, HelpName = "UUID" };
        var host = new Option<string>("--host") { Description = "The host's URL (attestation agents and service), e.g. http://127.0.0.1:5000.", Required = true, HelpName = "URL" };
        var pca = new Option<string?>("--pca") { Description = "The Privacy CA's URL (endorsement queries, CRL). Default: the host's URL.", HelpName = "URL" };
        var trust = new Option<FileInfo>("--trust-pca") { Description = "The Privacy CA certificate to trust (PEM or DER), e.g. what attest serve wrote.", Required = true, HelpName = "FILE" };
        var references = new Option<FileInfo?>("--references") { Description = "The reference values to trust (JSON, truststack.tvpqt-references/1), e.g. what attest serve --references-out wrote. Required: there is no default.", HelpName = "FILE" };
        var pcrs = new Option<string?>("--pcrs") { Description = $"The vPCR selection the agent must quote. Default {TopChallenge.DefaultPcrs.ToString().ToLowerInvariant()}.", HelpName = "sha256:0,1,..." };
        var format = new Option<string>("--format") { Description = "Output format.", DefaultValueFactory = _ => "text", HelpName = "text|json" };
        format.AcceptOnlyFromAmong("text", "json");
        var timeout = new Option<double>("--timeout") { Description = "Seconds each request (agent, service, Privacy CA) may take before the challenge fails. Default 30.", DefaultValueFactory = _ => TvpPcaRoutes.DefaultTimeout.TotalSeconds, HelpName = "SECONDS" };
        var challenge = new Command("challenge", "Attest one VM top-down over the network: exit 0 trusted, 2 untrusted, 1 error.")
        {
            vm, host, pca, trust, references, pcrs, format, timeout,
        };
        challenge.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new ChallengeSettings(
                parseResult.GetValue(vm)!,
                parseResult.GetValue(host)!,
                parseResult.GetValue(pca),
                parseResult.GetValue(trust)!.FullName,
                parseResult.GetValue(pcrs),
                parseResult.GetValue(format) ?? "text")
            {
                ReferencesFile = parseResult.GetValue(references)?.FullName,
                TimeoutSeconds = parseResult.GetValue(timeout),
            };
            return await ChallengeAsync(settings, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, cancellationToken).ConfigureAwait(false);
        });

        return new Command("attest", "TVP-PCA top-down attestation over the network (book ch. 5).") { serve, challenge };
    }

    /// <summary>Builds the platform, serves it until <paramref name="cancellationToken"/> is cancelled (Ctrl-C, SIGTERM), then stops cleanly.</summary>
    /// <param name="settings">What to serve.</param>
    /// <param name="output">Standard output.</param>
    /// <param name="error">Standard error.</param>
    /// <param name="started">Called with the base address once the server listens (tests).</param>
    /// <param name="cancellationToken">Stops the server.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> ServeAsync(ServeSettings settings, TextWriter output, TextWriter error, Action<Uri>? started, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (settings.Port is < 0 or > 65535)
        {
            error.WriteLine($"error: --port {settings.Port} is out of range (0..65535).");
            return Error;
        }

        if (settings.Vms is < 1 or > 64)
        {
            error.WriteLine($"error: --vms {settings.Vms} is out of range (1..64).");
            return Error;
        }

        if (settings.TamperedVms.FirstOrDefault(i => i < 0 || i >= settings.Vms, -1) is var bad and >= 0)
        {
            error.WriteLine($"error: --tamper-vm {bad} names no VM (0..{settings.Vms - 1}).");
            return Error;
        }

        // The host derives the vTPM engines' seeds as seed × 1000 + VM index (checked arithmetic).
        const ulong MaxSeed = ulong.MaxValue / 2048;
        if (settings.Seed > MaxSeed)
        {
            error.WriteLine($"error: --seed {settings.Seed} is out of range (0..{MaxSeed}).");
            return Error;
        }

        var clock = TimeProvider.System;
        var seed = settings.Seed ?? (BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) % MaxSeed);
        IRandomSource Random(ulong salt) => settings.Seed is { } s ? DeterministicRandomSource.FromSeed(s ^ salt) : SystemRandomSource.Instance;
        var manufacturer = new ManufacturerCa(Random(0x4D41), clock);
        var pca = new TvpPcaPrivacyCa(new PrivacyCa([manufacturer.Certificate], Random(0x5043), clock), Random(0x5250));
        using var host = TvpPcaHost.Create(pca, manufacturer, clock, new TvpPcaHostOptions { VmCount = settings.Vms, Seed = seed, TamperedVms = settings.TamperedVms });

        TvpPcaHttpServer server;
        try
        {
            server = await TvpPcaHttpServer.StartAsync(app => app.MapTvpPca(host), settings.Port, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            error.WriteLine($"error: cannot listen on 127.0.0.1:{settings.Port}: {e.Message}");
            return Error;
        }

        await using (server.ConfigureAwait(false))
        {
            var certFile = settings.PcaCertificateFile ?? Path.Combine(Path.GetTempPath(), $"truststack-pca-{server.BaseAddress.Port}.pem");
            var referencesFile = settings.ReferencesFile ?? Path.Combine(Path.GetTempPath(), $"truststack-references-{server.BaseAddress.Port}.json");
            try
            {
                await File.WriteAllTextAsync(certFile, pca.Ca.Certificate.ExportCertificatePem() + "\n", CancellationToken.None).ConfigureAwait(false);

                // The demo platform's reference values live with the demo: the challenger is given this file explicitly.
                TvpQtReferenceFile.Save(ServedReferences(host), referencesFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"error: cannot write the PCA certificate or reference values: {e.Message}");
                return Error;
            }

            var url = server.BaseAddress.ToString().TrimEnd('/');
            output.WriteLine($"truststack attest serve: TVP-PCA host and Privacy CA listening on {url}");
            output.WriteLine($"  PCA certificate: {certFile}");
            output.WriteLine($"  reference values: {referencesFile}");
            for (var i = 0; i < host.Agents.Count; i++)
            {
                output.WriteLine($"  vm {i}: {host.Agents[i].VmId:D}{(settings.TamperedVms.Contains(i) ? " (tampered guest kernel)" : "")}");
            }

            output.WriteLine($"  challenge: truststack attest challenge --host {url} --trust-pca {certFile} --references {referencesFile} --vm {host.Agents[0].VmId:D}");
            output.WriteLine("  stop with Ctrl-C or SIGTERM");
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            started?.Invoke(server.BaseAddress);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        output.WriteLine("stopped");
        await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        return Trusted;
    }

    /// <summary>Attests one VM over the network and prints the decision.</summary>
    /// <param name="settings">What to challenge.</param>
    /// <param name="output">Standard output.</param>
    /// <param name="error">Standard error.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>0 trusted, 2 untrusted, 1 error.</returns>
    public static async Task<int> ChallengeAsync(ChallengeSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (!Guid.TryParse(settings.Vm, out var vm))
        {
            error.WriteLine($"error: --vm '{settings.Vm}' is not a UUID.");
            return Error;
        }

        if (!TryUrl(settings.Host, out var hostUrl) || !TryUrl(settings.Pca ?? settings.Host, out var pcaUrl))
        {
            error.WriteLine($"error: --host/--pca must be http(s) URLs ('{settings.Host}', '{settings.Pca}').");
            return Error;
        }

        if (!(settings.TimeoutSeconds is > 0 and <= 3600))
        {
            error.WriteLine($"error: --timeout {settings.TimeoutSeconds} is out of range (more than 0, at most 3600 seconds).");
            return Error;
        }

        if (settings.ReferencesFile is null)
        {
            error.WriteLine("error: --references FILE is required: a challenger trusts only the reference values it is given (platform chain, guest chain, vTPM builds, event policies) and has no default. `truststack attest serve` writes the served platform's with --references-out FILE.");
            return Error;
        }

        PcrSelectionList pcrs;
        X509Certificate2 trusted;
        TvpQtReferenceValues referenceValues;
        try
        {
            pcrs = settings.Pcrs is null ? TopChallenge.DefaultPcrs : PcrSelectionList.Parse(settings.Pcrs);
            trusted = X509CertificateLoader.LoadCertificateFromFile(settings.TrustedPcaFile);
            referenceValues = TvpQtReferenceFile.Load(settings.ReferencesFile);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or CryptographicException)
        {
            error.WriteLine($"error: {e.Message}");
            return Error;
        }

        using (trusted)
        using (var hostClient = new HttpClient { BaseAddress = hostUrl, Timeout = TimeSpan.FromMinutes(2) })
        using (var pcaClient = new HttpClient { BaseAddress = pcaUrl, Timeout = TimeSpan.FromMinutes(2) })
        using (cancellationToken.Register(() =>
        {
            // Ctrl-C or SIGTERM: the synchronous challenge stops at its next request.
            hostClient.CancelPendingRequests();
            pcaClient.CancelPendingRequests();
        }))
        {
            var perRequest = TimeSpan.FromSeconds(settings.TimeoutSeconds);
            TvpPcaAttestation attestation;
            try
            {
                attestation = await Task.Run(
                    () =>
                    {
                        var directory = new HttpEndorsementDirectory(pcaClient, trusted, TimeProvider.System, SystemRandomSource.Instance) { Timeout = perRequest };
                        var transport = new HttpTvpPcaTransport(hostClient) { Timeout = perRequest };
                        var challenger = new Challenger(transport, directory.CreateVerifier(referenceValues), SystemRandomSource.Instance) { Pcrs = pcrs };
                        return challenger.Attest(vm);
                    },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                error.WriteLine("error: cancelled");
                return Error;
            }
            catch (Exception e) when (e is TvpPcaHttpException or HttpRequestException or FormatException or TaskCanceledException or CryptographicException or TimeoutException)
            {
                error.WriteLine($"error: {e.Message}");
                return Error;
            }

            var r = attestation.Result;
            if (settings.Format == "json")
            {
                object Layer(TvpPcaDecision d) => new { holds = d.Holds, reasons = d.Reasons.Select(x => new { check = x.Check.ToString(), passed = x.Passed, reason = x.Reason }) };
                output.WriteLine(JsonSerializer.Serialize(new { vm = r.VmId, decision = r.IsTrusted ? "trusted" : "untrusted", top = Layer(r.Top), bottom = Layer(r.Bottom), sameness = Layer(r.Sameness) }, Json));
            }
            else
            {
                output.WriteLine($"vm: {r.VmId:D}");
                output.WriteLine($"decision: {(r.IsTrusted ? "trusted" : "untrusted")}");
                foreach (var d in new[] { r.Top, r.Bottom, r.Sameness })
                {
                    output.WriteLine($"{d.Layer.ToString().ToLowerInvariant()}: {(d.Holds ? "holds" : "does not hold")}");
                    foreach (var x in d.Reasons)
                    {
                        output.WriteLine($"  [{(x.Passed ? "pass" : "FAIL")}] {x.Check}: {x.Reason}");
                    }
                }
            }

            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return r.IsTrusted ? Trusted : Untrusted;
        }
    }

    private static bool TryUrl(string text, out Uri url)
    {
        var ok = Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps);
        url = u!;
        return ok;
    }

    /// <summary>What <c>attest serve</c> was asked to do.</summary>
    /// <param name="Port">Port (0: any free one).</param>
    /// <param name="Vms">Number of VMs.</param>
    /// <param name="Seed">Seed, or null for OS randomness.</param>
    /// <param name="PcaCertificateFile">Where to write the PCA certificate, or null for the temp folder.</param>
    /// <param name="TamperedVms">Indexes of VMs with a tampered guest kernel.</param>
    internal sealed record ServeSettings(int Port, int Vms, ulong? Seed, string? PcaCertificateFile, IReadOnlyCollection<int> TamperedVms)
    {
        /// <summary>Where to write the reference values, or null for the temp folder.</summary>
        public string? ReferencesFile { get; init; }
    }

    /// <summary>What <c>attest challenge</c> was asked to do.</summary>
    /// <param name="Vm">The VM UUID (text).</param>
    /// <param name="Host">The host URL.</param>
    /// <param name="Pca">The Privacy CA URL, or null for the host's.</param>
    /// <param name="TrustedPcaFile">The trusted PCA certificate file.</param>
    /// <param name="Pcrs">The vPCR selection, or null for the default.</param>
    /// <param name="Format">text or json.</param>
    internal sealed record ChallengeSettings(string Vm, string Host, string? Pca, string TrustedPcaFile, string? Pcrs, string Format)
    {
        /// <summary>The reference-values file (required; null is refused with a message saying so).</summary>
        public string? ReferencesFile { get; init; }

        /// <summary>Seconds each HTTP request may take.</summary>
        public double TimeoutSeconds { get; init; } = TvpPcaRoutes.DefaultTimeout.TotalSeconds;
    }

    /// <summary>The reference values of the served demo platform: its profiles and vTPM build, and its hardware AIK's Name (TVP-PCA itself trusts the AIK through its certificate).</summary>
    private static TvpQtReferenceValues ServedReferences(TvpPcaHost host) =>
        TvpPcaHost.ExpectedReferences with { TrustedHardwareAks = [host.Service.Aik.Key.GetName()] };
}
