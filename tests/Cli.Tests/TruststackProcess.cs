using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace TrustStack.Cli.Tests;

/// <summary>
/// A real <c>truststack</c> child process (<c>dotnet truststack.dll ...</c>) whose standard output
/// and error are collected line by line, so a test can wait for a line, send SIGKILL (kill -9) or
/// SIGTERM, and restart it. Disposing kills it if it still runs.
/// </summary>
internal sealed partial class TruststackProcess : IDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly List<string> _error = [];
    private readonly Task _reading;

    private TruststackProcess(IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(CliDll());
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start");
        _reading = Task.WhenAll(Collect(_process.StandardOutput, _output), Collect(_process.StandardError, _error));
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return string.Join('\n', _error);
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>truststack ARGS</c>.</summary>
    public static TruststackProcess Start(params string[] arguments) => new(arguments);

    /// <summary>Starts <c>truststack vtpm serve ARGS</c> and waits until it serves.</summary>
    public static async Task<TruststackProcess> ServeAsync(params string[] arguments)
    {
        var process = new TruststackProcess(["vtpm", "serve", .. arguments]);
        try
        {
            await process.WaitForOutputAsync(ServingLine());
            return process;
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>The port each VM is served on, from the <c>vm UUID vtpm 127.0.0.1:PORT</c> lines so far.</summary>
    public Dictionary<Guid, int> VmPorts() =>
        VmLine().Matches(Output).ToDictionary(m => Guid.Parse(m.Groups["vm"].Value), m => int.Parse(m.Groups["port"].Value, CultureInfo.InvariantCulture));

    /// <summary>Waits for a line of standard output matching <paramref name="pattern"/>.</summary>
    public async Task<Match> WaitForOutputAsync(Regex pattern)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Patience)
        {
            var match = pattern.Match(Output);
            if (match.Success)
            {
                return match;
            }

            if (_process.HasExited)
            {
                await _reading.WaitAsync(TimeSpan.FromSeconds(5));
                match = pattern.Match(Output);
                return match.Success ? match : throw new InvalidOperationException($"truststack exited ({_process.ExitCode}) without '{pattern}':\n{Output}\n{Error}");
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"no '{pattern}' within {Patience}:\n{Output}\n{Error}");
    }

    /// <summary>kill -9: the process dies at once, with no chance to save anything.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(Patience);
    }

    /// <summary>SIGTERM (an orderly stop); returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(Patience);
        await _reading.WaitAsync(TimeSpan.FromSeconds(5));
        return _process.ExitCode;
    }

    /// <summary>Waits for the process to end by itself; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(Patience);
        await _reading.WaitAsync(TimeSpan.FromSeconds(5));
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    public static int FreePort(int pairs = 1)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            if (port + (2 * pairs) < 65535 && Enumerable.Range(port, 2 * pairs).All(IsFree))
            {
                return port;
            }
        }

        throw new InvalidOperationException("no free port range");
    }

    [GeneratedRegex(@"^serving \d+ vTPMs", RegexOptions.Multiline)]
    public static partial Regex ServingLine();

    [GeneratedRegex(@"^vm (?<vm>[0-9a-f-]{36}) vtpm 127\.0\.0\.1:(?<port>\d+) control", RegexOptions.Multiline)]
    public static partial Regex VmLine();

    [GeneratedRegex(@"accepting migrations on 127\.0\.0\.1:(?<port>\d+); attestation key (?<ak>[0-9a-f]+)")]
    public static partial Regex AcceptingLine();

    /// <summary>The Cli build output (the test references the project, so it sits beside the tests or in packages/Cli/bin).</summary>
    private static string CliDll()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "truststack.dll");
        if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
        {
            return beside;
        }

        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = tfm.Parent!;
        var root = configuration.Parent!.Parent!.Parent!.Parent!;
        var built = Path.Combine(root.FullName, "packages", "Cli", "bin", configuration.Name, tfm.Name, "truststack.dll");
        return File.Exists(built) ? built : throw new FileNotFoundException("The Cli build output was not found.", built);
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task Collect(StreamReader reader, List<string> lines)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (lines)
            {
                lines.Add(line);
            }
        }
    }
}

/// <summary>
/// A man in the middle between a migration source and a real destination, on 127.0.0.1: it
/// forwards each length-prefixed message, except that it can hold a Prepare unanswered (so the
/// source stays locked and can be killed there) or lose the answer to a Commit (so the source
/// ends "commit pending").
/// </summary>
internal sealed class MigrationProxy : IAsyncDisposable
{
    private const byte Prepare = 3;
    private const byte Commit = 5;
    private readonly int _destination;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public MigrationProxy(int destinationPort)
    {
        _destination = destinationPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Hold every Prepare (never answer it).</summary>
    public bool HoldPrepare { get; set; }

    /// <summary>Deliver a Commit but drop the connection instead of its answer.</summary>
    public bool LoseCommitAnswer { get; set; }

    /// <summary>Completes when a Prepare is being held.</summary>
    public TaskCompletionSource PrepareHeld { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private static async Task<byte[]?> ReadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var prefix = new byte[4];
        if (await stream.ReadAtLeastAsync(prefix, 4, throwOnEndOfStream: false, cancellationToken) < 4)
        {
            return null;
        }

        var message = new byte[BinaryPrimitives.ReadUInt32BigEndian(prefix)];
        await stream.ReadExactlyAsync(message, cancellationToken);
        return [.. prefix, .. message];
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                connections.Add(ServeAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _destination, _stop.Token);
                var from = client.GetStream();
                var to = upstream.GetStream();
                while (await ReadAsync(from, _stop.Token) is { } request)
                {
                    var kind = request[4 + 6];
                    if (kind == Prepare && HoldPrepare)
                    {
                        PrepareHeld.TrySetResult();
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                    }

                    await to.WriteAsync(request, _stop.Token);
                    var response = await ReadAsync(to, _stop.Token);
                    if (response is null || (kind == Commit && LoseCommitAnswer))
                    {
                        return;
                    }

                    await from.WriteAsync(response, _stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The source or the destination went away.
            }
        }
    }
}
