using BenchmarkDotNet.Running;

// Run with: dotnet run -c Release --project benchmarks/TrustStack.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>Entry point marker for BenchmarkSwitcher.</summary>
public partial class Program;
