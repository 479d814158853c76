using Llamero.Gguf;

namespace Llamero.Kernels;

/// <summary>
/// Faults in the pages a repack's chunks touch, chunk by chunk in the order the packers take them, each chunk once and
/// before it is packed: its part of the fresh copy for writing (<c>madvise(MADV_POPULATE_WRITE)</c>, through
/// <see cref="HugePageBacking"/> when the region asked for huge pages) and its plain bytes in the mapped file for reading
/// (<c>MADV_POPULATE_READ</c>): one system call each rather than a fault a page. A packer faults in its own chunk unless a
/// helper thread has claimed it already (each packer its own, as several packers do without a helper); the helper takes
/// the chunks after the packers' in order, at most <see cref="Lead"/> ahead of the packing, which bounds what the copy
/// and the file hold ahead of the chunk being packed.
/// </summary>
internal sealed unsafe class ChunkPages
{
    /// <summary>Chunks the faulting may run ahead of the last chunk a packer has claimed.</summary>
    internal const int Lead = 4;

    private readonly int _chunks;
    private readonly int[] _claimed;   // 1 once a thread has taken the chunk
    private readonly Func<int, (nint Copy, long CopyBytes, nint Source, long SourceBytes)> _range;
    private readonly HugePageBacking? _backing;
    private int _stopped;
    private int _helperFaulting;

    /// <summary>Pages for <paramref name="chunks"/> chunks, chunk c writing and reading the ranges <paramref name="range"/>(c) gives.</summary>
    public ChunkPages(int chunks, Func<int, (nint Copy, long CopyBytes, nint Source, long SourceBytes)> range, HugePageBacking? backing)
    {
        _chunks = chunks;
        _claimed = new int[chunks];
        _range = range;
        _backing = backing;
    }

    /// <summary>
    /// Faults chunk <paramref name="chunk"/> in unless the helper has claimed it: then the caller goes on at once and its
    /// own writes fault in whatever the helper has not reached yet. Populating never changes a page's bytes, so the two
    /// never conflict, and a packer never waits on a helper the scheduler has put aside (on a loaded machine it may be,
    /// for many milliseconds).
    /// </summary>
    public void Ensure(int chunk)
    {
        if (Interlocked.Exchange(ref _claimed[chunk], 1) == 0)
            Fault(chunk);
    }

    /// <summary>
    /// Starts a helper thread that faults chunks in, in order, never more than <see cref="Lead"/> past the chunk
    /// <paramref name="packing"/> says a packer claimed last; it ends when every chunk is claimed or at <see cref="Stop"/>.
    /// </summary>
    public void StartHelper(Func<int> packing)
    {
        var helper = new Thread(() => IdleCores.RunAsHelper(() => Help(packing)))
        {
            IsBackground = true,
            Name = "Llamero page faulting",
        };
        helper.Start();
    }

    // The helper's loop: the chunks after the last one a packer has taken, in order, each unless a packer got to it
    // first, never more than the lead ahead, until the last chunk or Stop.
    private void Help(Func<int> packing)
    {
        var wait = new SpinWait();
        var next = 0;
        while (next < _chunks)
        {
            var packed = packing();
            next = Math.Max(next, packed + 1);
            if (next >= _chunks)
                break;
            if (next > Math.Max(packed, 0) + Lead)
            {
                wait.SpinOnce();
                continue;
            }
            // Announce the fault before looking at the stop flag (both full fences): Stop either sees it or is seen.
            Interlocked.Increment(ref _helperFaulting);
            var stopped = Volatile.Read(ref _stopped) != 0;
            if (!stopped && Interlocked.Exchange(ref _claimed[next], 1) == 0)
                Fault(next);
            Interlocked.Decrement(ref _helperFaulting);
            if (stopped)
                break;
            next++;
            wait.Reset();
        }
    }

    /// <summary>
    /// Stops the helper's faulting (the packing ended, or failed) and returns once it has finished the chunk it was
    /// faulting in: no page is touched afterwards.
    /// </summary>
    public void Stop()
    {
        Interlocked.Exchange(ref _stopped, 1);
        var wait = new SpinWait();
        while (Volatile.Read(ref _helperFaulting) != 0)
            wait.SpinOnce(sleep1Threshold: -1);
    }

    // Faults in the chunk's copy for writing and its plain bytes for reading.
    private void Fault(int chunk)
    {
        var (copy, copyBytes, source, sourceBytes) = _range(chunk);
        if (_backing is null)
            MemoryAdvice.Advise(copy, copyBytes, MemoryAdvice.PopulateWrite);
        else
            _backing.Populate((byte*)copy, copyBytes);
        // A hint: older kernels refuse it, and the packer's reads fault the pages in.
        MemoryAdvice.Advise(source, sourceBytes, MemoryAdvice.PopulateRead);
    }
}
