using BenchmarkDotNet.Running;
using Llamero.Benchmarks.SideBySide;

namespace Llamero.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/Llamero.Benchmarks -- side-by-side [options]</c>: whole-model speed
/// beside llama.cpp (see SideBySideRunner); anything else runs the BenchmarkDotNet suites (<c>-- --filter '*'</c>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "side-by-side")
            return SideBySideRunner.Run(args[1..]);
        if (args.Length > 0 && args[0] == "measure")
            return SideBySideRunner.Measure(args);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
