using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants.Interleaved;

/// <summary>The AVX2 + FMA kernels of <see cref="Q8_0x8"/>.</summary>
internal sealed partial class Q8_0x8
{
    /// <summary>The eight rows' d_w of the block at <paramref name="w"/>, one float lane per row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Avx2Scales(byte* w) =>
        Fp16.ToFloatSignExtended(Avx2.ConvertToVector256Int32((short*)w));

    /// <summary>Per lane (row), the sum of the four products of slice <paramref name="qw"/> (|w| in
    /// <paramref name="absW"/>) with the four activation quants at <paramref name="qa"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> Avx2Slice(Vector256<sbyte> qw, Vector256<byte> absW, byte* qa)
    {
        var a = Avx2.BroadcastScalarToVector256((int*)qa).AsSByte();
        // |w| (0..128) times a with w's sign: each pair of products fits int16 (|a| ≤ 127 from the quantizers).
        var pairs = Avx2.MultiplyAddAdjacent(absW, Avx2.Sign(a, qw));
        return Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)1));
    }

    /// <summary>Per lane (row), the four products of slice <paramref name="s"/> of the block at <paramref name="w"/> with the
    /// matching quants of the activation block at <paramref name="a"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> Avx2Slice(byte* w, byte* a, int s)
    {
        var qw = Vector256.Load((sbyte*)(w + ScaleBytes + s * SliceBytes));
        return Avx2Slice(qw, Avx2.Abs(qw), a + 2 + 4 * s);
    }

    /// <summary>The eight rows' integer sums of the block at <paramref name="w"/> with the activation block at <paramref name="a"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> Avx2Block(byte* w, byte* a)
    {
        // The eight slices written out: a loop of eight would spend three of its ten instructions counting.
        var sum = Avx2Slice(w, a, 0) + Avx2Slice(w, a, 1);
        sum += Avx2Slice(w, a, 2) + Avx2Slice(w, a, 3);
        sum += Avx2Slice(w, a, 4) + Avx2Slice(w, a, 5);
        return sum + (Avx2Slice(w, a, 6) + Avx2Slice(w, a, 7));
    }

    /// <summary>Slice <paramref name="s"/> against four activation blocks: one load and one |w| for all four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Avx2Slice4(byte* w, byte* a0, byte* a1, byte* a2, byte* a3, int s,
        ref Vector256<int> sum0, ref Vector256<int> sum1, ref Vector256<int> sum2, ref Vector256<int> sum3)
    {
        var qw = Vector256.Load((sbyte*)(w + ScaleBytes + s * SliceBytes));
        var absW = Avx2.Abs(qw);
        var offset = 2 + 4 * s;
        sum0 += Avx2Slice(qw, absW, a0 + offset);
        sum1 += Avx2Slice(qw, absW, a1 + offset);
        sum2 += Avx2Slice(qw, absW, a2 + offset);
        sum3 += Avx2Slice(qw, absW, a3 + offset);
    }

    /// <summary>One activation row: per block, the eight rows' integer sums, then one FMA by d_w·d_a (from zero, or from
    /// <paramref name="y"/> when <paramref name="resume"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Avx2Gemv(byte* w, byte* a, int blocks, float* y, bool resume)
    {
        var acc = resume ? Vector256.Load(y) : Vector256<float>.Zero;
        for (var k = 0; k < blocks; k++, w += PackedBlockBytes, a += PlainBlockBytes)
        {
            var sum = Avx2Block(w, a);
            var scale = Avx2Scales(w) * Vector256.Create(Fp16.ToFloat(*(ushort*)a));
            acc = Fma.MultiplyAdd(scale, Avx.ConvertToVector256Single(sum), acc);
        }
        acc.Store(y);
    }

    /// <summary>*<paramref name="y"/> += d_w·d_a·<paramref name="sum"/> with <see cref="Avx2Gemv"/>'s FMA (d_a of the block at <paramref name="a"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Avx2Accumulate(Vector256<float> dw, byte* a, Vector256<int> sum, float* y) =>
        Fma.MultiplyAdd(dw * Vector256.Create(Fp16.ToFloat(*(ushort*)a)), Avx.ConvertToVector256Single(sum), Vector256.Load(y)).Store(y);

    /// <summary>
    /// <paramref name="count"/> activation rows (<paramref name="stride"/> bytes apart), block by block: each block's
    /// 272 weight bytes are read from memory once (prefetched a few blocks ahead) and then serve every row from L1, four
    /// rows at a time (each slice loaded and its |w| taken once per four), the last count mod 4 one at a time. A row's float sums live in its results
    /// (<paramref name="y"/> + b·<paramref name="resultStride"/>), from +0 (or from what they hold, when <paramref name="resume"/>) by the same FMA per block as
    /// <see cref="Avx2Gemv"/>'s register, so every row is bit-identical to it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Avx2Gemm(byte* w, byte* a, int stride, int count, int blocks, float* y, int resultStride, bool resume)
    {
        var chunks = count / 4;
        for (var b = 0; b < count && !resume; b++)
            Vector256<float>.Zero.Store(y + (long)b * resultStride);
        for (var k = 0; k < blocks; k++, w += PackedBlockBytes, a += PlainBlockBytes)
        {
            var dw = Avx2Scales(w);
            // Four blocks ahead, past the group's end near the last blocks: a prefetch never faults, and the next
            // group usually lies there.
            var ahead = w + 4 * PackedBlockBytes;
            for (var line = 0; line < PackedBlockBytes; line += 64)
                Sse.Prefetch0(ahead + line);
            for (var c = 0; c < chunks; c++)
            {
                byte* a0 = a + (long)4 * c * stride, a1 = a0 + stride, a2 = a1 + stride, a3 = a2 + stride;
                Vector256<int> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
                Avx2Slice4(w, a0, a1, a2, a3, 0, ref sum0, ref sum1, ref sum2, ref sum3);
                Avx2Slice4(w, a0, a1, a2, a3, 1, ref sum0, ref sum1, ref sum2, ref sum3);
                Avx2Slice4(w, a0, a1, a2, a3, 2, ref sum0, ref sum1, ref sum2, ref sum3);
                Avx2Slice4(w, a0, a1, a2, a3, 3, ref sum0, ref sum1, ref sum2, ref sum3);
                Avx2Slice4(w, a0, a1, a2, a3, 4, ref sum0, ref sum1, ref sum2, ref sum3);
                Avx2Slice4(w, a0, a1, a2, a3, 5, ref sum0, ref sum1, ref sum2, ref sum3);
                Avx2Slice4(w, a0, a1, a2, a3, 6, ref sum0, ref sum1, ref sum2, ref sum3);
                Avx2Slice4(w, a0, a1, a2, a3, 7, ref sum0, ref sum1, ref sum2, ref sum3);
                var y0 = y + (long)4 * c * resultStride;
                var y1 = y0 + resultStride;
                var y2 = y1 + resultStride;
                var y3 = y2 + resultStride;
                Avx2Accumulate(dw, a0, sum0, y0);
                Avx2Accumulate(dw, a1, sum1, y1);
                Avx2Accumulate(dw, a2, sum2, y2);
                Avx2Accumulate(dw, a3, sum3, y3);
            }
            for (var b = 4 * chunks; b < count; b++)
            {
                var ab = a + (long)b * stride;
                Avx2Accumulate(dw, ab, Avx2Block(w, ab), y + (long)b * resultStride);
            }
        }
    }
}
