using System.Globalization;
using BenchmarkDotNet.Running;
using TrustStack.Benchmarks;

// BenchmarkDotNet classes: dotnet run -c Release --project benchmarks/TrustStack.Benchmarks -- --filter '*'
// Measurement modes that are not BenchmarkDotNet jobs: ... -- <mode> [arguments]; one row each below.
var modes = new Dictionary<string, (string Usage, Action<string[]> Run)>(StringComparer.Ordinal)
{
    // Memory at 1,000 and 10,000 idle vTPMs, and swtpm's RSS.
    ["vtpm-density"] = ("[counts...]", a => VTpmDensity.Run(Console.Out, [.. a.Select(int.Parse)])),

    // Durability cost per vTPM command (NV_Increment write-through vs tpm serve's write), paired.
    ["vtpm-durable-paired"] = ("[rounds]", a => VTpmDurablePaired.Run(Console.Out, Int(a, 0, 21))),

    // 1,000 vTPMs migrated between two managers.
    ["migration-throughput"] = ("[count]", a => MigrationThroughput.Run(Console.Out, Int(a, 0, 1_000))),

    // Our swtpm-protocol server against swtpm, paired and interleaved (robust on a loaded machine).
    ["server-vs-swtpm-paired"] = ("[rounds]", a => ServerVsSwtpmPaired.Run(Console.Out, Int(a, 0, 60))),

    // TMZ-DAA phases against k × one scalar multiplication in the same group and run.
    ["daa-floor"] = ("[rounds]", a => DaaFloor.Run(Console.Out, Int(a, 0, 21))),

    // NS model predictions against measured time, ratios between groups and phases.
    ["daa-ns-validate"] = ("[rounds] [profile.json]", a => DaaNsValidation.Run(Console.Out, Int(a, 0, 21), a.Length > 1 ? a[1] : null)),

    // The engine's state file per command: clear against AES-256-GCM encrypted, paired.
    ["state-file-cost"] = ("[rounds]", a => StateFileCost.Run(Console.Out, Int(a, 0, 30))),

    // TVP-PCA appraisal throughput on 1 and 2 threads.
    ["tvppca-throughput"] = ("[seconds]", a => TvpPcaThroughput.Run(Console.Out, a.Length > 0 ? double.Parse(a[0], CultureInfo.InvariantCulture) : 5)),
};

if (args is ["modes"])
{
    foreach (var (name, (usage, _)) in modes)
    {
        Console.WriteLine($"{name} {usage}");
    }

    return;
}

if (args is [var mode, ..] && modes.TryGetValue(mode, out var selected))
{
    selected.Run(args[1..]);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

static int Int(string[] arguments, int index, int fallback) =>
    arguments.Length > index ? int.Parse(arguments[index], CultureInfo.InvariantCulture) : fallback;

/// <summary>Entry point marker for BenchmarkSwitcher.</summary>
public partial class Program;
