using Llamero.Gguf;
using Llamero.Quants;

namespace Llamero.Kernels;

/// <summary>
/// y = W·x for a batch of activation rows, the way ggml computes it: each activation row is quantized once to
/// the weight format's dot partner, then every weight row is dotted with it. Rows are shared out to a
/// persistent <see cref="WorkerPool"/>; the kernel is specialised per format (<see cref="MatMulKernel{T}"/>).
/// </summary>
public static unsafe class MatMul
{
    private static readonly object PoolGate = new();
    private static readonly QuantFormat.QuantizeRow?[] Quantizers = new QuantFormat.QuantizeRow?[64];
    private static WorkerPool? _pool;
    private static int _threads = Environment.ProcessorCount;
    private static int _threadChanges;

    /// <summary>Threads a multiplication uses, the caller included (default: <see cref="Environment.ProcessorCount"/>).
    /// Safe to change while other threads multiply: the old pool retires once its last run has finished.</summary>
    public static int Threads
    {
        get => Volatile.Read(ref _threads);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            lock (PoolGate)
            {
                if (value == _threads)
                    return;
                Volatile.Write(ref _threads, value);
                Interlocked.Increment(ref _threadChanges);
                // The new pool is made here, on the thread that changes the count, rather than by the next multiplication:
                // a thread evaluating tokens meanwhile (a server slot, an allocation test) then allocates nothing.
                var old = _pool;
                Volatile.Write(ref _pool, new WorkerPool(value));
                old?.Retire();
            }
        }
    }

    /// <summary>How many times <see cref="Threads"/> has changed (each change starts a new pool).</summary>
    internal static int ThreadChanges => Volatile.Read(ref _threadChanges);

    /// <summary>Runs <paramref name="work"/> on up to <paramref name="participants"/> threads of the current pool
    /// (the caller included), holding the pool so a concurrent change of <see cref="Threads"/> cannot stop it mid-run.</summary>
    internal static void Run(IParallelWork work, int participants)
    {
        if (participants <= 1)
        {
            work.Execute(0, 1);
            return;
        }
        var pool = EnterPool();
        try
        {
            pool.Run(work, participants);
        }
        finally
        {
            pool.Exit();
        }
    }

    private static WorkerPool EnterPool()
    {
        while (true)
        {
            var pool = Volatile.Read(ref _pool);
            if (pool is null)
            {
                lock (PoolGate)
                {
                    pool = _pool;
                    if (pool is null)
                    {
                        pool = new WorkerPool(_threads);
                        Volatile.Write(ref _pool, pool);
                    }
                }
            }
            if (pool.TryEnter())
                return pool;
        }
    }

    /// <summary>
    /// y = W·x: <paramref name="x"/> holds <paramref name="batch"/> rows of <c>w.Cols</c> floats; <paramref name="y"/>
    /// receives <paramref name="batch"/> rows of <c>w.Rows</c> floats.
    /// </summary>
    public static void Multiply(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int batch)
    {
        CheckInput(in w, x, batch);
        CheckOutput(in w, y, x.Length, batch);
        if (batch == 0 || w.Rows == 0)
            return;
        fixed (float* px = x)
        fixed (float* py = y)
        {
            var job = MatMulJob.ForThisThread;
            job.Begin(px, w.Cols, batch);
            job.Add(in w, py);
            job.Run();
        }
    }

    /// <summary>
    /// y0 = W0·x and y1 = W1·x in one pass (gate and up): the activations are quantized once and the rows of both
    /// matrices are shared out in one pool run. Results are the same as two <see cref="Multiply(in WeightMatrix, ReadOnlySpan{float}, Span{float}, int)"/> calls.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> x, int batch, in WeightMatrix w0, Span<float> y0, in WeightMatrix w1, Span<float> y1)
    {
        CheckInput(in w0, x, batch);
        CheckOutput(in w0, y0, x.Length, batch);
        CheckOutput(in w1, y1, x.Length, batch);
        CheckSameInput(in w0, in w1);
        if (batch == 0)
            return;
        fixed (float* px = x)
        fixed (float* p0 = y0)
        fixed (float* p1 = y1)
        {
            var job = MatMulJob.ForThisThread;
            job.Begin(px, w0.Cols, batch);
            job.Add(in w0, p0);
            job.Add(in w1, p1);
            job.Run();
        }
    }

    /// <summary>
    /// y0 = W0·x, y1 = W1·x and y2 = W2·x in one pass (Q, K and V): the activations are quantized once per dot-partner
    /// format and the rows of all three matrices are shared out in one pool run. Results are the same as three
    /// <see cref="Multiply(in WeightMatrix, ReadOnlySpan{float}, Span{float}, int)"/> calls.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> x, int batch, in WeightMatrix w0, Span<float> y0, in WeightMatrix w1, Span<float> y1,
        in WeightMatrix w2, Span<float> y2)
    {
        CheckInput(in w0, x, batch);
        CheckOutput(in w0, y0, x.Length, batch);
        CheckOutput(in w1, y1, x.Length, batch);
        CheckOutput(in w2, y2, x.Length, batch);
        CheckSameInput(in w0, in w1);
        CheckSameInput(in w0, in w2);
        if (batch == 0)
            return;
        fixed (float* px = x)
        fixed (float* p0 = y0)
        fixed (float* p1 = y1)
        fixed (float* p2 = y2)
        {
            var job = MatMulJob.ForThisThread;
            job.Begin(px, w0.Cols, batch);
            job.Add(in w0, p0);
            job.Add(in w1, p1);
            job.Add(in w2, p2);
            job.Run();
        }
    }

    private static void CheckInput(in WeightMatrix w, ReadOnlySpan<float> x, int batch)
    {
        if (batch < 0 || x.Length < (long)batch * w.Cols)
            throw new ArgumentException($"MatMul shapes: W is {w.Rows}x{w.Cols}, x has {x.Length} floats, batch {batch}.");
    }

    // The input was checked by CheckInput; xLength only names it in the message.
    private static void CheckOutput(in WeightMatrix w, Span<float> y, int xLength, int batch)
    {
        if (y.Length < (long)batch * w.Rows)
            throw new ArgumentException($"MatMul shapes: W is {w.Rows}x{w.Cols}, x has {xLength} floats, y has {y.Length}, batch {batch}.");
    }

    private static void CheckSameInput(in WeightMatrix w0, in WeightMatrix w)
    {
        if (w.Cols != w0.Cols)
            throw new ArgumentException($"MatMul: matrices multiplied by one input need the same row length; {w0.Rows}x{w0.Cols} and {w.Rows}x{w.Cols} differ.");
    }

    /// <summary>Points <paramref name="part"/> at the kernel for <paramref name="type"/>; returns its dot partner.</summary>
    internal static GgmlType Bind(GgmlType type, ref MatMulPart part)
    {
        switch (type)
        {
            case GgmlType.F32: part.Kernel = &MatMulKernel<F32>.Rows; return F32.DotPartner;
            case GgmlType.F16: part.Kernel = &MatMulKernel<F16>.Rows; return F16.DotPartner;
            case GgmlType.BF16: part.Kernel = &MatMulKernel<BF16>.Rows; return BF16.DotPartner;
            case GgmlType.Q4_0: part.Kernel = &MatMulKernel<Q4_0>.Rows; return Q4_0.DotPartner;
            case GgmlType.Q4_1: part.Kernel = &MatMulKernel<Q4_1>.Rows; return Q4_1.DotPartner;
            case GgmlType.Q5_0: part.Kernel = &MatMulKernel<Q5_0>.Rows; return Q5_0.DotPartner;
            case GgmlType.Q5_1: part.Kernel = &MatMulKernel<Q5_1>.Rows; return Q5_1.DotPartner;
            case GgmlType.Q8_0: part.Kernel = &MatMulKernel<Q8_0>.Rows; return Q8_0.DotPartner;
            case GgmlType.Q2_K: part.Kernel = &MatMulKernel<Q2_K>.Rows; return Q2_K.DotPartner;
            case GgmlType.Q3_K: part.Kernel = &MatMulKernel<Q3_K>.Rows; return Q3_K.DotPartner;
            case GgmlType.Q4_K: part.Kernel = &MatMulKernel<Q4_K>.Rows; return Q4_K.DotPartner;
            case GgmlType.Q5_K: part.Kernel = &MatMulKernel<Q5_K>.Rows; return Q5_K.DotPartner;
            case GgmlType.Q6_K: part.Kernel = &MatMulKernel<Q6_K>.Rows; return Q6_K.DotPartner;
            default:
                // Names the type (and the supported ones) for anything else.
                var format = QuantFormats.Get(type);
                throw new NotSupportedException($"MatMul has no kernel for {format.Traits.Name} weights.");
        }
    }

    /// <summary>How activations are quantized for a weight format's dot partner: as ggml's x86 CPU backend does
    /// (<see cref="Q8_0.QuantizeForDot"/>, <see cref="Q8_1.QuantizeForDot"/>), else the format's own quantizer.</summary>
    internal static QuantFormat.QuantizeRow ActivationQuantizer(GgmlType partner) =>
        Quantizers[(int)partner] ??= partner switch
        {
            GgmlType.Q8_0 => Q8_0.QuantizeForDot,
            GgmlType.Q8_1 => Q8_1.QuantizeForDot,
            _ => QuantFormats.Get(partner).Quantize,
        };
}
