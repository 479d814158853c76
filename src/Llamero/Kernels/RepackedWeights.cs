using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Quants.Interleaved;

namespace Llamero.Kernels;

/// <summary>
/// Owns the memory of weight matrices repacked at load time into an interleaved layout (llama.cpp's CPU "repack"
/// buffer). <see cref="RepackAll"/> copies a model's plain matrices out of the mapped file in one parallel pass, in
/// source order, into one native region on huge pages where the OS offers them (matrices at 64-byte boundaries), and
/// says when each chunk and each matrix is done so the loader can release the mapped pages it read
/// (<see cref="Gguf.GgufFile.ReleaseTensorPages(Gguf.GgufTensorInfo, long, long)"/>): the copy replaces the file's pages
/// in resident memory instead of doubling them. Dispose after every session that uses the matrices.
/// </summary>
public sealed unsafe class RepackedWeights : IDisposable
{
    // Plain bytes one worker packs per claim: large enough that claiming costs nothing, small enough that two threads
    // share even a single matrix evenly and that a matrix's pages are released soon after they are read.
    internal const long ChunkBytes = 1 << 20;
    private const int PageAlignment = 4096;

    /// <summary>
    /// Regions of at least this size start on a 2 MiB boundary and ask for transparent huge pages: token generation
    /// streams every byte of them once per token, and on 4 KiB pages one thread read them ~15% slower (a TLB walk and a
    /// cold hardware prefetcher at every 4 KiB boundary; benchmarks <c>-- gemv-stream</c>). A hint: where THP is off
    /// the region simply stays on small pages. The price is at load where huge pages are dear to fault in (a virtual
    /// machine whose host has taken the memory back: ~3 ms per MB against 0.5 on small pages): there the region is filled
    /// on small pages and collapsed later (<see cref="HugePageBacking"/>); <see cref="HugePagesVariable"/>=0 turns the
    /// request off altogether.
    /// </summary>
    internal const int HugePageBytes = 2 << 20;

    /// <summary>Environment variable that, set to 0, keeps the repacked weights on small pages.</summary>
    public const string HugePagesVariable = "LLAMERO_HUGEPAGES";

    private static readonly bool AskHugePages = Environment.GetEnvironmentVariable(HugePagesVariable) != "0";

    private readonly Func<Gguf.GgmlType, WeightLayout?> _layoutFor;
    private readonly List<(nint Pointer, long Bytes)> _regions = [];
    private bool _disposed;

    /// <summary>Repacks each format into its default layout (<see cref="InterleavedLayouts.Default"/>).</summary>
    public RepackedWeights()
        : this(type => InterleavedLayouts.Default(type))
    {
    }

    /// <summary>Repacks each format into the layout <paramref name="layoutFor"/> names (null: keep plain).</summary>
    public RepackedWeights(Func<Gguf.GgmlType, WeightLayout?> layoutFor)
    {
        ArgumentNullException.ThrowIfNull(layoutFor);
        _layoutFor = layoutFor;
    }

    /// <summary>Bytes of native memory the repacked matrices hold.</summary>
    public long Bytes { get; private set; }

    /// <summary>Matrices repacked so far.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// <paramref name="plain"/> in its format's layout when there is one and the shape fits it (whole row groups),
    /// else <paramref name="plain"/> itself. The plain matrix's bytes are not read again afterwards.
    /// </summary>
    public WeightMatrix Repack(in WeightMatrix plain) => RepackAll([plain])[0];

    /// <summary>
    /// Each of <paramref name="plain"/> in its format's layout where one fits (else the matrix itself, untouched), packed
    /// in one pass over <see cref="MatMul.Threads"/> threads. <paramref name="packed"/>, when given, is called once per
    /// repacked matrix (its index in <paramref name="plain"/>) as soon as its last group is written, from whichever
    /// worker wrote it: the plain bytes are not read again after that. <paramref name="read"/>, when given, hears of
    /// each chunk of plain bytes as soon as it is packed (index, byte offset in the matrix, length), from the worker that
    /// packed it, so a loader can release the source a chunk at a time rather than a matrix at a time.
    /// </summary>
    public WeightMatrix[] RepackAll(ReadOnlySpan<WeightMatrix> plain, Action<int>? packed = null, Action<int, long, long>? read = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var result = plain.ToArray();
        var jobs = Plan(result, out var total);
        if (jobs.Count == 0)
            return result;

        var region = Allocate(total, out var backing);
        foreach (var job in jobs)
            result[job.Index] = new WeightMatrix(job.Plain.Type, (nint)(region + job.Offset), job.Plain.Rows, job.Plain.Cols, job.Layout);
        Fill(jobs, region, backing, packed, read);
        backing?.Filled();
        Count += jobs.Count;
        Bytes += total;
        return result;
    }

    // One matrix to repack: where it comes from, where it goes in the region, how its groups are cut into chunks.
    private sealed class Job(int index, WeightMatrix plain, WeightLayout layout, long offset)
    {
        public int Index { get; } = index;
        public WeightMatrix Plain { get; } = plain;
        public WeightLayout Layout { get; } = layout;
        public long Offset { get; } = offset;
        public int Groups => Plain.Rows / Layout.RowGroup;
        public long GroupBytes => Layout.GroupBytes(Plain.Cols);
        public long PlainGroupBytes => Layout.RowGroup * Plain.RowBytes;
        public int GroupsPerChunk => (int)Math.Clamp(ChunkBytes / PlainGroupBytes, 1, Groups);
        public int Chunks => (Groups + GroupsPerChunk - 1) / GroupsPerChunk;
        public int Remaining;
        public Job? Next;   // the matrix after this one in memory order
    }

    // The matrices that take a layout, in the order their bytes lie in memory (the file's order: sequential reads),
    // each placed at a 64-byte boundary of one region of `total` bytes.
    private List<Job> Plan(WeightMatrix[] plain, out long total)
    {
        var jobs = new List<Job>();
        total = 0;
        foreach (var i in Enumerable.Range(0, plain.Length).OrderBy(i => plain[i].Data))
        {
            var m = plain[i];
            if (m.Layout is not null || _layoutFor(m.Type) is not { } layout || !layout.Fits(m.Rows, m.Cols))
                continue;
            var job = new Job(i, m, layout, total);
            job.Remaining = job.Chunks;
            if (jobs.Count > 0)
                jobs[^1].Next = job;
            jobs.Add(job);
            total += (job.Groups * job.GroupBytes + 63) & ~63L;
        }
        return jobs;
    }

    // A region of huge-page size on huge pages while they are cheap to fault in (`backing` watches), else on small pages.
    private byte* Allocate(long total, out HugePageBacking? backing)
    {
        var huge = AskHugePages && total >= HugePageBytes;
        var region = (byte*)NativeMemory.AlignedAlloc((nuint)total, (nuint)(huge ? HugePageBytes : PageAlignment));
        _regions.Add(((nint)region, total));
        backing = huge ? HugePageBacking.Advise(region, total) : null;
        return region;
    }

    // Workers claim chunks in source order; the worker that writes a matrix's last chunk reports it, and the first
    // chunk of each matrix asks the OS to start reading the next matrix's pages (a no-op when they are cached). A chunk's
    // pages (copy and file) are faulted in ahead of its packing (ChunkPages), by the workers themselves and, where a core
    // is left idle by the threads asked for, by one helper thread that does nothing else.
    private static void Fill(List<Job> jobs, byte* region, HugePageBacking? backing, Action<int>? packed, Action<int, long, long>? read)
    {
        var chunks = new List<(Job Job, int First)>();
        foreach (var job in jobs)
        {
            for (var c = 0; c < job.Chunks; c++)
                chunks.Add((job, c * job.GroupsPerChunk));
        }
        var next = -1;
        var workers = Math.Clamp(MatMul.Threads, 1, chunks.Count);
        var pages = new ChunkPages(chunks.Count, c => Touches(chunks[c].Job, chunks[c].First, region), backing);
        if (PopulateAhead && chunks.Count > 1 && IdleCores.OneBesideTheThreads())
            pages.StartHelper(() => Volatile.Read(ref next));
        try
        {
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
            {
                int c;
                while ((c = Interlocked.Increment(ref next)) < chunks.Count)
                {
                    var (job, first) = chunks[c];
                    if (first == 0 && job.Next is { } following)
                        MemoryAdvice.Advise(following.Plain.Data, following.Plain.ByteSize, MemoryAdvice.WillNeed);
                    pages.Ensure(c);
                    var bytes = PackChunk(job, first, region);
                    read?.Invoke(job.Index, first * job.PlainGroupBytes, bytes);
                    if (Interlocked.Decrement(ref job.Remaining) == 0)
                        packed?.Invoke(job.Index);
                }
            });
        }
        finally
        {
            pages.Stop();
        }
    }

    /// <summary>
    /// Whether a repack may fault pages in on one helper thread while a core is idle (<see cref="IdleCores"/>): the
    /// kernel's page faults cost more than the packing itself (0.4 ms per MiB of fresh copy on small pages), and a
    /// one-thread load otherwise waits for both in turn. The helper packs and multiplies nothing. Tests turn it off to
    /// compare.
    /// </summary>
    internal static bool PopulateAhead { get; set; } = true;

    // The bytes of the copy the chunk of groups from `first` writes, and the plain bytes it reads.
    private static (nint Copy, long CopyBytes, nint Source, long SourceBytes) Touches(Job job, int first, byte* region)
    {
        var groups = Math.Min(job.Groups, first + job.GroupsPerChunk) - first;
        return ((nint)(region + job.Offset + first * job.GroupBytes), groups * job.GroupBytes,
            job.Plain.Data + (nint)(first * job.PlainGroupBytes), groups * job.PlainGroupBytes);
    }

    // Packs the chunk of groups from `first` (its pages faulted in, or being faulted in by the helper) and returns how
    // many plain bytes it read.
    private static long PackChunk(Job job, int first, byte* region)
    {
        var layout = job.Layout;
        var cols = job.Plain.Cols;
        var plainGroupBytes = job.PlainGroupBytes;
        var groupBytes = job.GroupBytes;
        var source = (byte*)job.Plain.Data;
        var destination = region + job.Offset;
        var end = Math.Min(job.Groups, first + job.GroupsPerChunk);
        for (var g = first; g < end; g++)
        {
            layout.Pack(new ReadOnlySpan<byte>(source + g * plainGroupBytes, checked((int)plainGroupBytes)), cols,
                new Span<byte>(destination + g * groupBytes, checked((int)groupBytes)));
        }
        return (end - first) * plainGroupBytes;
    }

    /// <summary>Frees the repacked matrices (<see cref="Count"/> and <see cref="Bytes"/> become 0); they must no longer be used.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        foreach (var (pointer, _) in _regions)
            NativeMemory.AlignedFree((void*)pointer);
        _regions.Clear();
        Count = 0;
        Bytes = 0;
    }
}
