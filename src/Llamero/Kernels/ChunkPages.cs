using Llamero.Gguf;

namespace Llamero.Kernels;

/// <summary>
/// Faults in the pages a repack's chunks touch, chunk by chunk in the order the packers take them, each chunk once and
/// before it is packed: its part of the fresh copy for writing (<c>madvise(MADV_POPULATE_WRITE)</c>, through
/// <see cref="HugePageBacking"/> when the region asked for huge pages) and its plain bytes in the mapped file for reading
/// (<c>MADV_POPULATE_READ</c>): one system call each rather than a fault a page. A packer faults in its own chunk unless a
/// helper thread has claimed it already; the helper takes the chunks after the packers' in order, at most
/// <see cref="Lead"/> ahead of the packing, which bounds what the copy and the file hold ahead of the chunk being packed.
/// </summary>
internal sealed unsafe class ChunkPages
{
    /// <summary>Chunks the faulting may run ahead of the last chunk a packer has claimed.</summary>
    internal const int Lead = 4;

    private readonly int _chunks;
    private readonly Func<int, (nint Copy, long CopyBytes, nint Source, long SourceBytes)> _range;
    private readonly HugePageBacking? _backing;
    private int _claimed = -1;
    private int _stopped;
    private int _helperFaulting;

    /// <summary>Pages for <paramref name="chunks"/> chunks, chunk c writing and reading the ranges <paramref name="range"/>(c) gives.</summary>
    public ChunkPages(int chunks, Func<int, (nint Copy, long CopyBytes, nint Source, long SourceBytes)> range, HugePageBacking? backing)
    {
        _chunks = chunks;
        _range = range;
        _backing = backing;
    }

    /// <summary>
    /// Faults chunk <paramref name="chunk"/> in (and any unclaimed one before it) unless another thread has claimed it:
    /// then the caller goes on at once and its own writes fault in whatever that thread has not reached yet. Populating
    /// never changes a page's bytes, so the two never conflict, and a packer never waits on a helper the scheduler has
    /// put aside (on a loaded machine it may be, for many milliseconds).
    /// </summary>
    public void Ensure(int chunk)
    {
        while (Volatile.Read(ref _claimed) < chunk)
            FaultNext(chunk);
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

    // The helper's loop: the next chunk in order while the packing is within the lead, until all are claimed or Stop.
    private void Help(Func<int> packing)
    {
        var wait = new SpinWait();
        while (Volatile.Read(ref _claimed) + 1 < _chunks)
        {
            // Announce the fault before looking at the stop flag (both full fences): Stop either sees it or is seen.
            Interlocked.Increment(ref _helperFaulting);
            var faulted = Volatile.Read(ref _stopped) == 0 && FaultNext(Math.Max(packing(), 0) + Lead);
            var stopped = Volatile.Read(ref _stopped) != 0;
            Interlocked.Decrement(ref _helperFaulting);
            if (stopped)
                break;
            if (faulted)
                wait.Reset();
            else
                wait.SpinOnce();
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

    // Claims the next chunk in order and faults it in, unless it lies past `limit` or there is none left: then false.
    private bool FaultNext(int limit)
    {
        var claimed = Volatile.Read(ref _claimed);
        var chunk = claimed + 1;
        if (chunk > limit || chunk >= _chunks)
            return false;
        if (Interlocked.CompareExchange(ref _claimed, chunk, claimed) != claimed)
            return true;   // another thread took it: the caller looks again
        var (copy, copyBytes, source, sourceBytes) = _range(chunk);
        if (_backing is null)
            MemoryAdvice.Advise(copy, copyBytes, MemoryAdvice.PopulateWrite);
        else
            _backing.Populate((byte*)copy, copyBytes);
        // A hint: older kernels refuse it, and the packer's reads fault the pages in.
        MemoryAdvice.Advise(source, sourceBytes, MemoryAdvice.PopulateRead);
        return true;
    }
}
