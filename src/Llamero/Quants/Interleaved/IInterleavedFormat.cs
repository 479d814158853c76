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
}
