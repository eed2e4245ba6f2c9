using System.CommandLine;
using System.Text.RegularExpressions;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Cli.Tests;

/// <summary><c>truststack vtpm serve</c> in process, stopped by cancellation as Ctrl-C/SIGTERM does.</summary>
public sealed partial class VTpmCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("truststack-vtpm-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"^vm (?<vm>[0-9a-f-]{36}) vtpm 127\.0\.0\.1:(?<port>\d+) control (?<control>\d+)", RegexOptions.Multiline)]
    private static partial Regex VmLine();

    private static int FreeBase()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port is > 60000 ? port - 1000 : port;
    }

    /// <summary>Runs the command until <paramref name="whileServing"/> is done with its output, then cancels.</summary>
    private async Task<(int Code, string Output, string Error)> ServeAsync(int vms, int basePort, Action<string> whileServing)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        using var stop = new CancellationTokenSource();
        var config = new InvocationConfiguration { Output = TextWriter.Synchronized(output), Error = TextWriter.Synchronized(error) };
        var run = CliApp.Build().Parse(["vtpm", "serve", "--vms", vms.ToString(System.Globalization.CultureInfo.InvariantCulture), "--base-port", basePort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--state", _dir]).InvokeAsync(config, stop.Token);
        for (var i = 0; i < 300 && !run.IsCompleted && !output.ToString().Contains("serving", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        try
        {
            if (!run.IsCompleted)
            {
                whileServing(output.ToString());
            }
        }
        finally
        {
            await stop.CancelAsync();
        }

        var code = await run;
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Serve_TwoVms_ServesEachOnItsPortAndKeepsUuidsAcrossRestarts()
    {
        var basePort = FreeBase();
        byte[]? firstRandom = null;
        var (code, output, error) = await ServeAsync(2, basePort, text =>
        {
            var lines = VmLine().Matches(text);
            Assert.Equal(2, lines.Count);
            Assert.Equal(basePort, int.Parse(lines[0].Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(basePort + 2, int.Parse(lines[1].Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture));
            using var transport = new SwtpmSocketTransport("127.0.0.1", basePort + 2);
            var client = new Tpm2(transport);
            client.PcrExtend(16, TpmAlgId.Sha256, new byte[32]);
            firstRandom = client.GetRandom(16);
        });

        Assert.True(code == 0, output + error);
        Assert.NotNull(firstRandom);
        Assert.Contains("stopped; saved 2 vTPMs", output, StringComparison.Ordinal);
        var vms = VmLine().Matches(output).Select(m => m.Groups["vm"].Value).ToList();
        Assert.All(vms, vm => Assert.True(File.Exists(Path.Combine(_dir, "vtpms", vm + ".vtpm"))));

        var (again, output2, error2) = await ServeAsync(3, basePort, _ => { });
        Assert.True(again == 0, output2 + error2);
        var vms2 = VmLine().Matches(output2).Select(m => m.Groups["vm"].Value).ToList();
        Assert.Equal(3, vms2.Count);
        Assert.Equal(vms, vms2.Take(2));
    }

    [Fact]
    public void Serve_PortsOutOfRange_ExitsTwo()
    {
        var (code, _, error) = QuoteVerifyCommandTests.Invoke("vtpm", "serve", "--vms", "10", "--base-port", "65530", "--state", _dir);

        Assert.Equal(2, code);
        Assert.Contains("65535", error, StringComparison.Ordinal);
    }
}
