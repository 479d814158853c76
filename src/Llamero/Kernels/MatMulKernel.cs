using System.Runtime.CompilerServices;
using Llamero.Quants;

namespace Llamero.Kernels;

/// <summary>
/// One weight matrix of a <see cref="MatMulJob"/>: where its rows, its quantized activations and its outputs are,
/// and the kernel specialised for its format. Pointers stay valid for the job (the caller pins them).
/// </summary>
internal unsafe struct MatMulPart
{
    /// <summary>Row 0 of the weights.</summary>
    public byte* Weights;
    /// <summary>Bytes per weight row (for a repacked matrix: <see cref="GroupBytes"/> shared out over its rows).</summary>
    public long RowBytes;
    /// <summary>Bytes per group of interleaved rows of a repacked matrix (0 for plain rows).</summary>
    public long GroupBytes;
    /// <summary>Output features (weight rows).</summary>
    public int Rows;
    /// <summary>Input features (elements per row).</summary>
    public int Cols;
    /// <summary>Batch rows of <see cref="Rows"/> outputs.</summary>
    public float* Y;
    /// <summary>Batch rows of activations quantized to the format's dot partner.</summary>
    public byte* Activations;
    /// <summary>Bytes per quantized activation row.</summary>
    public int ActivationRowBytes;
    /// <summary>Activation rows.</summary>
    public int Batch;
    /// <summary>True for a repacked matrix whose layout can split rows in column ranges (<see cref="GemmBlocking"/>).</summary>
    public bool HasGemmRange;
    /// <summary>Where this part's rows start when the rows of all the job's parts are numbered one after another.</summary>
    public int FirstRow;
    /// <summary><see cref="MatMulKernel{T}.Rows"/> for the weight format, or <see cref="InterleavedKernel{T}.Rows"/> for its layout.</summary>
    public delegate*<in MatMulPart, int, int, void> Kernel;
}

/// <summary>
/// The rows of one weight format, specialised by the JIT (T is a struct): each weight row dotted with every
/// activation row. A prompt batch is taken in tiles of <see cref="BatchTile"/> activation rows so each weight row
/// is reused from cache; within a chunk the results are bit-identical to <see cref="IQuantFormat.Dot"/> row by row.
/// </summary>
internal static unsafe class MatMulKernel<T>
    where T : IQuantFormat
{
    // Activation rows per tile: 16 Q8 rows of 4096 are ~70 KB, which stays in L2 beside the weight chunk.
    private const int BatchTile = 16;

    /// <summary>Weight rows <paramref name="r0"/>..<paramref name="r1"/> − 1 of <paramref name="p"/>, every activation row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(in MatMulPart p, int r0, int r1)
    {
        int rows = p.Rows, cols = p.Cols, actBytes = p.ActivationRowBytes, batch = p.Batch;
        var rowBytes = p.RowBytes;
        if (batch == 1)
        {
            var act = new ReadOnlySpan<byte>(p.Activations, actBytes);
            for (var r = r0; r < r1; r++)
                p.Y[r] = T.Dot(new ReadOnlySpan<byte>(p.Weights + r * rowBytes, (int)rowBytes), act, cols);
            return;
        }
        for (var b0 = 0; b0 < batch; b0 += BatchTile)
        {
            var count = Math.Min(batch - b0, BatchTile);
            var acts = new ReadOnlySpan<byte>(p.Activations + (long)b0 * actBytes, count * actBytes);
            for (var r = r0; r < r1; r++)
            {
                var row = new ReadOnlySpan<byte>(p.Weights + r * rowBytes, (int)rowBytes);
                var y = p.Y + (long)b0 * rows + r;
                if (count == 1)
                    *y = T.Dot(row, acts, cols);
                else
                    T.DotBatch(row, acts, actBytes, count, cols, new Span<float>(y, (count - 1) * rows + 1), rows);
            }
        }
    }
}
