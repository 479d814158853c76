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

    /// <summary>One activation row: per block, the eight rows' integer sums, then one FMA by d_w·d_a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Avx2Gemv(byte* w, byte* a, int blocks, float* y)
    {
        var acc = Vector256<float>.Zero;
        for (var k = 0; k < blocks; k++, w += PackedBlockBytes, a += PlainBlockBytes)
        {
            // The eight slices written out: a loop of eight would spend three of its ten instructions counting.
            var sum = Avx2Slice(w, a, 0) + Avx2Slice(w, a, 1);
            sum += Avx2Slice(w, a, 2) + Avx2Slice(w, a, 3);
            sum += Avx2Slice(w, a, 4) + Avx2Slice(w, a, 5);
            sum += Avx2Slice(w, a, 6) + Avx2Slice(w, a, 7);
            var scale = Avx2Scales(w) * Vector256.Create(Fp16.ToFloat(*(ushort*)a));
            acc = Fma.MultiplyAdd(scale, Avx.ConvertToVector256Single(sum), acc);
        }
        acc.Store(y);
    }

    /// <summary>
    /// Four activation rows (<paramref name="stride"/> bytes apart) in one pass: each slice of weights is loaded and
    /// its |w| taken once for all four, and each row's steps are exactly <see cref="Avx2Gemv"/>'s, so the results are
    /// bit-identical to it. Results of row b go to <paramref name="y"/> + b·<paramref name="resultStride"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Avx2Gemm4(byte* w, byte* a, int stride, int blocks, float* y, int resultStride)
    {
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        byte* a0 = a, a1 = a + stride, a2 = a + 2 * stride, a3 = a + 3 * stride;
        for (var k = 0; k < blocks; k++, w += PackedBlockBytes)
        {
            Vector256<int> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
            Avx2Slice4(w, a0, a1, a2, a3, 0, ref sum0, ref sum1, ref sum2, ref sum3);
            Avx2Slice4(w, a0, a1, a2, a3, 1, ref sum0, ref sum1, ref sum2, ref sum3);
            Avx2Slice4(w, a0, a1, a2, a3, 2, ref sum0, ref sum1, ref sum2, ref sum3);
            Avx2Slice4(w, a0, a1, a2, a3, 3, ref sum0, ref sum1, ref sum2, ref sum3);
            Avx2Slice4(w, a0, a1, a2, a3, 4, ref sum0, ref sum1, ref sum2, ref sum3);
            Avx2Slice4(w, a0, a1, a2, a3, 5, ref sum0, ref sum1, ref sum2, ref sum3);
            Avx2Slice4(w, a0, a1, a2, a3, 6, ref sum0, ref sum1, ref sum2, ref sum3);
            Avx2Slice4(w, a0, a1, a2, a3, 7, ref sum0, ref sum1, ref sum2, ref sum3);
            var dw = Avx2Scales(w);
            acc0 = Fma.MultiplyAdd(dw * Vector256.Create(Fp16.ToFloat(*(ushort*)a0)), Avx.ConvertToVector256Single(sum0), acc0);
            acc1 = Fma.MultiplyAdd(dw * Vector256.Create(Fp16.ToFloat(*(ushort*)a1)), Avx.ConvertToVector256Single(sum1), acc1);
            acc2 = Fma.MultiplyAdd(dw * Vector256.Create(Fp16.ToFloat(*(ushort*)a2)), Avx.ConvertToVector256Single(sum2), acc2);
            acc3 = Fma.MultiplyAdd(dw * Vector256.Create(Fp16.ToFloat(*(ushort*)a3)), Avx.ConvertToVector256Single(sum3), acc3);
            a0 += PlainBlockBytes;
            a1 += PlainBlockBytes;
            a2 += PlainBlockBytes;
            a3 += PlainBlockBytes;
        }
        acc0.Store(y);
        acc1.Store(y + resultStride);
        acc2.Store(y + 2 * resultStride);
        acc3.Store(y + 3 * resultStride);
    }
}
