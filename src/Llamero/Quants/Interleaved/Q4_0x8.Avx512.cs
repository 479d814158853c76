using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants.Interleaved;

// The AVX-512 Gemm: two activation rows per 512-bit vector (Avx512Pairs), each dword lane running the AVX2 kernel's
// steps for its (weight row, activation row): the eight vpmaddubsw of a block summed in int16 (≤ 8·2·15·128), one
// vpmaddwd by ones, 8·Σa subtracted, then acc = fma(float(sum), d_w·d_a, acc). Per block the eight nibble vectors are
// spread to both activation rows once; each pair then costs one broadcast load, one vpmaddubsw and one vpaddw per
// 4-byte unit.
internal sealed partial class Q4_0x8 : IAvx512Gemm
{
    /// <summary>A block's nibble vectors spread to both activation rows at their units' pair slots (unit c = chunk c's
    /// low nibbles at slots 0, 1, 8, 9; unit 4 + c = its high nibbles at 2, 3, 10, 11).</summary>
    [InlineArray(12)]
    private struct WideNibbles
    {
        private Vector512<byte> _element0;
    }

    /// <inheritdoc cref="IAvx512Gemm.GemmAvx512"/>
    public static void GemmAvx512<TOps>(ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride, Span<float> carry, RowRange range) where TOps : struct, IAvx512Ops
    {
        var blocks = CheckGemm(group.Length, activations.Length, activationStride, count, cols, results.Length, resultStride);
        GemmAvx512<TOps>(ref MemoryMarshal.GetReference(group), ref MemoryMarshal.GetReference(activations), activationStride, count, blocks,
            ref MemoryMarshal.GetReference(results), resultStride, (range & RowRange.First) == 0);
    }

    /// <summary>Every activation row, the scales widened as <see cref="GemmAvx2"/> widens them.</summary>
    private static void GemmAvx512<TOps>(ref byte g, ref byte a, int stride, int count, int blocks, ref float y, int resultStride, bool resume)
        where TOps : struct, IAvx512Ops
    {
        if (NeedsExactScales(ref g, blocks))
            GemmRowsAvx512<TOps, ExactScales>(ref g, ref a, stride, count, blocks, ref y, resultStride, resume);
        else
            GemmRowsAvx512<TOps, FiniteScales>(ref g, ref a, stride, count, blocks, ref y, resultStride, resume);
    }

    /// <summary>
    /// Activation rows two at a time, <see cref="GemmRows"/> per pass (an odd last row runs <see cref="GemmRowsAvx2{TScales}"/>,
    /// the same steps): 8·Σa of each row's blocks computed ahead as by the AVX2 kernel, each weight block spread once per
    /// pass, each pair's quants interleaved once per block.
    /// </summary>
    private static void GemmRowsAvx512<TOps, TScales>(ref byte g, ref byte a, int stride, int count, int blocks, ref float y, int resultStride, bool resume)
        where TOps : struct, IAvx512Ops where TScales : struct, IScales
    {
        for (var b0 = 0; b0 < count - 1; b0 += GemmRows)
            PairsAvx512<TOps, TScales>(ref g, ref Unsafe.Add(ref a, (nint)b0 * stride), stride, Math.Min(GemmRows, count - b0) / 2, blocks,
                ref Unsafe.Add(ref y, (nint)b0 * resultStride), resultStride, resume);
        if ((count & 1) != 0)
            GemmRowsAvx2<TScales>(ref g, ref Unsafe.Add(ref a, (nint)(count - 1) * stride), stride, 1, blocks, ref Unsafe.Add(ref y, (nint)(count - 1) * resultStride),
                resultStride, resume);
    }

    /// <summary><paramref name="pairs"/> (at most <see cref="Avx512Pairs.MaxPairs"/>) pairs of activation rows.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void PairsAvx512<TOps, TScales>(ref byte g, ref byte a, int stride, int pairs, int blocks, ref float y, int resultStride, bool resume)
        where TOps : struct, IAvx512Ops where TScales : struct, IScales
    {
        Span<int> eightSums = stackalloc int[GemmRows * SumChunkBlocks];
        ref var sums = ref MemoryMarshal.GetReference(eightSums);
        Unsafe.SkipInit(out WideNibbles nibbles);
        Unsafe.SkipInit(out Avx512Accumulators acc);
        Unsafe.SkipInit(out Avx512HalfPair quants);
        ref var wn = ref Unsafe.As<WideNibbles, Vector512<byte>>(ref nibbles);
        ref var q = ref Unsafe.As<Avx512HalfPair, byte>(ref quants);
        for (var p = 0; p < pairs; p++)
            acc[p] = resume ? Avx512Pairs.Load<TOps>(ref Unsafe.Add(ref y, (nint)2 * p * resultStride), ref Unsafe.Add(ref y, (nint)(2 * p + 1) * resultStride)) : default;
        for (var k0 = 0; k0 < blocks; k0 += SumChunkBlocks)
        {
            var n = Math.Min(SumChunkBlocks, blocks - k0);
            for (var b = 0; b < 2 * pairs; b++)
                EightActivationSums(ref Unsafe.Add(ref a, (nint)b * stride + k0 * ActivationBlockBytes), n, ref Unsafe.Add(ref sums, b * SumChunkBlocks));
            for (var k = 0; k < n; k++)
            {
                ref var gb = ref Unsafe.Add(ref g, (nint)(k0 + k) * GroupBlockBytes);
                var dw = Avx512Pairs.Spread<TOps>(TScales.Widen(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.As<byte, short>(ref gb)))).AsInt32()).AsSingle();
                SpreadNibbles<TOps>(ref Unsafe.Add(ref gb, ScaleBytes), ref wn);
                ref var ak = ref Unsafe.Add(ref a, (nint)(k0 + k) * ActivationBlockBytes);
                for (var p = 0; p < pairs; p++)
                {
                    ref var ap = ref Unsafe.Add(ref ak, (nint)2 * p * stride);
                    ref var bp = ref Unsafe.Add(ref ap, stride);
                    Avx512Pairs.InterleaveHalf<TOps>(ref Unsafe.Add(ref ap, ActivationQuants), ref Unsafe.Add(ref bp, ActivationQuants), ref q);
                    var eight = Vector512.Create((long)(uint)Unsafe.Add(ref sums, 2 * p * SumChunkBlocks + k)
                                                 | ((long)Unsafe.Add(ref sums, (2 * p + 1) * SumChunkBlocks + k) << 32)).AsInt32();
                    var s = TOps.Subtract(DotPair<TOps>(ref wn, ref q), eight);
                    var da = Avx512Pairs.FloatPair(Fp16.ToFloat(Unsafe.ReadUnaligned<ushort>(ref ap)), Fp16.ToFloat(Unsafe.ReadUnaligned<ushort>(ref bp)));
                    acc[p] = TOps.FusedMultiplyAdd(TOps.ConvertToSingle(s), TOps.Multiply(dw, da), acc[p]);
                }
            }
        }
        for (var p = 0; p < pairs; p++)
            Avx512Pairs.Store<TOps>(acc[p], ref Unsafe.Add(ref y, (nint)2 * p * resultStride), ref Unsafe.Add(ref y, (nint)(2 * p + 1) * resultStride));
    }

    /// <summary>The block's four nibble chunks (at <paramref name="chunks"/>) split and spread to their units' pair slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SpreadNibbles<TOps>(ref byte chunks, ref Vector512<byte> to) where TOps : struct, IAvx512Ops
    {
        var mask = Vector512.Create((byte)0x0F);
        // Chunks 0, 1 are units 0, 1 (low) and 4, 5 (high): slots 0, 1, 2, 3; chunks 2, 3 likewise at slots 8..11.
        Avx512Pairs.SpreadTwo<TOps>(ref chunks, out var c0, out var c1);
        Avx512Pairs.SpreadTwo<TOps>(ref Unsafe.Add(ref chunks, 2 * ChunkBytes), out var c2, out var c3);
        to = TOps.And(c0, mask);
        Unsafe.Add(ref to, 1) = TOps.And(c1, mask);
        Unsafe.Add(ref to, 2) = TOps.And(TOps.ShiftRightLogical(c0.AsUInt16(), 4).AsByte(), mask);
        Unsafe.Add(ref to, 3) = TOps.And(TOps.ShiftRightLogical(c1.AsUInt16(), 4).AsByte(), mask);
        Unsafe.Add(ref to, 8) = TOps.And(c2, mask);
        Unsafe.Add(ref to, 9) = TOps.And(c3, mask);
        Unsafe.Add(ref to, 10) = TOps.And(TOps.ShiftRightLogical(c2.AsUInt16(), 4).AsByte(), mask);
        Unsafe.Add(ref to, 11) = TOps.And(TOps.ShiftRightLogical(c3.AsUInt16(), 4).AsByte(), mask);
    }

    /// <summary>Σ q·a per dword lane of a pair (the AVX2 Dot's int16 sum of eight products, then vpmaddwd by ones).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> DotPair<TOps>(ref Vector512<byte> wn, ref byte q) where TOps : struct, IAvx512Ops
    {
        var p0 = TOps.Add(Avx512Pairs.MultiplyAddAt<TOps>(ref wn, ref q, 0), Avx512Pairs.MultiplyAddAt<TOps>(ref wn, ref q, 1));
        var p1 = TOps.Add(Avx512Pairs.MultiplyAddAt<TOps>(ref wn, ref q, 2), Avx512Pairs.MultiplyAddAt<TOps>(ref wn, ref q, 3));
        var p2 = TOps.Add(Avx512Pairs.MultiplyAddAt<TOps>(ref wn, ref q, 8), Avx512Pairs.MultiplyAddAt<TOps>(ref wn, ref q, 9));
        var p3 = TOps.Add(Avx512Pairs.MultiplyAddAt<TOps>(ref wn, ref q, 10), Avx512Pairs.MultiplyAddAt<TOps>(ref wn, ref q, 11));
        return TOps.MultiplyAddAdjacent(TOps.Add(TOps.Add(p0, p1), TOps.Add(p2, p3)), Vector512.Create((short)1));
    }
}
