using System.Runtime.CompilerServices;
using Llamero.Gguf;
using Llamero.Quants.Interleaved;

namespace Llamero.Kernels;

/// <summary>
/// The rows of a repacked matrix (<see cref="IInterleavedFormat"/>), specialised per layout by the JIT: one group of
/// <c>T.RowGroup</c> rows per kernel call, against the lone activation row (<see cref="IInterleavedFormat.Gemv"/>)
/// or a tile of prompt rows (<see cref="IInterleavedFormat.Gemm"/>), wide rows in column ranges
/// (<see cref="IInterleavedFormat.GemmRange"/>, when <see cref="GemmBlocking"/> says so). <see cref="MatMulJob"/> hands out whole groups.
/// </summary>
internal static unsafe class InterleavedKernel<T>
    where T : IInterleavedFormat
{
    // Activation rows per Gemm call, as MatMulKernel's tile: the weight chunk stays in L2 while the tiles pass over it.
    private const int BatchTile = GemmBlocking.Tile;

    private static readonly int BlockSize = GgmlTypes.Get(T.Type).BlockSize;

    // Accumulators a ranged Gemm carries beside the results: per claimed group, every activation row's share.
    [ThreadStatic]
    private static float[]? t_carry;

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
        if (GemmBlocking.Applies(T.HasGemmRange, actBytes, batch))
        {
            RowsInRanges(in p, r0, r1);
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

    /// <summary>
    /// K-blocking: per panel of activation rows, the columns in ranges; per range, every tile of the panel against the same
    /// range of every claimed group (both stay in L2), the accumulators carried in the results and a carry buffer. The
    /// float steps per row are those of whole rows, so the results are bit-identical.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsInRanges(in MatMulPart p, int r0, int r1)
    {
        int g = T.RowGroup, rows = p.Rows, cols = p.Cols, actBytes = p.ActivationRowBytes, batch = p.Batch;
        var groupBytes = p.GroupBytes;
        var level = SimdPath.Current;
        var carryPerRow = T.GemmCarry;
        var groups = (r1 - r0) / g;
        var carryFloats = Math.Max(1, batch * groups * carryPerRow);
        var carry = t_carry is { } buffer && buffer.Length >= carryFloats ? buffer : t_carry = GC.AllocateUninitializedArray<float>(carryFloats);
        var panelRows = Math.Max(BatchTile, GemmBlocking.PanelRows / BatchTile * BatchTile);
        for (var p0 = 0; p0 < batch; p0 += panelRows)
        {
            var panel = Math.Min(panelRows, batch - p0);
            var rangeCols = GemmBlocking.RangeCols(cols, actBytes, panel, BlockSize);
            for (var c0 = 0; c0 < cols; c0 += rangeCols)
            {
                var width = Math.Min(rangeCols, cols - c0);
                var range = (c0 == 0 ? RowRange.First : RowRange.Middle) | (c0 + width == cols ? RowRange.Last : RowRange.Middle);
                // Block-major layouts: a range's bytes are proportional to its columns, in the group and in the activation row.
                var weightOffset = groupBytes * c0 / cols;
                var actOffset = (long)actBytes * c0 / cols;
                for (var b0 = p0; b0 < p0 + panel; b0 += BatchTile)
                {
                    var count = Math.Min(p0 + panel - b0, BatchTile);
                    var acts = new ReadOnlySpan<byte>(p.Activations + (long)b0 * actBytes + actOffset, (int)(count * actBytes - actOffset));
                    for (var k = 0; k < groups; k++)
                    {
                        var r = r0 + k * g;
                        var group = new ReadOnlySpan<byte>(p.Weights + r / g * groupBytes + weightOffset, (int)(groupBytes - weightOffset));
                        var y = new Span<float>(p.Y + (long)b0 * rows + r, (count - 1) * rows + g);
                        var held = carry.AsSpan((k * batch + b0) * carryPerRow, count * carryPerRow);
                        T.GemmRange(level, group, acts, actBytes, count, width, y, rows, held, range);
                    }
                }
            }
        }
    }
}
