using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Llamero.Diagnostics;

/// <summary>CPU time of the calling thread, system time included: what other processes on a shared machine barely move.</summary>
internal static partial class ThreadCpuTime
{
    /// <summary>CPU seconds of the calling thread (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>), else the process's CPU time.</summary>
    public static double Seconds()
    {
        const int threadCpuTimeId = 3;
        if (OperatingSystem.IsLinux() && ClockGetTime(threadCpuTimeId, out var time) == 0)
            return time.Seconds + time.Nanoseconds / 1e9;
        return Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);
}
