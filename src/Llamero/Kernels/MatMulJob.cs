using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Quants;

namespace Llamero.Kernels;

/// <summary>
/// Up to <see cref="MaxParts"/> weight matrices multiplied by the same activations in one pool run: the
/// activations are quantized once per dot-partner format (in parallel for a prompt batch), then the participants
/// claim the rows of all the matrices from one atomic counter, in shrinking shares (a busy core takes fewer), so
/// Q, K and V (or gate and up) cost one hand-off instead of three. One job per calling thread, reused: nothing is
/// allocated once its buffers have grown to the largest batch.
/// </summary>
internal sealed unsafe class MatMulJob : IParallelWork
{
    /// <summary>Most matrices one job multiplies.</summary>
    public const int MaxParts = 3;

    // Below this many multiply-adds (some tens of microseconds on one core) the caller works alone: a hand-off costs a
    // few microseconds on an idle machine, and on a busy one a worker that is switched out while it holds a chunk
    // makes the caller wait a whole time slice.
    private const long ParallelThreshold = 1 << 20;
    // Activation elements before quantizing them is worth a pool run of its own (a TinyLlama prompt of 32 rows is).
    private const long ParallelQuantizeElements = 1 << 16;
    // Fewest weight rows one claim takes for a single activation row (a claim costs an atomic operation).
    private const int MinChunkRows = 16;
    // Rows are claimed in multiples of this: the largest row group a repacked layout stores together.
    private const int ClaimUnit = 8;
    // Weight bytes per chunk when a prompt batch reuses each row from cache (L2 is 512 KB or more).
    private const int ChunkBytesForBatch = 256 * 1024;

    [ThreadStatic]
    private static MatMulJob? t_job;

    private readonly MatMulPart[] _parts = new MatMulPart[MaxParts];
    private readonly GgmlType[] _partners = new GgmlType[MaxParts];
    private readonly int[] _bufferOf = new int[MaxParts];
    private readonly byte[][] _buffers = [[], [], []];
    private int _count;
    private int _buffersInUse;
    private float* _x;
    private int _cols;
    private int _batch;
    private bool _quantizing;
    private int _items;
    private int _next;
    private int _totalRows;
    private int _minChunk;
    private int _maxChunk;
    private int _shareDivisor;

    /// <summary>The calling thread's job.</summary>
    public static MatMulJob ForThisThread => t_job ??= new MatMulJob();

    /// <summary>Starts a job over <paramref name="batch"/> rows of <paramref name="cols"/> floats at <paramref name="x"/>.</summary>
    public void Begin(float* x, int cols, int batch)
    {
        _count = 0;
        _buffersInUse = 0;
        _x = x;
        _cols = cols;
        _batch = batch;
    }

    /// <summary>Adds y = W·x for <paramref name="w"/>; <paramref name="y"/> holds batch rows of <c>w.Rows</c> floats.</summary>
    public void Add(in WeightMatrix w, float* y)
    {
        ref var part = ref _parts[_count];
        var partner = MatMul.Bind(w.Type, ref part);
        part.Weights = (byte*)w.Data;
        part.RowBytes = w.RowBytes;
        part.GroupBytes = 0;
        if (w.Layout is { } layout)
        {
            part.Kernel = layout.Kernel;
            part.GroupBytes = layout.GroupBytes(w.Cols);
            part.RowBytes = part.GroupBytes / layout.RowGroup;
            part.HasGemmRange = layout.HasGemmRange;
        }
        else
            part.HasGemmRange = false;
        part.Rows = w.Rows;
        part.Cols = w.Cols;
        part.Y = y;
        part.Batch = _batch;
        _partners[_count] = partner;
        // Matrices whose formats share a dot partner share the quantized activations.
        var buffer = Array.IndexOf(_partners, partner, 0, _count);
        _bufferOf[_count] = buffer >= 0 ? _bufferOf[buffer] : _buffersInUse++;
        _count++;
    }

    /// <summary>Quantizes the activations and multiplies every added matrix, on the pool when it pays.</summary>
    public void Run()
    {
        var maxChunk = PrepareBuffers();
        long work = 0;
        for (var i = 0; i < _count; i++)
            work += (long)_parts[i].Rows * _parts[i].Cols * _batch;
        var participants = work < ParallelThreshold ? 1 : MatMul.Threads;

        _quantizing = true;
        _items = _buffersInUse * _batch;
        _next = 0;
        if (participants > 1 && _batch > 1 && (long)_items * _cols >= ParallelQuantizeElements)
            MatMul.Run(this, participants);
        else
            Execute(0, 1);

        _quantizing = false;
        _totalRows = 0;
        for (var i = 0; i < _count; i++)
        {
            // Each part starts on a whole claim unit, so a repacked part is only ever handed whole row groups.
            ref var part = ref _parts[i];
            part.FirstRow = (_totalRows + ClaimUnit - 1) & ~(ClaimUnit - 1);
            _totalRows = part.FirstRow + part.Rows;
        }
        _minChunk = _batch > 1 ? ClaimUnit : MinChunkRows;
        _maxChunk = _batch > 1 ? maxChunk : int.MaxValue;
        _shareDivisor = 2 * participants;
        _next = 0;
        MatMul.Run(this, participants);
    }

    /// <summary>
    /// Grows the activation buffers to the batch and points each part at its own; returns the most rows a prompt batch's claim
    /// takes: whole rows, no more weight bytes than stay in L2 while every tile passes; rows split in column ranges
    /// (<see cref="GemmBlocking"/>), its claim size.
    /// </summary>
    private int PrepareBuffers()
    {
        long widestRow = 0;
        var maxChunk = int.MaxValue;
        for (var i = 0; i < _count; i++)
        {
            ref var part = ref _parts[i];
            var traits = GgmlTypes.Get(_partners[i]);
            if (_cols % traits.BlockSize != 0)
                throw new ArgumentException($"MatMul: a row of {_cols} elements is not a whole number of {traits.Name} blocks.");
            part.ActivationRowBytes = checked((int)traits.RowBytes(_cols));
            var needed = checked(part.ActivationRowBytes * _batch);
            ref var buffer = ref _buffers[_bufferOf[i]];
            if (buffer.Length < needed)
                buffer = GC.AllocateUninitializedArray<byte>(needed, pinned: true);
            part.Activations = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
            if (GemmBlocking.Applies(part.HasGemmRange, part.ActivationRowBytes, _batch))
                maxChunk = Math.Max(ClaimUnit, GemmBlocking.ClaimRows & ~(ClaimUnit - 1));
            else
                widestRow = Math.Max(widestRow, part.RowBytes);
        }
        if (widestRow > 0)
            maxChunk = (int)Math.Min(maxChunk, Math.Max(ClaimUnit, ChunkBytesForBatch / widestRow & ~(long)(ClaimUnit - 1)));
        return maxChunk;
    }

    /// <summary>
    /// Claims the next rows of all the parts together (guided scheduling): a share of what remains, so claims start
    /// large and shrink towards the end, and a core that falls behind leaves little for the others to wait for.
    /// Whole groups of <see cref="ClaimUnit"/> rows; for a prompt batch, no more weight bytes than stay in L2 while every activation
    /// tile passes over them. Returns false when no rows are left.
    /// </summary>
    private bool TryClaim(out int start, out int end)
    {
        while (true)
        {
            start = Volatile.Read(ref _next);
            var remaining = _totalRows - start;
            if (remaining <= 0)
            {
                end = start;
                return false;
            }
            var size = Math.Min(_maxChunk, Math.Max(_minChunk, (remaining / _shareDivisor + ClaimUnit - 1) & ~(ClaimUnit - 1)));
            end = start + Math.Min(remaining, size);
            if (Interlocked.CompareExchange(ref _next, end, start) == start)
                return true;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int worker, int workers)
    {
        if (_quantizing)
        {
            for (var item = Interlocked.Increment(ref _next) - 1; item < _items; item = Interlocked.Increment(ref _next) - 1)
                QuantizeRow(item / _batch, item % _batch);
            return;
        }
        while (TryClaim(out var start, out var end))
        {
            // The claim may run across the end of one matrix (and the unused rows before the next starts) into the next.
            for (var p = 0; p < _count; p++)
            {
                ref var part = ref _parts[p];
                var r0 = Math.Max(0, start - part.FirstRow);
                var r1 = Math.Min(part.Rows, end - part.FirstRow);
                if (r0 < r1)
                    part.Kernel(in part, r0, r1);
            }
        }
    }

    // Row b of the activations, quantized for buffer k (the first part that uses it says how).
    private void QuantizeRow(int k, int b)
    {
        var first = Array.IndexOf(_bufferOf, k, 0, _count);
        ref var part = ref _parts[first];
        var rowBytes = part.ActivationRowBytes;
        MatMul.ActivationQuantizer(_partners[first])(
            new ReadOnlySpan<float>(_x + (long)b * _cols, _cols),
            new Span<byte>(part.Activations + (long)b * rowBytes, rowBytes));
    }
}
