using BenchmarkDotNet.Running;

// Run with: dotnet run -c Release --project benchmarks/TrustStack.Benchmarks -- --filter '*'
// vTPM density (memory at 1,000 and 10,000 idle vTPMs, and swtpm RSS): dotnet run -c Release --project benchmarks/TrustStack.Benchmarks -- vtpm-density [counts...]
if (args is ["vtpm-density", ..])
{
    TrustStack.Benchmarks.VTpmDensity.Run(Console.Out, [.. args.Skip(1).Select(int.Parse)]);
    return;
}

// Migration throughput (1,000 vTPMs between two managers): ... -- migration-throughput [count]
if (args is ["migration-throughput", ..])
{
    TrustStack.Benchmarks.MigrationThroughput.Run(Console.Out, args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000);
    return;
}

// Our swtpm-protocol server against swtpm, paired and interleaved (robust on a loaded machine): ... -- server-vs-swtpm-paired [rounds]
if (args is ["server-vs-swtpm-paired", ..])
{
    TrustStack.Benchmarks.ServerVsSwtpmPaired.Run(Console.Out, args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 60);
    return;
}

// TMZ-DAA phases against k × one scalar multiplication in the same group and run: ... -- daa-floor [rounds]
if (args is ["daa-floor", ..])
{
    TrustStack.Benchmarks.DaaFloor.Run(Console.Out, args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 21);
    return;
}

// NS model predictions against measured time, ratios between groups and phases: ... -- daa-ns-validate [rounds] [profile.json]
if (args is ["daa-ns-validate", ..])
{
    TrustStack.Benchmarks.DaaNsValidation.Run(Console.Out, args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 21, args.Length > 2 ? args[2] : null);
    return;
}

// TVP-PCA appraisal throughput on 1 and 2 threads: ... -- tvppca-throughput [seconds]
if (args is ["tvppca-throughput", ..])
{
    TrustStack.Benchmarks.TvpPcaThroughput.Run(Console.Out, args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>Entry point marker for BenchmarkSwitcher.</summary>
public partial class Program;
