using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace TrustStack.Evidence.Collector.Tests;

/// <summary>The README's custom source, compiled and run.</summary>
public sealed class ReadmeSnippetTests
{
    [Fact]
    public async Task KernelModulesSource_RegisteredBesideBuiltIns_CollectsFromProcModules()
    {
        using var fixture = new ProcFixture();
        fixture.Write("proc/modules", "tpm_crb 20480 0 - Live 0x0000000000000000\nkvm 1363968 1 kvm_intel, Live 0x0000000000000000\n");
        var services = new ServiceCollection();
        services.AddEvidenceCollector(o => o.ProcRoot = fixture.Proc);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEvidenceSource, KernelModulesSource>());
        using var provider = services.BuildServiceProvider();
        var collector = provider.GetRequiredService<EvidenceCollector>();

        var round = await collector.CollectAsync();

        Assert.Equal(["tpm_crb", "kvm"], round.Records.Where(r => r.Type == "kernel-module").Select(r => r.Subject));
    }
}

public sealed class KernelModulesSource : IEvidenceSource
{
    public string Name => "kernel-modules";

    public async Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(context.Options.ProcRoot, "modules"), cancellationToken);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .Select(f => EvidenceRecord.Create("kernel-module", f[0], ("size", f[1]), ("state", f.Length > 4 ? f[4] : "?")))
            .ToArray();
    }
}
