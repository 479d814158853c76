using Llamero.Gguf;
using Llamero.Quants;

namespace Llamero.Kernels;

/// <summary>
/// y = W·x for a batch of activation rows, the way ggml computes it: each activation row is quantized once to
/// the weight format's dot partner, then every weight row is dotted with it. Rows are shared out to a
/// persistent <see cref="WorkerPool"/>; the kernel is specialised per format (<see cref="MatMulKernel{T}"/>).
/// </summary>
public static class MatMul
{
    private static readonly object PoolGate = new();
    private static WorkerPool? _pool;
    private static int _threads = Environment.ProcessorCount;

    /// <summary>Threads a multiplication uses, the caller included (default: <see cref="Environment.ProcessorCount"/>).</summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            lock (PoolGate)
            {
                if (value == _threads)
                    return;
                _threads = value;
                _pool?.Dispose();
                _pool = null;
            }
        }
    }

    internal static WorkerPool Pool
    {
        get
        {
            lock (PoolGate)
                return _pool ??= new WorkerPool(_threads);
        }
    }

    /// <summary>
    /// <paramref name="x"/> holds <paramref name="batch"/> rows of <c>w.Cols</c> floats; <paramref name="y"/> receives
    /// <paramref name="batch"/> rows of <c>w.Rows</c> floats.
    /// </summary>
    public static void Multiply(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int batch)
    {
        if (batch < 0 || x.Length < (long)batch * w.Cols || y.Length < (long)batch * w.Rows)
            throw new ArgumentException($"MatMul shapes: W is {w.Rows}x{w.Cols}, x has {x.Length} floats, y has {y.Length}, batch {batch}.");
        if (batch == 0 || w.Rows == 0)
            return;
        switch (w.Type)
        {
            case GgmlType.F32: MatMulKernel<F32>.Multiply(in w, x, y, batch); break;
            case GgmlType.F16: MatMulKernel<F16>.Multiply(in w, x, y, batch); break;
            case GgmlType.BF16: MatMulKernel<BF16>.Multiply(in w, x, y, batch); break;
            case GgmlType.Q4_0: MatMulKernel<Q4_0>.Multiply(in w, x, y, batch); break;
            case GgmlType.Q4_1: MatMulKernel<Q4_1>.Multiply(in w, x, y, batch); break;
            case GgmlType.Q5_0: MatMulKernel<Q5_0>.Multiply(in w, x, y, batch); break;
            case GgmlType.Q5_1: MatMulKernel<Q5_1>.Multiply(in w, x, y, batch); break;
            case GgmlType.Q8_0: MatMulKernel<Q8_0>.Multiply(in w, x, y, batch); break;
            case GgmlType.Q2_K: MatMulKernel<Q2_K>.Multiply(in w, x, y, batch); break;
            case GgmlType.Q3_K: MatMulKernel<Q3_K>.Multiply(in w, x, y, batch); break;
            case GgmlType.Q4_K: MatMulKernel<Q4_K>.Multiply(in w, x, y, batch); break;
            case GgmlType.Q5_K: MatMulKernel<Q5_K>.Multiply(in w, x, y, batch); break;
            case GgmlType.Q6_K: MatMulKernel<Q6_K>.Multiply(in w, x, y, batch); break;
            default:
                // Names the type (and the supported ones) for anything else.
                var format = QuantFormats.Get(w.Type);
                throw new NotSupportedException($"MatMul has no kernel for {format.Traits.Name} weights.");
        }
    }

    /// <summary>How activations are quantized for a weight format's dot partner: as ggml's x86 CPU backend does
    /// (<see cref="Q8_0.QuantizeForDot"/>, <see cref="Q8_1.QuantizeForDot"/>), else the format's own quantizer.</summary>
    internal static QuantFormat.QuantizeRow ActivationQuantizer(GgmlType partner) => partner switch
    {
        GgmlType.Q8_0 => Q8_0.QuantizeForDot,
        GgmlType.Q8_1 => Q8_1.QuantizeForDot,
        _ => QuantFormats.Get(partner).Quantize,
    };
}
