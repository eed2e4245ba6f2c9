using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TrustStack.Tests.Shared;

/// <summary>A real swtpm (libtpms) on 127.0.0.1 with its own state folder, killed on dispose.</summary>
public sealed class SwtpmProcess : IDisposable
{
    private readonly Process _process;

    public SwtpmProcess()
    {
        PeerTools.Require("swtpm", "swtpm");
        StateDirectory = Directory.CreateTempSubdirectory("truststack-swtpm-").FullName;
        Port = FreePortPair();
        var psi = new ProcessStartInfo("swtpm")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "socket", "--tpm2",
            "--server", $"type=tcp,port={Port},bindaddr=127.0.0.1",
            "--ctrl", $"type=tcp,port={Port + 1},bindaddr=127.0.0.1",
            "--tpmstate", $"dir={StateDirectory}",
            "--flags", "not-need-init,startup-clear",
        })
        {
            psi.ArgumentList.Add(arg);
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException("swtpm did not start");
        WaitForPort(Port);
    }

    public int Port { get; }

    public string StateDirectory { get; }

    /// <summary>The tpm2-tools TCTI string for this instance.</summary>
    public string Tcti => $"swtpm:host=127.0.0.1,port={Port}";

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(StateDirectory, recursive: true);
        }
    }

    internal static int FreePortPair()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            if (port >= 65535)
            {
                continue;
            }

            try
            {
                var second = new TcpListener(IPAddress.Loopback, port + 1);
                second.Start();
                second.Stop();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free port pair on 127.0.0.1");
    }

    private void WaitForPort(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"swtpm exited with {_process.ExitCode}: {_process.StandardError.ReadToEnd()}");
            }

            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new TimeoutException($"swtpm did not listen on {port}");
    }
}

/// <summary>Finds the real TPM peers (installed by eng/test.sh) and runs them.</summary>
public static class PeerTools
{
    /// <summary>Throws a clear message when <paramref name="command"/> is not on PATH.</summary>
    public static string Require(string command, string debianPackage)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':'))
        {
            var candidate = Path.Combine(dir, command);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"'{command}' is not installed: run eng/test.sh (it installs the Debian package '{debianPackage}') or apt-get install -y {debianPackage}.");
    }

    /// <summary>Runs a tool and returns (exit code, stdout, stderr).</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string command, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? workingDirectory = null, int timeoutMs = 60_000)
    {
        var psi = new ProcessStartInfo(command)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                psi.Environment[k] = v;
            }
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{command} did not start");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} {string.Join(' ', arguments)} did not finish in {timeoutMs} ms");
        }

        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
