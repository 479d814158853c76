using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants.Interleaved;

// The AVX-512 Gemm: two activation rows per 512-bit vector (Avx512Pairs), each dword lane running the AVX2 kernel's
// steps for its (weight row, activation row). AVX-512 has no vpsignb, so the sign trick takes another form with the
// same bytes where it matters: per weight slice, |w| and a mask m = (w < 0 ? 0xFF : 0) are spread once; per pair,
// a' = (a XOR m) − m is −a where w < 0 and a elsewhere — vpsignb's result except where w = 0, whose |w| = 0 makes the
// product 0 either way, so vpmaddubsw(|w|, a') gives vpmaddubsw(|w|, sign(a, w))'s int16 pairs exactly (saturation
// included), then vpmaddwd by ones and the float step acc = fma(d_w·d_a, float(sum), acc).
internal sealed unsafe partial class Q8_0x8 : IAvx512Gemm
{
    private const int WidePairs = Avx512Pairs.MaxPairs;

    /// <summary>A block's eight |w| slices (then their sign masks) spread to both activation rows, at the pair slots of their
    /// units (slice s = unit s: slots 0, 1, 8, 9, 2, 3, 10, 11).</summary>
    [InlineArray(2 * SlotSpan)]
    private struct WideSlices
    {
        private Vector512<byte> _element0;
    }

    // Slots of units 0..7 span 12 entries (see Avx512Pairs.Slot).
    private const int SlotSpan = 12;

    /// <inheritdoc cref="IAvx512Gemm.GemmAvx512"/>
    public static void GemmAvx512<TOps>(ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride, Span<float> carry, RowRange range) where TOps : struct, IAvx512Ops
    {
        var blocks = CheckGemm(group.Length, activations.Length, activationStride, count, cols, results.Length, resultStride);
        fixed (byte* w = group)
        fixed (byte* a = activations)
        fixed (float* y = results)
            Avx512Gemm<TOps>(w, a, activationStride, count, blocks, y, resultStride, (range & RowRange.First) == 0);
    }

    /// <summary>
    /// Activation rows two at a time (an odd last row runs <see cref="Avx2Gemm"/>, the same steps), up to
    /// <see cref="WidePairs"/> pairs per pass: per block the weights are spread once (prefetched as the AVX2 kernel does),
    /// each pair's quants interleaved once. The accumulators start at zero or, when <paramref name="resume"/>, from the results.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void Avx512Gemm<TOps>(byte* w, byte* a, int stride, int count, int blocks, float* y, int resultStride, bool resume)
        where TOps : struct, IAvx512Ops
    {
        Unsafe.SkipInit(out WideSlices slices);
        Unsafe.SkipInit(out Avx512Accumulators acc);
        Unsafe.SkipInit(out Avx512HalfPair quants);
        ref var abs = ref Unsafe.As<WideSlices, Vector512<byte>>(ref slices);
        ref var neg = ref Unsafe.Add(ref abs, SlotSpan);
        ref var q = ref Unsafe.As<Avx512HalfPair, byte>(ref quants);
        var pairs = count / 2;
        for (var p0 = 0; p0 < pairs; p0 += WidePairs)
        {
            var n = Math.Min(WidePairs, pairs - p0);
            var y0 = y + (long)2 * p0 * resultStride;
            for (var p = 0; p < n; p++)
            {
                var yp = y0 + (long)2 * p * resultStride;
                acc[p] = resume ? Avx512Pairs.Load<TOps>(ref *yp, ref yp[resultStride]) : default;
            }
            var wk = w;
            var ak = a + (long)2 * p0 * stride;
            for (var k = 0; k < blocks; k++, wk += PackedBlockBytes, ak += PlainBlockBytes)
            {
                var ahead = wk + 4 * PackedBlockBytes;
                for (var line = 0; line < PackedBlockBytes; line += 64)
                    Sse.Prefetch0(ahead + line);
                var dw = Avx512Pairs.Spread<TOps>(Avx2Scales(wk).AsInt32()).AsSingle();
                SpreadSlices<TOps>(wk, ref abs, ref neg);
                for (var p = 0; p < n; p++)
                {
                    var ap = ak + (long)2 * p * stride;
                    var bp = ap + stride;
                    Avx512Pairs.InterleaveHalf<TOps>(ref ap[2], ref bp[2], ref q);
                    var da = Avx512Pairs.FloatPair(Fp16.ToFloat(*(ushort*)ap), Fp16.ToFloat(*(ushort*)bp));
                    acc[p] = TOps.FusedMultiplyAdd(TOps.Multiply(dw, da), TOps.ConvertToSingle(BlockPair<TOps>(ref abs, ref neg, ref q)), acc[p]);
                }
            }
            for (var p = 0; p < n; p++)
            {
                var yp = y0 + (long)2 * p * resultStride;
                Avx512Pairs.Store<TOps>(acc[p], ref *yp, ref yp[resultStride]);
            }
        }
        if ((count & 1) != 0)
            Avx2Gemm(w, a + (long)(count - 1) * stride, stride, 1, blocks, y + (long)(count - 1) * resultStride, resultStride, resume);
    }

    /// <summary>The block's |w| and sign-mask slices, spread to both activation rows, at their units' pair slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SpreadSlices<TOps>(byte* w, ref Vector512<byte> abs, ref Vector512<byte> neg) where TOps : struct, IAvx512Ops
    {
        SpreadSlice<TOps>(w, 0, ref abs, ref neg, 0);
        SpreadSlice<TOps>(w, 1, ref abs, ref neg, 1);
        SpreadSlice<TOps>(w, 2, ref abs, ref neg, 8);
        SpreadSlice<TOps>(w, 3, ref abs, ref neg, 9);
        SpreadSlice<TOps>(w, 4, ref abs, ref neg, 2);
        SpreadSlice<TOps>(w, 5, ref abs, ref neg, 3);
        SpreadSlice<TOps>(w, 6, ref abs, ref neg, 10);
        SpreadSlice<TOps>(w, 7, ref abs, ref neg, 11);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SpreadSlice<TOps>(byte* w, int s, ref Vector512<byte> abs, ref Vector512<byte> neg, nint slot) where TOps : struct, IAvx512Ops
    {
        var qw = Vector256.Load((sbyte*)(w + ScaleBytes + s * SliceBytes));
        Unsafe.Add(ref abs, slot) = Avx512Pairs.Spread<TOps>(Avx2.Abs(qw).AsInt32()).AsByte();
        Unsafe.Add(ref neg, slot) = Avx512Pairs.Spread<TOps>(Avx2.CompareGreaterThan(Vector256<sbyte>.Zero, qw).AsInt32()).AsByte();
    }

    /// <summary>The eight rows' integer sums of one block for both activation rows of the pair at <paramref name="q"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> BlockPair<TOps>(ref Vector512<byte> abs, ref Vector512<byte> neg, ref byte q) where TOps : struct, IAvx512Ops
    {
        var sum = TOps.Add(SlicePair<TOps>(ref abs, ref neg, ref q, 0), SlicePair<TOps>(ref abs, ref neg, ref q, 1));
        sum = TOps.Add(sum, TOps.Add(SlicePair<TOps>(ref abs, ref neg, ref q, 2), SlicePair<TOps>(ref abs, ref neg, ref q, 3)));
        sum = TOps.Add(sum, TOps.Add(SlicePair<TOps>(ref abs, ref neg, ref q, 8), SlicePair<TOps>(ref abs, ref neg, ref q, 9)));
        return TOps.Add(sum, TOps.Add(SlicePair<TOps>(ref abs, ref neg, ref q, 10), SlicePair<TOps>(ref abs, ref neg, ref q, 11)));
    }

    /// <summary>Per dword lane, the four products of the slice at <paramref name="slot"/> with its activation pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> SlicePair<TOps>(ref Vector512<byte> abs, ref Vector512<byte> neg, ref byte q, nint slot) where TOps : struct, IAvx512Ops
    {
        var m = Unsafe.Add(ref neg, slot);
        var signed = TOps.Subtract(TOps.Xor(Avx512Pairs.Broadcast(ref q, 8 * slot).AsByte(), m).AsSByte(), m.AsSByte());
        return TOps.MultiplyAddAdjacent(TOps.MultiplyAddAdjacent(Unsafe.Add(ref abs, slot), signed), Vector512.Create((short)1));
    }
}
