using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TrustStack.Tpm.Hardware.Tests.Engine;

/// <summary>
/// A real swtpm (libtpms) on 127.0.0.1 for interop tests, started with
/// <c>--flags not-need-init,startup-clear</c>, plus a runner for tpm2-tools against it.
/// Fails clearly when swtpm or tpm2-tools are missing; always kills the process it started.
/// </summary>
internal sealed class SwtpmTestInstance : IDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _directory;

    private SwtpmTestInstance(Process process, DirectoryInfo directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Working folder for tool files (session contexts, policy outputs).</summary>
    public string Directory => _directory.FullName;

    public static SwtpmTestInstance Start()
    {
        RequireTool("swtpm");
        Exception? last = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var port = FreePortPair();
            var dir = System.IO.Directory.CreateTempSubdirectory("truststack-swtpm-");
            var state = System.IO.Directory.CreateDirectory(Path.Combine(dir.FullName, "state"));
            var start = new ProcessStartInfo("swtpm")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
            {
                "socket", "--tpm2",
                "--server", $"type=tcp,port={port},bindaddr=127.0.0.1",
                "--ctrl", $"type=tcp,port={port + 1},bindaddr=127.0.0.1",
                "--tpmstate", $"dir={state.FullName}",
                "--flags", "not-need-init,startup-clear",
            })
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("swtpm did not start.");
            var instance = new SwtpmTestInstance(process, dir, port);
            try
            {
                instance.WaitUntilListening();
                return instance;
            }
            catch (InvalidOperationException e)
            {
                last = e;
                instance.Dispose();
            }
        }

        throw new InvalidOperationException("swtpm did not come up after five attempts.", last);
    }

    /// <summary>A transport that opens one connection per command, as the tpm2-tools swtpm TCTI does.</summary>
    public ITpmTransport CreateTransport() => new Transport(Port);

    /// <summary>Runs a tpm2-tools command against this swtpm in <see cref="Directory"/>; returns stdout.</summary>
    public string RunTool(string tool, params string[] args)
    {
        RequireTool(tool);
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        start.Environment["TPM2TOOLS_TCTI"] = $"swtpm:host=127.0.0.1,port={Port}";
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill();
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} did not finish.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} exited with {process.ExitCode}: {stderr.Result}");
        }

        return stdout.Result;
    }

    public byte[] ReadFile(string name) => File.ReadAllBytes(Path.Combine(Directory, name));

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    private static void RequireTool(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        if (!path.Split(Path.PathSeparator).Any(dir => File.Exists(Path.Combine(dir, tool))))
        {
            throw new InvalidOperationException($"'{tool}' is not installed (needed for the interop tests: swtpm and tpm2-tools).");
        }
    }

    private static int FreePortPair()
    {
        for (var i = 0; i < 20; i++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (port >= 65535)
            {
                continue;
            }

            try
            {
                var next = new TcpListener(IPAddress.Loopback, port + 1);
                next.Start();
                next.Stop();
                return port;
            }
            catch (SocketException)
            {
                // port + 1 is taken; try another.
            }
        }

        throw new InvalidOperationException("No free pair of TCP ports.");
    }

    private void WaitUntilListening()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"swtpm exited with {_process.ExitCode}: {_process.StandardError.ReadToEnd()}");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new InvalidOperationException("swtpm did not listen within 10 s.");
    }

    private sealed class Transport(int port) : ITpmTransport
    {
        public byte[] Execute(ReadOnlySpan<byte> command)
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            using var stream = client.GetStream();
            stream.Write(command);
            var header = new byte[10];
            stream.ReadExactly(header);
            var size = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2));
            var response = new byte[size];
            header.CopyTo(response, 0);
            stream.ReadExactly(response.AsSpan(10));
            return response;
        }

        public void Dispose()
        {
        }
    }
}
