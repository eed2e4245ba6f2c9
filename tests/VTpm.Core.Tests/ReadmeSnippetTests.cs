using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using TrustStack.Tpm.Hardware;

namespace TrustStack.VTpm.Core.Tests;

/// <summary>The package README's code is compiled and run here, and checked to appear verbatim in the README.</summary>
public sealed class ReadmeSnippetTests
{
    [Fact]
    public void VTpmManager_Snippet_Runs()
    {
        var stateFolder = Directory.CreateTempSubdirectory("truststack-vtpm-readme-").FullName;
        try
        {
            // begin-snippet: vtpm-manager
            var services = new ServiceCollection()
                .AddTpmHardware()                                   // the hardware TPM that seals the vTPM state key
                .AddVTpmCore(vtpm => vtpm.StateDirectory = stateFolder);
            using var provider = services.BuildServiceProvider();
            var manager = provider.GetRequiredService<VTpmManager>();

            var vm = manager.Create().VmId;                         // a vTPM bound to a new VM UUID
            var running = manager.Start(vm);                        // launch observers run before it serves
            using var channel = manager.OpenChannel(vm);            // in-process front end...
            new Tpm2(channel).PcrExtend(0, TpmAlgId.Sha256, new byte[32]);
            var served = manager.Serve(vm, port: 0);                // ...or the swtpm protocol for tpm2-tools
            Console.WriteLine($"VM {vm}: vEK {Convert.ToHexString(running.EkName!)} on port {served.Port}");
            manager.Suspend(vm);                                    // stops serving, state written encrypted
            manager.Resume(vm);
            // end-snippet

            Assert.Equal(VTpmInstanceState.Running, manager.Inspect(vm).State);
        }
        finally
        {
            Directory.Delete(stateFolder, recursive: true);
        }
    }

    [Fact]
    public void Readme_ShowsTheCompiledSnippetVerbatim()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "TrustStack.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var readme = File.ReadAllText(Path.Combine(root.FullName, "packages", "VTpm.Core", "README.md")).ReplaceLineEndings("\n");
        var source = File.ReadAllText(Path.Combine(root.FullName, "tests", "VTpm.Core.Tests", "ReadmeSnippetTests.cs")).ReplaceLineEndings("\n");
        var match = Regex.Match(source, @"// begin-snippet: vtpm-manager\n(?<body>.*?)\n[ ]*// end-snippet", RegexOptions.Singleline);
        Assert.True(match.Success);
        var lines = match.Groups["body"].Value.Split('\n');
        var indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        Assert.Contains(string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart())), readme, StringComparison.Ordinal);
    }
}
