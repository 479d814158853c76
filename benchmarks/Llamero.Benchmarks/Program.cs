using BenchmarkDotNet.Running;

namespace Llamero.Benchmarks;

/// <summary>Runs the BenchmarkDotNet suites: <c>dotnet run -c Release --project benchmarks/Llamero.Benchmarks -- --filter '*'</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
