using TrustStack.Tpm.Hardware;

namespace TrustStack.Evidence.Collector.Tests;

internal sealed class FixedTime : TimeProvider
{
    public static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;
}

internal sealed class ThrowingSource : IEvidenceSource
{
    public string Name => "broken";

    public Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("sensor unplugged");
}

internal static class EvidenceTestKit
{
    public static readonly byte[] Nonce = Convert.FromHexString("a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90");

    public static IEvidenceSource[] BuiltIn() =>
        [new MemoryEvidenceSource(), new CpuEvidenceSource(), new ProcessEvidenceSource(), new NetworkEvidenceSource(), new FileEvidenceSource(), new PolicyDataEvidenceSource(), new ImaEvidenceSource()];

    public static EvidenceTpm NewTpm(ulong seed = 7) =>
        new(new Tpm2(new SoftwareTpm(new SoftwareTpmOptions { Seed = seed, AutoStartup = true }), ownsTransport: true), ownsClient: true);

    public static EvidenceCollector Collector(EvidenceCollectorOptions options, params IEvidenceSource[] sources) =>
        new(sources.Length == 0 ? BuiltIn() : sources, Microsoft.Extensions.Options.Options.Create(options), new FixedTime());

    public static async Task<EvidenceReport> Report(ProcFixture fixture, EvidenceTpm tpm, params IEvidenceSource[] sources) =>
        await Collector(fixture.Options(), sources).RunAsync(tpm, Nonce);

    /// <summary>A policy that accepts the fixture as collected: every measured item's digest, the AK, the fixture's ports and peers.</summary>
    public static AppraisalPolicy GoldenPolicy(EvidenceReport report)
    {
        var records = EvidenceLogContents.Read(report.Log, report.Manifest.EvidencePcr, TpmAlgId.Sha256).Records;
        var digests = EvidenceAppraiser.MeasuredItems(records)
            .GroupBy(i => i.Path)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(i => i.Digest).Distinct().ToArray());
        return new AppraisalPolicy
        {
            Tpm = new TpmPolicy { TrustedAkNames = [report.Manifest.AkName], EvidencePcr = 23 },
            Software = new SoftwarePolicy { Digests = digests, Excludes = ["^boot_aggregate$", "^/var/log/"], Values = new Dictionary<string, string> { ["sysctl:net.ipv4.ip_forward"] = "0" } },
            Behavior = new BehaviorPolicy
            {
                AllowedListeningPorts = ["tcp:22", "tcp:8080", "udp:68"],
                AllowedPeers = ["10.0.0.0/8", "::1"],
                RequiredProcesses = ["sshd"],
                ForbiddenProcesses = ["telnetd"],
                ExecutablesMustBeMeasured = true,
                MaxMemoryUsedPercent = 90,
                MaxProcesses = 100,
                MaxLoad1 = 4,
            },
        };
    }
}
