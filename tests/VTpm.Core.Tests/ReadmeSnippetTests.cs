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
    public async Task Migration_Snippet_Runs()
    {
        using var sourceHost = new Migration.MigrationHost("readme-source", 900);
        using var destinationHost = new Migration.MigrationHost("readme-destination", 950);
        var sourceManager = sourceHost.Manager;
        var destinationManager = destinationHost.Manager;
        var sourceHardwareTpm = sourceHost.Hardware;
        var vmId = sourceManager.Start(sourceManager.Create().VmId).VmId;

        // begin-snippet: vtpm-migration
        var destination = new VTpmMigrationDestination(destinationManager);   // on the destination host
        var source = new VTpmMigrationSource(sourceManager);                  // on the source host
        var policy = MigrationTrustPolicy.SameLayerAs(sourceHardwareTpm, PcrSelectionList.Parse("sha256:0,1,2,3,4,5,6,7"), [destination.AttestationKeyName]);
        var result = await source.MigrateAsync(vmId, new InProcessMigrationTransport(destination), policy);
        // Completed: the vTPM runs at the destination (re-measured at its junction point) with the same
        // seeds, keys, NV, PCRs and clock; the source's copy is zeroized. Refused/RolledBack: it serves here, result.Reasons say why.
        // end-snippet

        Assert.Equal(VTpmMigrationOutcome.Completed, result.Outcome);
        Assert.Equal(VTpmInstanceState.Running, destinationManager.Inspect(vmId).State);
    }

    [Theory]
    [InlineData("vtpm-manager")]
    [InlineData("vtpm-migration")]
    public void Readme_ShowsTheCompiledSnippetVerbatim(string snippet)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "TrustStack.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var readme = File.ReadAllText(Path.Combine(root.FullName, "packages", "VTpm.Core", "README.md")).ReplaceLineEndings("\n");
        var source = File.ReadAllText(Path.Combine(root.FullName, "tests", "VTpm.Core.Tests", "ReadmeSnippetTests.cs")).ReplaceLineEndings("\n");
        var match = Regex.Match(source, "// begin-snippet: " + snippet + @"\n(?<body>.*?)\n[ ]*// end-snippet", RegexOptions.Singleline);
        Assert.True(match.Success);
        var lines = match.Groups["body"].Value.Split('\n');
        var indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        Assert.Contains(string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart())), readme, StringComparison.Ordinal);
    }
}
