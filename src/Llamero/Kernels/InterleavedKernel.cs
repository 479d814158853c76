using System.Runtime.CompilerServices;
using Llamero.Quants.Interleaved;

namespace Llamero.Kernels;

/// <summary>
/// The rows of a repacked matrix (<see cref="IInterleavedFormat"/>), specialised per layout by the JIT: one group of
/// <c>T.RowGroup</c> rows per kernel call, against the lone activation row (<see cref="IInterleavedFormat.Gemv"/>)
/// or a tile of prompt rows (<see cref="IInterleavedFormat.Gemm"/>). <see cref="MatMulJob"/> hands out whole groups.
/// </summary>
internal static unsafe class InterleavedKernel<T>
    where T : IInterleavedFormat
{
    // Activation rows per Gemm call, as MatMulKernel's tile: the weight chunk stays in L2 while the tiles pass over it.
    private const int BatchTile = 16;

    /// <summary>Weight rows <paramref name="r0"/>..<paramref name="r1"/> − 1 of <paramref name="p"/> (whole groups), every activation row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(in MatMulPart p, int r0, int r1)
    {
        int g = T.RowGroup, rows = p.Rows, cols = p.Cols, actBytes = p.ActivationRowBytes, batch = p.Batch;
        var groupBytes = p.GroupBytes;
        var level = SimdPath.Current;
        if (batch == 1)
        {
            var act = new ReadOnlySpan<byte>(p.Activations, actBytes);
            for (var r = r0; r < r1; r += g)
                T.Gemv(level, new ReadOnlySpan<byte>(p.Weights + r / g * groupBytes, (int)groupBytes), act, cols, new Span<float>(p.Y + r, g));
            return;
        }
        for (var b0 = 0; b0 < batch; b0 += BatchTile)
        {
            var count = Math.Min(batch - b0, BatchTile);
            var acts = new ReadOnlySpan<byte>(p.Activations + (long)b0 * actBytes, count * actBytes);
            for (var r = r0; r < r1; r += g)
            {
                var group = new ReadOnlySpan<byte>(p.Weights + r / g * groupBytes, (int)groupBytes);
                var y = new Span<float>(p.Y + (long)b0 * rows + r, (count - 1) * rows + g);
                if (count == 1)
                    T.Gemv(level, group, acts, cols, y);
                else
                    T.Gemm(level, group, acts, actBytes, count, cols, y, rows);
            }
        }
    }
}
