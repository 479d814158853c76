using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Llamero.Benchmarks.SideBySide;

/// <summary>
/// The machine's read bandwidth, the ceiling for generation (every token reads every weight once). Each thread is
/// started before the clock and released by a barrier, sums its own slice of a 1 GiB native buffer (touched first so
/// no page faults are timed) with eight independent accumulators; the figure is the best of five passes. The buffer
/// asks for transparent huge pages, as the repacked weights do (RepackedWeights): on 4 KiB pages one thread read
/// 15–30% less, so the old probe on small pages understated the ceiling. A pass counts by wall time when every thread
/// ran undisturbed (its CPU time at least 90% of the pass's wall time); on a shared machine, where another process
/// switched a thread out and the wall-clock probe read low (engines then showed over 100%), it counts by the slowest
/// thread's CPU time instead, which assumes the threads ran together (with several threads it may then read high).
/// </summary>
internal static unsafe class ReadBandwidth
{
    private const long Bytes = 1L << 30;

    /// <summary>GB/s read by <paramref name="threads"/> threads together.</summary>
    public static double Measure(int threads)
    {
        var data = (byte*)NativeMemory.AlignedAlloc((nuint)Bytes, 2 << 20);
        try
        {
            AskHugePages(data, Bytes);
            for (long at = 0; at < Bytes; at += 1 << 24)
                new Span<byte>(data + at, 1 << 24).Fill(1);
            var slice = Bytes / threads & ~255L;
            var best = 0.0;
            var bestUndisturbed = 0.0;
            for (var pass = 0; pass < 5; pass++)
            {
                using var start = new Barrier(threads + 1);
                var seconds = new double[threads];
                var workers = new Thread[threads];
                for (var t = 0; t < threads; t++)
                {
                    var index = t;
                    workers[t] = new Thread(() =>
                    {
                        start.SignalAndWait();
                        var cpu = Llamero.Diagnostics.ThreadCpuTime.Seconds();
                        Sink = Sum(data + index * slice, slice);
                        seconds[index] = Llamero.Diagnostics.ThreadCpuTime.Seconds() - cpu;
                    });
                    workers[t].Start();
                }
                start.SignalAndWait();
                var wall = Stopwatch.StartNew();
                foreach (var w in workers)
                    w.Join();
                var elapsed = wall.Elapsed.TotalSeconds;
                best = Math.Max(best, slice * threads / 1e9 / seconds.Max());
                if (seconds.Min() >= 0.9 * elapsed)
                    bestUndisturbed = Math.Max(bestUndisturbed, slice * threads / 1e9 / elapsed);
            }
            if (bestUndisturbed > 0)
                best = bestUndisturbed;
            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(data);
        }
    }

    /// <summary>Asks for transparent huge pages over [<paramref name="p"/>, +<paramref name="bytes"/>) (MADV_HUGEPAGE; a hint, Linux only).</summary>
    internal static void AskHugePages(byte* p, long bytes)
    {
        if (OperatingSystem.IsLinux())
            _ = Madvise((nint)p, (nuint)bytes, 14);
    }

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);

    /// <summary>Keeps the sums observable so the JIT cannot drop the loop.</summary>
    public static float Sink;

    /// <summary>Sums <paramref name="bytes"/> at <paramref name="p"/> as floats (the probe's read loop).</summary>
    internal static float Sum(byte* p, long bytes)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        var f = (float*)p;
        var end = f + bytes / sizeof(float);
        for (; f + 64 <= end; f += 64)
        {
            a0 += Vector256.Load(f);
            a1 += Vector256.Load(f + 8);
            a2 += Vector256.Load(f + 16);
            a3 += Vector256.Load(f + 24);
            a4 += Vector256.Load(f + 32);
            a5 += Vector256.Load(f + 40);
            a6 += Vector256.Load(f + 48);
            a7 += Vector256.Load(f + 56);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }
}
