using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TrustStack.Vmm.ShadowPaging.Tests;

/// <summary>
/// Entry point of the test assembly when run as a child process (<c>dotnet TrustStack.Vmm.ShadowPaging.Tests.dll mode</c>),
/// so the real-protection tests can watch a process die of SIGSEGV without taking the test host down.
/// </summary>
public static class GuardHelper
{
    public const string ReadInside = "guard-read-inside";
    public const string ReadOutside = "guard-read-outside";
    public const string WriteOutside = "guard-write-outside";

    public static int Main(string[] args)
    {
        var mode = args.Length > 0 ? args[0] : "";
        var store = new GuardedMemorySecretStore();
        byte[] value = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
        using var secret = store.StoreGuarded(value, "helper secret");
        switch (mode)
        {
            case ReadInside:
                var copy = new byte[32];
                secret.CopyTo(copy);
                Console.WriteLine(copy.AsSpan().SequenceEqual(value) ? "inside-window-read-ok" : "inside-window-read-WRONG");
                return 0;
            case ReadOutside:
                Console.WriteLine("touching outside the window");
                Console.Out.Flush();
                var b = Marshal.ReadByte(secret.Address);
                Console.WriteLine($"read {b} without a fault");
                return 0;
            case WriteOutside:
                Console.WriteLine("writing outside the window");
                Console.Out.Flush();
                Marshal.WriteByte(secret.Address, 0x41);
                Console.WriteLine("wrote without a fault");
                return 0;
            default:
                Console.Error.WriteLine("usage: guard-read-inside | guard-read-outside | guard-write-outside");
                return 2;
        }
    }

    /// <summary>Runs the helper in a child process; returns its exit code and output.</summary>
    public static (int ExitCode, string Output) Run(string mode)
    {
        var dll = typeof(GuardHelper).Assembly.Location;
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var psi = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add(mode);
        psi.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            throw new TimeoutException("The guard helper did not finish.");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
