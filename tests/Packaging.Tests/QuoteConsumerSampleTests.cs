using System.Diagnostics;
using System.Text;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace TrustStack.Packaging.Tests;

/// <summary>
/// samples/QuoteConsumer references only the TrustStack.Tpm.Hardware package from
/// artifacts/feed; running it proves the package alone (its dependencies, its public API)
/// is enough to quote with the software TPM and verify the quote.
/// </summary>
public sealed class QuoteConsumerSampleTests(ITestOutputHelper output)
{
    private const string PackageName = "Tpm.Hardware";

    // Restore and build of the sample from a cold package folder take a minute or two.
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(10);

    [Fact]
    public void DotnetRun_AgainstPackedFeed_PrintsQuoteVerified()
    {
        var root = RepositoryRoot();
        var version = ProjectVersion(root, PackageName);
        var nupkg = Path.Combine(root, "artifacts", "feed", $"TrustStack.{PackageName}.{version}.nupkg");

        // eng/test.sh packs once before the tests and says so; a lone run packs if needed.
        if (!File.Exists(nupkg) && Environment.GetEnvironmentVariable("TRUSTSTACK_PACKED") != "1")
        {
            var pack = Run(root, "bash", ["eng/pack.sh"], PackTimeout, []);
            Assert.True(pack.ExitCode == 0, $"eng/pack.sh exited {pack.ExitCode}\n{pack.Tail}");
        }

        Assert.True(File.Exists(nupkg), $"{nupkg} is missing: run eng/pack.sh");

        // A fresh package folder: a stale cached copy of the package can never hide a broken one.
        var packages = Path.Combine(Path.GetTempPath(), $"truststack-packaging-{Guid.NewGuid():N}");
        try
        {
            var run = Run(
                root,
                DotnetHost(),
                ["run", "--project", "samples/QuoteConsumer", "-c", "Release", $"--property:TrustStackVersion={version}"],
                RunTimeout,
                new Dictionary<string, string> { ["NUGET_PACKAGES"] = packages });

            Assert.True(run.ExitCode == 0, $"dotnet run exited {run.ExitCode}\n{run.Tail}");
            Assert.Contains("quote verified", run.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            try
            {
                Directory.Delete(packages, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
            catch (IOException ex)
            {
                output.WriteLine($"could not delete {packages}: {ex.Message}");
            }
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TrustStack.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No TrustStack.sln above {AppContext.BaseDirectory}.");
    }

    private static string ProjectVersion(string root, string package)
    {
        var csproj = Path.Combine(root, "packages", package, $"{package}.csproj");
        var version = XDocument.Load(csproj).Descendants("Version").Select(v => v.Value.Trim()).FirstOrDefault();
        Assert.False(string.IsNullOrEmpty(version), $"{csproj} has no <Version>");
        return version!;
    }

    // The dotnet that runs this test (dotnet test sets DOTNET_HOST_PATH), else the one on PATH.
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private ProcessResult Run(string workingDirectory, string fileName, string[] arguments, TimeSpan timeout, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test host runs inside `dotnet test`'s MSBuild; its MSBuild variables must not leak
        // into the sample's own build.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        output.WriteLine($"$ {fileName} {string.Join(' ', arguments)}");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            output.WriteLine(Snapshot(stdout) + Snapshot(stderr));
            Assert.Fail($"{fileName} did not finish within {timeout}");
        }

        process.WaitForExit(); // drains the asynchronous readers
        var result = new ProcessResult(process.ExitCode, Snapshot(stdout), Snapshot(stderr));
        output.WriteLine(result.StandardOutput);
        output.WriteLine(result.StandardError);
        return result;
    }

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (buffer)
        {
            buffer.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder buffer)
    {
        lock (buffer)
        {
            return buffer.ToString();
        }
    }

    private sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
    {
        private const int TailLength = 6000;

        /// <summary>The end of both streams, for a failure message.</summary>
        public string Tail
        {
            get
            {
                var all = $"--- stdout\n{StandardOutput}\n--- stderr\n{StandardError}";
                return all.Length <= TailLength ? all : "..." + all[^TailLength..];
            }
        }
    }
}
