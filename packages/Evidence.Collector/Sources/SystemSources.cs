using System.Globalization;
using TrustStack.Evidence.Collector.Linux;

namespace TrustStack.Evidence.Collector;

/// <summary>System memory from <c>/proc/meminfo</c> (per-process sizes are in the process records).</summary>
public sealed class MemoryEvidenceSource : IEvidenceSource
{
    /// <inheritdoc />
    public string Name => "memory";

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var text = await File.ReadAllTextAsync(Path.Combine(context.Options.ProcRoot, "meminfo"), cancellationToken).ConfigureAwait(false);
        return [FromMeminfo(ProcParsers.ParseMeminfo(text))];
    }

    internal static EvidenceRecord FromMeminfo(IReadOnlyDictionary<string, long> info)
    {
        var fields = new List<(string, string)>();
        foreach (var (name, key) in new[] { ("total-kib", "MemTotal"), ("free-kib", "MemFree"), ("available-kib", "MemAvailable"), ("swap-total-kib", "SwapTotal"), ("swap-free-kib", "SwapFree") })
        {
            if (info.TryGetValue(key, out var v))
            {
                fields.Add((name, Invariant(v)));
            }
        }

        if (info.TryGetValue("MemTotal", out var total) && total > 0 && info.TryGetValue("MemAvailable", out var available))
        {
            fields.Add(("used-percent", Invariant((total - available) * 100 / total)));
        }

        return EvidenceRecord.Create(EvidenceRecordTypes.Memory, "system", [.. fields]);
    }

    internal static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>CPU totals and load from <c>/proc/stat</c>, <c>/proc/cpuinfo</c> and <c>/proc/loadavg</c>.</summary>
public sealed class CpuEvidenceSource : IEvidenceSource
{
    /// <inheritdoc />
    public string Name => "cpu";

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvidenceRecord>> CollectAsync(EvidenceCollectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var root = context.Options.ProcRoot;
        var stat = await File.ReadAllTextAsync(Path.Combine(root, "stat"), cancellationToken).ConfigureAwait(false);
        var cpuinfo = await File.ReadAllTextAsync(Path.Combine(root, "cpuinfo"), cancellationToken).ConfigureAwait(false);
        var loadavg = await File.ReadAllTextAsync(Path.Combine(root, "loadavg"), cancellationToken).ConfigureAwait(false);
        return [FromText(stat, cpuinfo, loadavg)];
    }

    internal static EvidenceRecord FromText(string stat, string cpuinfo, string loadavg)
    {
        var (cpu, created, running, bootTime) = ProcParsers.ParseStat(stat);
        var (processors, model) = ProcParsers.ParseCpuInfo(cpuinfo);
        var load = ProcParsers.ParseLoadAvg(loadavg);
        static string I(long v) => MemoryEvidenceSource.Invariant(v);
        static string D(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
        return EvidenceRecord.Create(
            EvidenceRecordTypes.Cpu,
            "system",
            ("processors", I(processors)),
            ("model", model),
            ("user-ticks", I(cpu.User + cpu.Nice)),
            ("system-ticks", I(cpu.System + cpu.Irq + cpu.SoftIrq)),
            ("idle-ticks", I(cpu.Idle + cpu.IoWait)),
            ("steal-ticks", I(cpu.Steal)),
            ("busy-percent", I(cpu.Total == 0 ? 0 : (cpu.Total - cpu.Idle - cpu.IoWait) * 100 / cpu.Total)),
            ("processes-created", I(created)),
            ("running", I(running)),
            ("boot-time", I(bootTime)),
            ("load1", D(load.Load1)),
            ("load5", D(load.Load5)),
            ("load15", D(load.Load15)),
            ("threads", I(load.Threads)));
    }
}
