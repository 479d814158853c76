using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// A load-time layout ("repack", as llama.cpp calls it) that stores <see cref="RowGroup"/> consecutive weight rows of
/// a plain format together, block by block, so one kernel pass reads the same block of every row of the group with
/// sequential loads, reuses each activation load across all of them, and keeps one float lane per row. The values are
/// the plain format's own (same d, scales and levels), rearranged and at most re-encoded losslessly (e.g. 6-bit scales
/// widened to bytes, nibbles offset to signed) so <see cref="Unpack"/> restores the plain bytes exactly; activations
/// stay plain rows of the format's <see cref="IQuantFormat.DotPartner"/>.
/// </summary>
/// <remarks>
/// Contract every implementation keeps (tests/Llamero.Tests/Quants/Interleaved/ checks it for each registered layout):
/// <list type="bullet">
/// <item><see cref="Unpack"/> of <see cref="Pack"/> gives the plain rows back byte for byte.</item>
/// <item><see cref="Gemv"/> agrees with the plain format's <see cref="IQuantFormat.DotReference"/> of each row within
/// float rounding (integer block sums are exact; only the order of float steps may differ).</item>
/// <item><see cref="Gemm"/>'s result for every activation row is bit-identical to <see cref="Gemv"/> of that row on the
/// same SIMD path, so a prompt batch, a lone token and several sequences in one batch give the same logits.</item>
/// <item>Every <see cref="SimdLevel"/> the CPU supports gives results within float rounding of the scalar path.</item>
/// </list>
/// </remarks>
internal interface IInterleavedFormat
{
    /// <summary>The plain format whose rows this layout interleaves.</summary>
    static abstract GgmlType Type { get; }

    /// <summary>Rows stored together (4 or 8: <see cref="MatMulJob"/> hands out rows in multiples of 8).</summary>
    static abstract int RowGroup { get; }

    /// <summary>Bytes of one packed group of <see cref="RowGroup"/> rows of <paramref name="cols"/> elements.</summary>
    static abstract long GroupBytes(int cols);

    /// <summary>Packs <see cref="RowGroup"/> plain rows (consecutive in <paramref name="plainRows"/>) into one group.</summary>
    static abstract void Pack(ReadOnlySpan<byte> plainRows, int cols, Span<byte> group);

    /// <summary>The inverse of <see cref="Pack"/>: writes the group's <see cref="RowGroup"/> plain rows.</summary>
    static abstract void Unpack(ReadOnlySpan<byte> group, int cols, Span<byte> plainRows);

    /// <summary><c>results[j]</c> = row j of <paramref name="group"/> · <paramref name="activation"/> for j &lt; <see cref="RowGroup"/>
    /// (token generation: one activation row, every weight byte read once), computed by the <paramref name="level"/>
    /// path (one the CPU supports; a layout without a kernel of that level runs its best lower one).</summary>
    static abstract void Gemv(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activation, int cols, Span<float> results);

    /// <summary>
    /// Every row of <paramref name="group"/> against <paramref name="count"/> activation rows <paramref name="activationStride"/>
    /// bytes apart (prompt processing): <c>results[b·resultStride + j]</c> = row j · activation row b, each bit-identical
    /// to <see cref="Gemv"/> of activation row b on the same <paramref name="level"/>.
    /// </summary>
    static abstract void Gemm(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride);

    /// <summary>True when the layout implements <see cref="GemmRange"/> (K-blocking: <see cref="InterleavedKernel{T}"/> then splits wide rows).</summary>
    static virtual bool HasGemmRange => false;

    /// <summary>Floats per activation row that <see cref="GemmRange"/> carries in its <c>carry</c> span between ranges, beside the results
    /// (a layout with one float accumulator per row keeps it in the result itself: 0).</summary>
    static virtual int GemmCarry => 0;

    /// <summary>
    /// <see cref="Gemm"/> over one range of a row's columns, so a wide row can be taken in ranges whose activations stay in
    /// cache while several groups pass over them: <paramref name="group"/> and <paramref name="activations"/> start at the
    /// range (the layouts are block-major, so the first c columns of a group are its first <see cref="GroupBytes"/>(c) bytes,
    /// and of an activation row its first dot-partner <c>RowBytes(c)</c>), <paramref name="cols"/> is the range's width (whole
    /// blocks) and <paramref name="activationStride"/> the full rows' stride. Between calls the float accumulators live in
    /// <paramref name="results"/> and in <paramref name="carry"/> (<paramref name="count"/> × <see cref="GemmCarry"/> floats); a
    /// <see cref="RowRange.First"/> call starts them at zero, a later one resumes them. Calling it over consecutive ranges from
    /// the first to the <see cref="RowRange.Last"/> takes the float steps of one <see cref="Gemm"/> over the whole row, so the
    /// results are bit-identical to it (and to <see cref="Gemv"/> per activation row).
    /// </summary>
    static virtual void GemmRange(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride, Span<float> carry, RowRange range) =>
        throw new NotSupportedException("This interleaved layout has no ranged Gemm (HasGemmRange is false).");
}

/// <summary>Where a <see cref="IInterleavedFormat.GemmRange"/> call's columns lie in the row.</summary>
[Flags]
internal enum RowRange
{
    /// <summary>Neither end: the accumulators resume and stay accumulators.</summary>
    Middle = 0,

    /// <summary>Starts the row: the accumulators start at zero.</summary>
    First = 1,

    /// <summary>Ends the row: the results are final.</summary>
    Last = 2,

    /// <summary>The whole row in one call (what <see cref="IInterleavedFormat.Gemm"/> does).</summary>
    Whole = First | Last,
}
