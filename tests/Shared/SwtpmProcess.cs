using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TrustStack.Tpm.Hardware;

namespace TrustStack.Tests.Shared;

/// <summary>
/// A real swtpm (libtpms) on a free 127.0.0.1 port pair (data port, control port + 1), started with
/// <c>--flags not-need-init,startup-clear</c> and its own state folder; killed and cleaned up on
/// dispose. The one swtpm launcher of the test projects: it also runs tpm2-tools against itself
/// (<see cref="RunTool"/>) in a working folder for their files.
/// </summary>
public sealed class SwtpmProcess : IDisposable
{
    private const int StartAttempts = 5;
    private static readonly TimeSpan ListenTimeout = TimeSpan.FromSeconds(15);

    private readonly Process _process;
    private readonly string _ownedDirectory;

    /// <summary>Starts swtpm.</summary>
    /// <param name="workingDirectory">
    /// Folder for tool files (made if missing, kept on dispose); null for a temporary folder that
    /// dispose deletes. The swtpm state lives in a temporary folder inside it either way.
    /// </param>
    /// <param name="initialState">
    /// A state folder whose files are copied into swtpm's state folder before it starts (for example
    /// one manufactured by <c>swtpm_setup</c>); null for a blank TPM.
    /// </param>
    public SwtpmProcess(string? workingDirectory = null, string? initialState = null)
    {
        PeerTools.Require("swtpm", "swtpm");
        if (workingDirectory is null)
        {
            WorkingDirectory = Directory.CreateTempSubdirectory("truststack-swtpm-").FullName;
            _ownedDirectory = WorkingDirectory;
        }
        else
        {
            WorkingDirectory = Directory.CreateDirectory(workingDirectory).FullName;
            _ownedDirectory = Path.Combine(WorkingDirectory, $"swtpm-{Guid.NewGuid():N}");
        }

        StateDirectory = Directory.CreateDirectory(Path.Combine(_ownedDirectory, "state")).FullName;
        if (initialState is not null)
        {
            foreach (var file in Directory.GetFiles(initialState))
            {
                if (!Path.GetFileName(file).StartsWith(".lock", StringComparison.Ordinal))
                {
                    File.Copy(file, Path.Combine(StateDirectory, Path.GetFileName(file)));
                }
            }
        }

        string? lastError = null;
        for (var attempt = 0; attempt < StartAttempts; attempt++)
        {
            // Another process may take the probed ports before swtpm binds them: try a new pair.
            var port = FreePortPair();
            var process = Start(port, StateDirectory);
            lastError = WaitForListening(process, port);
            if (lastError is null)
            {
                _process = process;
                Port = port;
                return;
            }

            Stop(process);
        }

        DeleteOwnedDirectory();
        throw new InvalidOperationException($"swtpm did not come up after {StartAttempts} attempts: {lastError}");
    }

    /// <summary>The data port (the control port is <c>Port + 1</c>).</summary>
    public int Port { get; }

    /// <summary>swtpm's state folder.</summary>
    public string StateDirectory { get; }

    /// <summary>The folder <see cref="RunTool"/> runs in (tool output files).</summary>
    public string WorkingDirectory { get; }

    /// <summary>The tpm2-tools TCTI string for this instance.</summary>
    public string Tcti => $"swtpm:host=127.0.0.1,port={Port}";

    /// <summary>
    /// Our client transport to this swtpm. It keeps one data connection, and swtpm serves one
    /// connection at a time: dispose it before running a tool.
    /// </summary>
    public ITpmTransport CreateTransport() => new SwtpmSocketTransport("127.0.0.1", Port);

    /// <summary>Runs a tpm2-tools command against this swtpm in <see cref="WorkingDirectory"/>; returns stdout, throws with stderr on failure.</summary>
    public string RunTool(string tool, params string[] arguments)
    {
        PeerTools.Require(tool, "tpm2-tools");
        return PeerTools.RunTpm2Tool(Tcti, WorkingDirectory, tool, arguments);
    }

    /// <summary>The path of a file in <see cref="WorkingDirectory"/>.</summary>
    public string PathOf(string name) => Path.Combine(WorkingDirectory, name);

    /// <summary>The octets of a file in <see cref="WorkingDirectory"/>.</summary>
    public byte[] ReadFile(string name) => File.ReadAllBytes(PathOf(name));

    /// <summary>Kills swtpm and deletes the folders this instance made.</summary>
    public void Dispose()
    {
        Stop(_process);
        DeleteOwnedDirectory();
    }

    /// <summary>A port P on 127.0.0.1 with P + 1 free too (swtpm's data and control ports).</summary>
    public static int FreePortPair()
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
                // port + 1 is taken: try another pair.
            }
        }

        throw new InvalidOperationException("no free port pair on 127.0.0.1");
    }

    private static Process Start(int port, string stateDirectory)
    {
        var psi = new ProcessStartInfo("swtpm")
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
            "--tpmstate", $"dir={stateDirectory}",
            "--flags", "not-need-init,startup-clear",
        })
        {
            psi.ArgumentList.Add(arg);
        }

        return Process.Start(psi) ?? throw new InvalidOperationException("swtpm did not start");
    }

    /// <summary>Null once both ports accept connections, else why not.</summary>
    private static string? WaitForListening(Process process, int port)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ListenTimeout)
        {
            if (process.HasExited)
            {
                return $"swtpm exited with {process.ExitCode}: {process.StandardError.ReadToEnd()}";
            }

            if (CanConnect(port) && CanConnect(port + 1))
            {
                return null;
            }

            Thread.Sleep(50);
        }

        return $"swtpm did not listen on {port} and {port + 1} within {ListenTimeout.TotalSeconds} s";
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

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    private void DeleteOwnedDirectory()
    {
        try
        {
            Directory.Delete(_ownedDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder left behind is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
