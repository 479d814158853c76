namespace Llamero.Benchmarks;

/// <summary>CPU time of the calling thread: what a measurement on a shared machine compares (other processes barely move it).</summary>
internal static class ThreadCpu
{
    /// <summary>CPU seconds of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID), else the process's CPU time.</summary>
    public static double Seconds() => Diagnostics.ThreadCpuTime.Seconds();
}
