using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TrustStack.Tpm.Hardware.Tests.Verification;

/// <summary>
/// Interop fixture: starts swtpm on a free 127.0.0.1 port in a temp folder and drives
/// tpm2-tools against it to produce real quote files (ECC and RSA AKs; PCR files in both
/// formats; signatures in both formats). Killed and deleted in <see cref="Dispose"/>.
/// </summary>
public sealed class SwtpmQuoteFixture : IDisposable
{
    /// <summary>The qualifying data every quote carries.</summary>
    public const string NonceHex = "0123456789abcdef0011223344556677";

    /// <summary>The PCR list every quote selects (two banks, the SHA-1 bank second).</summary>
    public const string PcrList = "sha256:0,1,2,3,10,16+sha1:0,16";

    private readonly Process _swtpm;
    private readonly int _port;

    public SwtpmQuoteFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("truststack-quote-").FullName;
        RequireTool("swtpm");
        foreach (var tool in new[] { "tpm2_createek", "tpm2_createak", "tpm2_quote", "tpm2_checkquote", "tpm2_pcrextend", "tpm2_flushcontext", "tpm2_readpublic", "tpm2_eventlog" })
        {
            RequireTool(tool);
        }

        (_swtpm, _port) = StartSwtpm(Directory);
        try
        {
            Generate();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The folder with the generated files.</summary>
    public string Directory { get; }

    /// <summary>Path of a generated file.</summary>
    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>The octets of a generated file.</summary>
    public byte[] Read(string name) => File.ReadAllBytes(PathOf(name));

    /// <summary>Runs a tpm2-tools command against this fixture's swtpm; returns stdout, throws with stderr on failure.</summary>
    public string Tpm2(string tool, params string[] args) => Run(tool, args, Directory, $"swtpm:host=127.0.0.1,port={_port}");

    /// <summary>Runs a tool that needs no TPM (tpm2_checkquote, tpm2_eventlog); returns exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Output, string Error) RunOffline(string tool, string workingDirectory, params string[] args) =>
        RunProcess(tool, args, workingDirectory, null);

    public void Dispose()
    {
        try
        {
            if (!_swtpm.HasExited)
            {
                _swtpm.Kill(entireProcessTree: true);
                _swtpm.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _swtpm.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind is harmless.
        }
    }

    private void Generate()
    {
        // Without a resource manager swtpm holds 3 transient objects: flush after each step.
        Tpm2("tpm2_createek", "-c", "ek.ctx", "-G", "ecc", "-u", "ek.pub");
        Flush();
        Tpm2("tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "ecc", "-g", "sha256", "-s", "ecdsa", "-u", "ak.pub", "-n", "ak.name");
        Flush();
        Tpm2("tpm2_readpublic", "-c", "ak.ctx", "-f", "pem", "-o", "ak.pem");
        Flush();
        Tpm2("tpm2_createak", "-C", "ek.ctx", "-c", "ak2.ctx", "-G", "ecc", "-g", "sha256", "-s", "ecdsa", "-u", "ak2.pub");
        Flush();
        Tpm2("tpm2_createek", "-c", "ekr.ctx", "-G", "rsa", "-u", "ekr.pub");
        Flush();
        Tpm2("tpm2_createak", "-C", "ekr.ctx", "-c", "akrsa.ctx", "-G", "rsa", "-g", "sha256", "-s", "rsassa", "-u", "akrsa.pub");
        Flush();
        Tpm2("tpm2_createak", "-C", "ekr.ctx", "-c", "akpss.ctx", "-G", "rsa", "-g", "sha256", "-s", "rsapss", "-u", "akpss.pub");
        Flush();

        Tpm2("tpm2_pcrextend", $"0:sha256={new string('a', 64)},sha1={new string('b', 40)}");
        Tpm2("tpm2_pcrextend", $"3:sha256={new string('c', 64)}");
        Tpm2("tpm2_pcrextend", $"16:sha256={new string('d', 64)},sha1={new string('e', 40)}");

        Quote("ak.ctx", "quote.msg", "quote.sig", "pcrs.ser", "-F", "serialized");
        Quote("ak.ctx", "quote-plain.msg", "quote-plain.sig", "pcrs.val", "-F", "values", "-f", "plain");
        Quote("ak2.ctx", "quote-ak2.msg", "quote-ak2.sig", "pcrs-ak2.ser", "-F", "serialized");
        Quote("akrsa.ctx", "quote-rsa.msg", "quote-rsa.sig", "pcrs-rsa.ser", "-F", "serialized");
        Quote("akrsa.ctx", "quote-rsa-plain.msg", "quote-rsa-plain.sig", "pcrs-rsa-plain.ser", "-F", "serialized", "-f", "plain");
        Quote("akpss.ctx", "quote-pss.msg", "quote-pss.sig", "pcrs-pss.ser", "-F", "serialized", "--scheme", "rsapss");
    }

    private void Quote(string key, string message, string signature, string pcrs, params string[] extra)
    {
        Tpm2("tpm2_quote", ["-c", key, "-l", PcrList, "-q", NonceHex, "-m", message, "-s", signature, "-o", pcrs, "-g", "sha256", .. extra]);
        Flush();
    }

    private void Flush() => Tpm2("tpm2_flushcontext", "-t");

    private static (Process Process, int Port) StartSwtpm(string directory)
    {
        var state = Path.Combine(directory, "state");
        System.IO.Directory.CreateDirectory(state);
        string lastError = "";
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var port = FreePortPair();
            var info = new ProcessStartInfo("swtpm")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var a in new[]
            {
                "socket", "--tpm2",
                "--server", $"type=tcp,port={port},bindaddr=127.0.0.1",
                "--ctrl", $"type=tcp,port={port + 1},bindaddr=127.0.0.1",
                "--tpmstate", $"dir={state}",
                "--flags", "not-need-init,startup-clear",
            })
            {
                info.ArgumentList.Add(a);
            }

            var process = Process.Start(info) ?? throw new InvalidOperationException("swtpm did not start.");
            var stopwatch = Stopwatch.StartNew();
            while (stopwatch.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
                if (CanConnect(port) && CanConnect(port + 1))
                {
                    return (process, port);
                }

                Thread.Sleep(50);
            }

            if (process.HasExited)
            {
                lastError = process.StandardError.ReadToEnd();
            }
            else
            {
                process.Kill(entireProcessTree: true);
                lastError = "swtpm did not listen within 10 s";
            }

            process.Dispose();
        }

        throw new InvalidOperationException($"Could not start swtpm: {lastError}");
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePortPair()
    {
        for (var i = 0; i < 50; i++)
        {
            var first = new TcpListener(IPAddress.Loopback, 0);
            first.Start();
            var port = ((IPEndPoint)first.LocalEndpoint).Port;
            first.Stop();
            if (port >= 65535)
            {
                continue;
            }

            try
            {
                var a = new TcpListener(IPAddress.Loopback, port);
                var b = new TcpListener(IPAddress.Loopback, port + 1);
                a.Start();
                b.Start();
                a.Stop();
                b.Stop();
                return port;
            }
            catch (SocketException)
            {
                // Taken; try another.
            }
        }

        throw new InvalidOperationException("No free port pair on 127.0.0.1.");
    }

    private static void RequireTool(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        if (!path.Split(Path.PathSeparator).Any(d => File.Exists(Path.Combine(d, tool))))
        {
            throw new InvalidOperationException($"'{tool}' is not on PATH. The interop tests need swtpm and tpm2-tools 5.x (eng/test.sh installs them: apt-get install swtpm swtpm-tools tpm2-tools).");
        }
    }

    private static string Run(string tool, string[] args, string directory, string tcti)
    {
        var (code, output, error) = RunProcess(tool, args, directory, tcti);
        if (code != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} exited {code}: {error}");
        }

        return output;
    }

    private static Process StartTool(ProcessStartInfo info, string tool)
    {
        try
        {
            return Process.Start(info) ?? throw new InvalidOperationException($"{tool} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Cannot run '{tool}' ({e.Message}). The interop tests need swtpm and tpm2-tools 5.x (eng/test.sh installs them: apt-get install swtpm swtpm-tools tpm2-tools).", e);
        }
    }

    private static (int ExitCode, string Output, string Error) RunProcess(string tool, string[] args, string directory, string? tcti)
    {
        var info = new ProcessStartInfo(tool)
        {
            WorkingDirectory = directory,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        if (tcti is not null)
        {
            info.Environment["TPM2TOOLS_TCTI"] = tcti;
        }

        using var process = StartTool(info, tool);
        var errorTask = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} did not finish within 60 s.");
        }

        return (process.ExitCode, output, errorTask.Result);
    }
}

[CollectionDefinition(Name)]
public sealed class SwtpmCollection : ICollectionFixture<SwtpmQuoteFixture>
{
    public const string Name = "swtpm + tpm2-tools";
}
