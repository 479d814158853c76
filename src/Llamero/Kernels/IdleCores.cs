using System.Globalization;

namespace Llamero.Kernels;

/// <summary>
/// Whether a load may put helper work (page faulting, kernel compilation) on a core its <see cref="MatMul.Threads"/>
/// leave free: only when that core is free now. On a machine whose cores are all busy with other work, a helper
/// competes with the loading thread instead of running beside it (measured here under load averages of 15 to 25: the
/// one-thread open got slower with helpers, though it used less of the loading thread's CPU).
/// </summary>
internal static class IdleCores
{
    /// <summary>
    /// True when fewer threads than processors multiply and, on Linux, the other threads running right now
    /// (<c>procs_running</c> in /proc/stat less this one and the load's own helpers) are no more than the processors those
    /// threads leave: one other thread is allowed, as the runtime's own background compiler is often busy during a load.
    /// </summary>
    public static bool OneBesideTheThreads()
    {
        var cores = Environment.ProcessorCount;
        var threads = MatMul.Threads;
        if (threads >= cores)
            return false;
        return IgnoreOtherWork || !OperatingSystem.IsLinux() || RunningNow() is not { } running
            || running - 1 - Volatile.Read(ref _helpers) <= cores - threads;
    }

    private static int _helpers;

    /// <summary>Runs <paramref name="work"/> as a load helper: while it runs, the check above does not count its thread
    /// as other work (the kernel warm-up is still running when the repack asks).</summary>
    public static void RunAsHelper(Action work)
    {
        Interlocked.Increment(ref _helpers);
        try
        {
            work();
        }
        finally
        {
            Interlocked.Decrement(ref _helpers);
        }
    }

    /// <summary>Tests set it to run the helpers whatever else the machine is running.</summary>
    internal static bool IgnoreOtherWork { get; set; }

    // Runnable threads system-wide, or null when /proc/stat cannot say.
    private static int? RunningNow()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/stat"))
            {
                if (line.StartsWith("procs_running ", StringComparison.Ordinal)
                    && int.TryParse(line.AsSpan("procs_running ".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                    return n;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}
