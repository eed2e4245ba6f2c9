using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TrustStack.Cli.Tests;

/// <summary>
/// Real tpm2-tools output for the CLI tests: starts swtpm on a free 127.0.0.1 port in a temp
/// folder, makes an ECC AK and two quotes (serialized PCRs with a TPMT_SIGNATURE; values PCRs
/// with a plain signature), then kills swtpm. The files stay in <see cref="Directory"/> until
/// <see cref="Dispose"/>.
/// </summary>
public sealed class TpmToolsQuoteFiles : IDisposable
{
    public const string NonceHex = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    public const string PcrList = "sha256:0,1,7+sha1:7";

    public TpmToolsQuoteFiles()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("truststack-cli-quote-").FullName;
        foreach (var tool in new[] { "swtpm", "tpm2_createek", "tpm2_createak", "tpm2_quote", "tpm2_pcrextend", "tpm2_flushcontext", "tpm2_readpublic", "tpm2_eventlog" })
        {
            if (!(Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(d => File.Exists(Path.Combine(d, tool))))
            {
                throw new InvalidOperationException($"'{tool}' is not on PATH. The CLI interop tests need swtpm and tpm2-tools 5.x (eng/test.sh installs them).");
            }
        }

        var (swtpm, port) = StartSwtpm(Path.Combine(Directory, "state"));
        try
        {
            var tcti = $"swtpm:host=127.0.0.1,port={port}";
            void Tpm2(params string[] args)
            {
                Run(args[0], args[1..], tcti);
                if (args[0] != "tpm2_flushcontext" && args[0] != "tpm2_pcrextend")
                {
                    Run("tpm2_flushcontext", ["-t"], tcti); // swtpm has no resource manager
                }
            }

            Tpm2("tpm2_createek", "-c", "ek.ctx", "-G", "ecc", "-u", "ek.pub");
            Tpm2("tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "ecc", "-g", "sha256", "-s", "ecdsa", "-u", "ak.pub", "-f", "pem", "-n", "ak.name");
            Tpm2("tpm2_readpublic", "-c", "ak.ctx", "-f", "tss", "-o", "ak.tss");
            Tpm2("tpm2_pcrextend", $"7:sha256={new string('7', 64)},sha1={new string('7', 40)}");
            Tpm2("tpm2_quote", "-c", "ak.ctx", "-l", PcrList, "-q", NonceHex, "-m", "quote.msg", "-s", "quote.sig", "-o", "pcrs.ser", "-F", "serialized", "-g", "sha256");
            Tpm2("tpm2_quote", "-c", "ak.ctx", "-l", PcrList, "-q", NonceHex, "-m", "plain.msg", "-s", "plain.sig", "-f", "plain", "-o", "pcrs.val", "-F", "values", "-g", "sha256");
        }
        catch
        {
            Dispose();
            throw;
        }
        finally
        {
            swtpm.Kill(entireProcessTree: true);
            swtpm.WaitForExit(5000);
            swtpm.Dispose();
        }
    }

    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    /// <summary>Runs a tool in the folder; returns exit code and output.</summary>
    public (int ExitCode, string Output, string Error) RunTool(string tool, params string[] args) => RunProcess(tool, args, null);

    private void Run(string tool, string[] args, string tcti)
    {
        var (code, _, error) = RunProcess(tool, args, tcti);
        if (code != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} exited {code}: {error}");
        }
    }

    private (int, string, string) RunProcess(string tool, string[] args, string? tcti)
    {
        var info = new ProcessStartInfo(tool) { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        if (tcti is not null)
        {
            info.Environment["TPM2TOOLS_TCTI"] = tcti;
        }

        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} did not finish within 60 s.");
        }

        return (process.ExitCode, output, error.Result);
    }

    private static (Process, int) StartSwtpm(string state)
    {
        System.IO.Directory.CreateDirectory(state);
        var last = "";
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (port >= 65535)
            {
                continue;
            }

            var info = new ProcessStartInfo("swtpm") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "socket", "--tpm2", "--server", $"type=tcp,port={port},bindaddr=127.0.0.1", "--ctrl", $"type=tcp,port={port + 1},bindaddr=127.0.0.1", "--tpmstate", $"dir={state}", "--flags", "not-need-init,startup-clear" })
            {
                info.ArgumentList.Add(a);
            }

            var process = Process.Start(info)!;
            for (var i = 0; i < 200 && !process.HasExited; i++)
            {
                if (Listening(port) && Listening(port + 1))
                {
                    return (process, port);
                }

                Thread.Sleep(50);
            }

            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.WaitForExit(5000);
            last = process.StandardError.ReadToEnd();
            process.Dispose();
        }

        throw new InvalidOperationException($"Could not start swtpm: {last}");
    }

    private static bool Listening(int port)
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
}
