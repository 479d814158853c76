using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Llamero.Benchmarks;

/// <summary>CPU time of the calling thread: what a measurement on a shared machine compares (other processes barely move it).</summary>
internal static class ThreadCpu
{
    /// <summary>CPU seconds of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID), else the process's CPU time.</summary>
    public static double Seconds()
    {
        const int threadCpuTimeId = 3;
        if (OperatingSystem.IsLinux() && ClockGetTime(threadCpuTimeId, out var ts) == 0)
            return ts.Seconds + ts.Nanoseconds / 1e9;
        return Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);
}
