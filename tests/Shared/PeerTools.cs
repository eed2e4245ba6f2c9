using System.ComponentModel;
using System.Diagnostics;

namespace TrustStack.Tests.Shared;

/// <summary>
/// Finds the real TPM peers (swtpm, tpm2-tools, IBM TSS, openssl; installed by eng/test.sh) and
/// runs them. The one place the test projects start an external tool.
/// </summary>
public static class PeerTools
{
    /// <summary>The environment variable tpm2-tools read their TCTI from.</summary>
    public const string TctiVariable = "TPM2TOOLS_TCTI";

    /// <summary>Throws a clear message when <paramref name="command"/> is not on PATH; returns its path.</summary>
    public static string Require(string command, string debianPackage)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, command);
            if (dir.Length != 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(MissingMessage(command, debianPackage));
    }

    /// <summary>Runs a tool and returns (exit code, stdout, stderr); a missing tool throws with the package to install.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string command, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? workingDirectory = null, int timeoutMs = 60_000)
    {
        var args = arguments.ToList();
        var psi = new ProcessStartInfo(command)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args)
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

        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidOperationException($"{command} did not start");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"{MissingMessage(command, PackageOf(command))} ({e.Message})", e);
        }

        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutMs))
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
                throw new TimeoutException($"{command} {string.Join(' ', args)} did not finish in {timeoutMs} ms");
            }

            return (p.ExitCode, stdout.Result, stderr.Result);
        }
    }

    /// <summary>Runs a tool that must succeed: returns stdout, throws with stderr on a non-zero exit.</summary>
    public static string RunChecked(string command, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? workingDirectory = null, int timeoutMs = 60_000)
    {
        var args = arguments.ToList();
        var (code, stdout, stderr) = Run(command, args, environment, workingDirectory, timeoutMs);
        if (code != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} exited with {code}: {stderr}{stdout}");
        }

        return stdout;
    }

    /// <summary>Runs a tpm2-tools command against the TPM at <paramref name="tcti"/> (TPM2TOOLS_TCTI); returns stdout, throws on failure.</summary>
    public static string RunTpm2Tool(string tcti, string workingDirectory, string tool, params string[] arguments) =>
        RunChecked(tool, arguments, new Dictionary<string, string> { [TctiVariable] = tcti }, workingDirectory);

    private static string PackageOf(string command) => command switch
    {
        "swtpm" => "swtpm",
        "swtpm_setup" => "swtpm-tools",
        _ when command.StartsWith("tpm2_", StringComparison.Ordinal) => "tpm2-tools",
        _ when command.StartsWith("tss", StringComparison.Ordinal) => "tss2",
        _ => command,
    };

    private static string MissingMessage(string command, string debianPackage) =>
        $"'{command}' is not installed: run eng/test.sh (it installs the Debian package '{debianPackage}') or apt-get install -y {debianPackage}.";
}
