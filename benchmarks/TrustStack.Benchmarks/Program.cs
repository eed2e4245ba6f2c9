using BenchmarkDotNet.Running;

// Run with: dotnet run -c Release --project benchmarks/TrustStack.Benchmarks -- --filter '*'
// vTPM density (memory at 1,000 and 10,000 idle vTPMs, and swtpm RSS): dotnet run -c Release --project benchmarks/TrustStack.Benchmarks -- vtpm-density [counts...]
if (args is ["vtpm-density", ..])
{
    TrustStack.Benchmarks.VTpmDensity.Run(Console.Out, [.. args.Skip(1).Select(int.Parse)]);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>Entry point marker for BenchmarkSwitcher.</summary>
public partial class Program;
