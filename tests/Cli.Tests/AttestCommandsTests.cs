using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using TrustStack.Cli.Commands;

namespace TrustStack.Cli.Tests;

public sealed partial class AttestCommandsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public void Build_Attest_IsRegistered()
    {
        var attest = Assert.Single(CliApp.Build().Subcommands, c => c.Name == "attest");
        var serve = Assert.Single(attest.Subcommands, c => c.Name == "serve");
        var challenge = Assert.Single(attest.Subcommands, c => c.Name == "challenge");
        Assert.Equal(["--port", "--vms", "--seed", "--pca-cert-out", "--tamper-vm", "--references-out"], Names(serve));
        Assert.Equal(["--vm", "--host", "--pca", "--trust-pca", "--references", "--pcrs", "--format", "--timeout"], Names(challenge));
    }

    [Fact]
    public async Task ServeAndChallenge_OverLoopback_TrustedUntrustedAndErrorsWithExitCodes()
    {
        var dir = Directory.CreateTempSubdirectory("truststack-attest-");
        try
        {
            var certFile = Path.Combine(dir.FullName, "pca.pem");
            var referencesFile = Path.Combine(dir.FullName, "references.json");
            var serveOut = new SynchronizedStringWriter();
            using var stop = new CancellationTokenSource();
            var serveConfig = new InvocationConfiguration { Output = serveOut, Error = new SynchronizedStringWriter() };
            var serving = CliApp.Build().Parse(["attest", "serve", "--vms", "2", "--seed", "5", "--tamper-vm", "1", "--pca-cert-out", certFile, "--references-out", referencesFile]).InvokeAsync(serveConfig, stop.Token);

            var text = await WaitForAsync(serveOut, "stop with", serving);
            var url = UrlLine().Match(text).Groups[1].Value;
            var vms = VmLine().Matches(text).Select(m => m.Groups[1].Value).ToArray();
            Assert.Equal(2, vms.Length);
            Assert.Contains($"PCA certificate: {certFile}", text, StringComparison.Ordinal);
            Assert.Contains("(tampered guest kernel)", text, StringComparison.Ordinal);
            Assert.True(File.Exists(certFile));
            Assert.Contains($"reference values: {referencesFile}", text, StringComparison.Ordinal);
            Assert.Contains($"--references {referencesFile}", text, StringComparison.Ordinal);
            Assert.StartsWith("{\n  \"format\": \"truststack.tvpqt-references/1\"", await File.ReadAllTextAsync(referencesFile), StringComparison.Ordinal);

            var (code, _, refused) = await ChallengeAsync("--vm", vms[0], "--host", url, "--trust-pca", certFile);
            Assert.Equal(AttestCommands.Error, code);
            Assert.Contains("--references FILE is required", refused, StringComparison.Ordinal);

            string output;
            (code, output, _) = await ChallengeAsync("--vm", vms[0], "--host", url, "--trust-pca", certFile, "--references", referencesFile);
            Assert.Equal(AttestCommands.Trusted, code);
            Assert.Contains("decision: trusted", output, StringComparison.Ordinal);
            Assert.Contains("top: holds", output, StringComparison.Ordinal);
            Assert.Contains("bottom: holds", output, StringComparison.Ordinal);
            Assert.Contains("sameness: holds", output, StringComparison.Ordinal);
            Assert.Contains("[pass] SameHardwareEk:", output, StringComparison.Ordinal);

            (code, output, _) = await ChallengeAsync("--vm", vms[1], "--host", url, "--pca", url, "--trust-pca", certFile, "--references", referencesFile, "--pcrs", "sha256:0,1,2,3,4,5,6,7,8,9,10", "--format", "json");
            Assert.Equal(AttestCommands.Untrusted, code);
            using (var json = JsonDocument.Parse(output))
            {
                Assert.Equal("untrusted", json.RootElement.GetProperty("decision").GetString());
                var top = json.RootElement.GetProperty("top");
                Assert.False(top.GetProperty("holds").GetBoolean());
                Assert.Contains(top.GetProperty("reasons").EnumerateArray(), r => r.GetProperty("check").GetString() == "GuestReferenceValues" && !r.GetProperty("passed").GetBoolean());
                Assert.True(json.RootElement.GetProperty("sameness").GetProperty("holds").GetBoolean());
            }

            string error;
            (code, _, error) = await ChallengeAsync("--vm", Guid.NewGuid().ToString(), "--host", url, "--trust-pca", certFile, "--references", referencesFile);
            Assert.Equal(AttestCommands.Error, code);
            Assert.Contains("404", error, StringComparison.Ordinal);

            await stop.CancelAsync();
            Assert.Equal(0, await serving.WaitAsync(Patience));
            Assert.Contains("stopped", serveOut.Text, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Challenge_UnreachableHost_ReturnsError()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var cert = Path.GetTempFileName();
        var references = Path.GetTempFileName();
        try
        {
            TrustStack.VTpm.Core.TvpQtReferenceFile.Save(TrustStack.Attestation.TvpPca.TvpPcaHost.ExpectedReferences, references);
            var ca = new TrustStack.Certs.Vmek.SoftwareCertificateAuthority("CN=Test PCA", TrustStack.Tpm.Hardware.DeterministicRandomSource.FromSeed(1), TimeProvider.System);
            await File.WriteAllTextAsync(cert, ca.Certificate.ExportCertificatePem());

            var (code, _, error) = await ChallengeAsync("--vm", Guid.NewGuid().ToString(), "--host", $"http://127.0.0.1:{port}", "--trust-pca", cert, "--references", references);

            Assert.Equal(AttestCommands.Error, code);
            Assert.StartsWith("error:", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(cert);
            File.Delete(references);
        }
    }

    [Theory]
    [InlineData("--vm", "not-a-uuid")]
    [InlineData("--pcrs", "sha999:1")]
    [InlineData("--trust-pca", "/nonexistent/pca.pem")]
    [InlineData("--references", "/nonexistent/references.json")]
    [InlineData("--references", "/etc/hostname")]
    [InlineData("--timeout", "0")]
    public async Task Challenge_UnusableOption_ReturnsError(string option, string value)
    {
        var args = new Dictionary<string, string> { ["--vm"] = Guid.NewGuid().ToString(), ["--host"] = "http://127.0.0.1:1", ["--trust-pca"] = "/etc/hostname", ["--references"] = "/etc/hostname" };
        args[option] = value;

        var (code, _, error) = await ChallengeAsync([.. args.SelectMany(p => new[] { p.Key, p.Value })]);

        Assert.Equal(AttestCommands.Error, code);
        Assert.StartsWith("error:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Challenge_SilentHost_TimesOutWithError()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var cert = Path.GetTempFileName();
        var references = Path.GetTempFileName();
        try
        {
            TrustStack.VTpm.Core.TvpQtReferenceFile.Save(TrustStack.Attestation.TvpPca.TvpPcaHost.ExpectedReferences, references);
            var ca = new TrustStack.Certs.Vmek.SoftwareCertificateAuthority("CN=Test PCA", TrustStack.Tpm.Hardware.DeterministicRandomSource.FromSeed(1), TimeProvider.System);
            await File.WriteAllTextAsync(cert, ca.Certificate.ExportCertificatePem());

            // The listener accepts (the kernel does) and never answers.
            var (code, _, error) = await ChallengeAsync("--vm", Guid.NewGuid().ToString(), "--host", $"http://127.0.0.1:{port}", "--trust-pca", cert, "--references", references, "--timeout", "1");

            Assert.Equal(AttestCommands.Error, code);
            Assert.Contains("did not answer within 1 s", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(cert);
            File.Delete(references);
        }
    }

    [Fact]
    public async Task ServeAsync_TamperIndexOutOfRange_ReturnsError()
    {
        var error = new StringWriter();

        var code = await AttestCommands.ServeAsync(new AttestCommands.ServeSettings(0, 2, 1, null, [2]), TextWriter.Null, error, null, CancellationToken.None);

        Assert.Equal(AttestCommands.Error, code);
        Assert.Contains("--tamper-vm 2", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServeAsync_PortTaken_ReturnsError()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var error = new StringWriter();

        var code = await AttestCommands.ServeAsync(new AttestCommands.ServeSettings(((IPEndPoint)taken.LocalEndpoint).Port, 1, 1, null, []), TextWriter.Null, error, null, CancellationToken.None);

        Assert.Equal(AttestCommands.Error, code);
        Assert.Contains("cannot listen", error.ToString(), StringComparison.Ordinal);
    }

    private static string[] Names(Command c) => [.. c.Options.Select(o => o.Name).Where(n => n.StartsWith("--", StringComparison.Ordinal) && n != "--help")];

    private static async Task<(int Code, string Output, string Error)> ChallengeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CliApp.Build().Parse(["attest", "challenge", .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private static async Task<string> WaitForAsync(SynchronizedStringWriter writer, string marker, Task<int> serving)
    {
        using var patience = new CancellationTokenSource(Patience);
        while (true)
        {
            var text = writer.Text;
            if (text.Contains(marker, StringComparison.Ordinal))
            {
                return text;
            }

            if (serving.IsCompleted)
            {
                throw new InvalidOperationException($"attest serve ended with {await serving}: {text}");
            }

            await Task.Delay(50, patience.Token);
        }
    }

    [GeneratedRegex(@"listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex UrlLine();

    [GeneratedRegex(@"vm \d+: ([0-9a-f-]{36})")]
    private static partial Regex VmLine();
}
