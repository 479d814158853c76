using System.Diagnostics;

namespace Llamero.Benchmarks.Quants;

/// <summary>
/// Brings benchmarked kernels to tier-1 code before measuring. The suites use few, long invocations, so without
/// this the small cases finish inside BenchmarkDotNet's warm-up while the kernels still run tier-0 code.
/// </summary>
internal static class JitWarmup
{
    /// <summary>Calls each action repeatedly for about <paramref name="milliseconds"/>, then leaves the background
    /// compiler time to install the optimised code.</summary>
    public static void Run(int milliseconds, params Action[] actions)
    {
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < milliseconds)
            foreach (var action in actions)
                action();
        Thread.Sleep(300);
        foreach (var action in actions)
            action();
    }
}
