using Llamero.Diagnostics;
using Llamero.Gguf;

namespace Llamero.Kernels;

/// <summary>
/// Puts a fresh region on transparent huge pages while they come cheap, and on small pages once they do not.
/// Huge pages make token generation stream the repacked weights faster (see <see cref="RepackedWeights.HugePageBytes"/>)
/// and are normally cheaper to fault in than small ones, but a virtual machine whose host takes back free guest memory
/// (virtio-balloon free page reporting, as on the Firecracker VM these benchmarks run on) serves a fresh huge page with
/// hundreds of host faults: 3.4 CPU seconds per GiB against 0.5 on small pages, which made a one-thread load of a 1 GB
/// model three times slower than llama.cpp's. So every populate of the region is timed (thread CPU time, where the
/// faults are charged): the first that costs more than small pages ever do switches the rest of the region to small
/// pages, and once the region is filled it is marked for huge pages again, which the kernel's khugepaged then
/// collapses in the background at its own slow pace.
/// </summary>
internal sealed unsafe class HugePageBacking
{
    private const int NoHugePage = 15;

    // A populate that costs more than this per MiB it faulted in met the host's faults (measured on this VM: huge pages
    // 0.1-0.3 ms per MiB while the host still backs them, 3.3-3.5 ms once it has taken them back; small pages 0.4-0.6 ms).
    // A populate of part of a huge page faults in the whole of it, so the cost is set against whole huge pages.
    private const double DearSecondsPerMiB = 1.2e-3;

    private readonly byte* _region;
    private readonly long _bytes;
    private readonly double _dearSecondsPerMiB;
    private int _small;

    /// <summary>Advises [<paramref name="region"/>, +<paramref name="bytes"/>) for huge pages and watches what they cost,
    /// a populate over <paramref name="dearSecondsPerMiB"/> CPU seconds per MiB being dear (tests force either way).</summary>
    internal HugePageBacking(byte* region, long bytes, double dearSecondsPerMiB = DearSecondsPerMiB)
    {
        _region = region;
        _bytes = bytes;
        _dearSecondsPerMiB = dearSecondsPerMiB;
        MemoryAdvice.Advise((nint)region, bytes, MemoryAdvice.HugePage, wholePagesOnly: true);
    }

    /// <summary>Advises [<paramref name="region"/>, +<paramref name="bytes"/>) for huge pages and watches what they
    /// cost; null off Linux.</summary>
    public static HugePageBacking? Advise(byte* region, long bytes) => OperatingSystem.IsLinux() ? new(region, bytes) : null;

    /// <summary>True once the region went over to small pages.</summary>
    public bool SwitchedToSmallPages => Volatile.Read(ref _small) != 0;

    /// <summary>Faults in [<paramref name="start"/>, +<paramref name="length"/>) for writing; when that was dear, the
    /// region beyond it goes on small pages. Thread-safe.</summary>
    public void Populate(byte* start, long length)
    {
        var before = ThreadCpuTime.Seconds();
        MemoryAdvice.Advise((nint)start, length, MemoryAdvice.PopulateWrite);
        if (SwitchedToSmallPages)
            return;
        var huge = RepackedWeights.HugePageBytes;
        var faulted = ((long)start + length + huge - 1) / huge - (long)start / huge;
        var dear = ThreadCpuTime.Seconds() - before > _dearSecondsPerMiB * faulted * (huge >> 20);
        if (dear && Interlocked.Exchange(ref _small, 1) == 0)
        {
            var rest = start + length;
            MemoryAdvice.Advise((nint)rest, _region + _bytes - rest, NoHugePage, wholePagesOnly: true);
        }
    }

    /// <summary>Once the region is written: when it went over to small pages, marks it for huge pages again so that
    /// khugepaged collapses it over time, off the loading thread.</summary>
    public void Filled()
    {
        if (SwitchedToSmallPages)
            MemoryAdvice.Advise((nint)_region, _bytes, MemoryAdvice.HugePage, wholePagesOnly: true);
    }
}
