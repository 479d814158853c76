using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Llamero.Kernels;

namespace Llamero.Quants.Interleaved;

// The AVX-512 Gemm: two activation rows per 512-bit vector (Avx512Pairs), each dword lane running the AVX2 kernel's
// steps for its (weight row, activation row): the same exact int32 sums (sub-block maddubs summed in int16, one madd
// by the scale) and the same float steps, acc = fma(float(sumi), d·dy, acc), accMin = fma(float(mins), dmin·dy,
// accMin), result acc − accMin. Per super-block the 64 nibble vectors and 16 scale vectors are spread to both
// activation rows once; then each pair costs one broadcast load, one vpmaddubsw and one vpaddw per 4-byte unit.
internal sealed partial class Q4_Kx8 : IAvx512Gemm
{
    private const int WidePairs = Avx512Pairs.MaxPairs;

    /// <summary>A super-block's nibble vectors spread to both activation rows, in the activations' pair-slot order:
    /// entry m is the unit whose activation pair sits at byte 8m of <see cref="Avx512Q8KPair"/>.</summary>
    [InlineArray(64)]
    private struct WideNibbles
    {
        private Vector512<byte> _element0;
    }

    /// <summary>
    /// Per super-block: the scale vectors of sub-blocks 0..7, then their min vectors 0..7, row r's value in int16 lanes 2r
    /// and 2r + 1 (the AVX2 <see cref="ScaleVectors"/> hold the mins in pairs instead).
    /// </summary>
    [InlineArray(16)]
    private struct SubBlockScales
    {
        private Vector256<short> _element0;
    }

    /// <summary>The sixteen <see cref="SubBlockScales"/> spread to both activation rows.</summary>
    [InlineArray(16)]
    private struct WideScales
    {
        private Vector512<short> _element0;
    }

    /// <inheritdoc cref="IAvx512Gemm.GemmAvx512"/>
    public static void GemmAvx512<TOps>(ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride, Span<float> carry, RowRange range) where TOps : struct, IAvx512Ops
    {
        var blocks = Check(group, activations, activationStride, count, cols, results, resultStride, carry, range);
        if (count > 0)
            GemmAvx512<TOps>(ref MemoryMarshal.GetReference(group), ref MemoryMarshal.GetReference(activations), activationStride, count, blocks,
                ref MemoryMarshal.GetReference(results), resultStride, ref MemoryMarshal.GetReference(carry), range);
    }

    /// <summary>
    /// Activation rows two at a time (an odd last row runs <see cref="GemmAvx2"/>, the same steps), up to
    /// <see cref="WidePairs"/> pairs per pass over the group: per super-block the weights are decoded and spread once,
    /// each pair's activations interleaved once. The accumulators start at zero or resume from <paramref name="y"/> and
    /// <paramref name="carry"/> as <see cref="GemmAvx2"/>'s (<see cref="GemmRange"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void GemmAvx512<TOps>(ref byte w, ref byte a, nint stride, int count, int blocks, ref float y, nint yStride,
        ref float carry, RowRange range) where TOps : struct, IAvx512Ops
    {
        SubBlockScales sv = default;
        Unsafe.SkipInit(out WideScales ws);
        Unsafe.SkipInit(out WideNibbles nibbles);
        Unsafe.SkipInit(out Avx512Q8KPair act);
        Unsafe.SkipInit(out Avx512Accumulators acc);
        Unsafe.SkipInit(out Avx512Accumulators accMin);
        var pairs = count / 2;
        var resume = (range & RowRange.First) == 0;
        for (var p0 = 0; p0 < pairs; p0 += WidePairs)
        {
            var n = Math.Min(WidePairs, pairs - p0);
            ref var a0 = ref Unsafe.Add(ref a, 2 * p0 * stride);
            for (var p = 0; p < n; p++)
            {
                var b = 2 * (p0 + p);
                acc[p] = resume ? Avx512Pairs.Load<TOps>(ref Unsafe.Add(ref y, b * yStride), ref Unsafe.Add(ref y, (b + 1) * yStride)) : default;
                accMin[p] = resume ? Avx512Pairs.Load<TOps>(ref Unsafe.Add(ref carry, b * Rows), ref Unsafe.Add(ref carry, (b + 1) * Rows)) : default;
            }
            for (nint i = 0; i < blocks; i++)
            {
                ref var wb = ref Unsafe.Add(ref w, i * BlockBytes);
                UnpackSubBlockScales(ref wb, ref sv);
                for (var k = 0; k < 16; k++)
                    ws[k] = Avx512Pairs.Spread<TOps>(sv[k].AsInt32()).AsInt16();
                var d = Avx512Pairs.Spread<TOps>(HalvesToFloats(ref wb, DOffset).AsInt32()).AsSingle();
                var dMin = Avx512Pairs.Spread<TOps>(HalvesToFloats(ref wb, DMinOffset).AsInt32()).AsSingle();
                DecodeWide<TOps>(ref Unsafe.Add(ref wb, QsOffset), ref nibbles);
                ref var ai = ref Unsafe.Add(ref a0, i * Q8_K.BlockBytes);
                for (var p = 0; p < n; p++)
                {
                    ref var ra = ref Unsafe.Add(ref ai, 2 * p * stride);
                    act.Load<TOps>(ref ra, ref Unsafe.Add(ref ra, stride));
                    var sumi = SumPair<TOps>(ref nibbles, ref ws, ref act);
                    AccumulatePair<TOps>(ref acc[p], ref accMin[p], d, dMin, ref act, sumi, ref ws);
                }
            }
            for (var p = 0; p < n; p++)
            {
                var b = 2 * (p0 + p);
                ref var yb = ref Unsafe.Add(ref y, b * yStride);
                if ((range & RowRange.Last) != 0)
                    Avx512Pairs.Store<TOps>(TOps.Subtract(acc[p], accMin[p]), ref yb, ref Unsafe.Add(ref yb, yStride));
                else
                {
                    Avx512Pairs.Store<TOps>(acc[p], ref yb, ref Unsafe.Add(ref yb, yStride));
                    Avx512Pairs.Store<TOps>(accMin[p], ref Unsafe.Add(ref carry, b * Rows), ref Unsafe.Add(ref carry, (b + 1) * Rows));
                }
            }
        }
        if ((count & 1) != 0)
            GemmAvx2(ref w, ref Unsafe.Add(ref a, (count - 1) * stride), stride, 1, blocks, ref Unsafe.Add(ref y, (count - 1) * yStride), yStride,
                ref Unsafe.Add(ref carry, (count - 1) * Rows), range);
    }

    /// <summary>The 12 packed scale bytes of all eight rows to <see cref="SubBlockScales"/> (as <see cref="UnpackScales"/> finds them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UnpackSubBlockScales(ref byte wb, ref SubBlockScales sv)
    {
        SixBitScales(ref wb, out var scales03, out var scales47, out var mins03, out var mins47);
        Spread(scales03, ref sv[0]);
        Spread(scales47, ref sv[4]);
        Spread(mins03, ref sv[8]);
        Spread(mins47, ref sv[12]);
    }

    /// <summary>The super-block's 32 qs vectors split into low and high nibbles (sub-blocks 2c and 2c + 1), spread to
    /// both activation rows and stored at their units' pair slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DecodeWide<TOps>(ref byte qs, ref WideNibbles nibbles) where TOps : struct, IAvx512Ops
    {
        ref var to = ref Unsafe.As<WideNibbles, Vector512<byte>>(ref nibbles);
        for (nint c = 0; c < 4; c++)
        {
            ref var from = ref Unsafe.Add(ref qs, 256 * c);
            ref var chunk = ref Unsafe.Add(ref to, 16 * c);
            // Units 16c + u, u + 1 (u = 0, 2, 4, 6) sit at slots 16c + 0, 8, 2, 10 (+1); their high nibbles 4 slots on.
            DecodeTwo<TOps>(ref from, ref chunk);
            DecodeTwo<TOps>(ref Unsafe.Add(ref from, 64), ref Unsafe.Add(ref chunk, 8));
            DecodeTwo<TOps>(ref Unsafe.Add(ref from, 128), ref Unsafe.Add(ref chunk, 2));
            DecodeTwo<TOps>(ref Unsafe.Add(ref from, 192), ref Unsafe.Add(ref chunk, 10));
        }
    }

    /// <summary>Two qs vectors (units u, u + 1 of a chunk): low nibbles to <paramref name="to"/>[0], [1] and high nibbles
    /// (the same places of the odd sub-block) to [4], [5].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DecodeTwo<TOps>(ref byte from, ref Vector512<byte> to) where TOps : struct, IAvx512Ops
    {
        var mask = Vector512.Create((byte)0x0F);
        Avx512Pairs.SpreadTwo<TOps>(ref from, out var first, out var second);
        to = TOps.And(first, mask);
        Unsafe.Add(ref to, 1) = TOps.And(second, mask);
        Unsafe.Add(ref to, 4) = TOps.And(TOps.ShiftRightLogical(first.AsUInt16(), 4).AsByte(), mask);
        Unsafe.Add(ref to, 5) = TOps.And(TOps.ShiftRightLogical(second.AsUInt16(), 4).AsByte(), mask);
    }

    /// <summary>
    /// sumi = Σ_j scale_j · Σ q·a for both activation rows. Sub-block 2k + h's eight units sit at pair slots
    /// 16k + 4h + 0..3 and 16k + 8 + 4h + 0..3 (<see cref="Avx512Pairs.Slot"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> SumPair<TOps>(ref WideNibbles nibbles, ref WideScales ws, ref Avx512Q8KPair act) where TOps : struct, IAvx512Ops
    {
        ref var q = ref Unsafe.As<WideNibbles, Vector512<byte>>(ref nibbles);
        ref var s = ref Unsafe.As<WideScales, Vector512<short>>(ref ws);
        ref var pairs = ref Unsafe.As<Avx512Q8KPair, byte>(ref act);
        // Written out: constant slots fold into the loads' displacements.
        var sumi = TOps.Add(SubBlock<TOps>(ref q, ref pairs, 0, s), SubBlock<TOps>(ref q, ref pairs, 4, Unsafe.Add(ref s, 1)));
        sumi = TOps.Add(sumi, TOps.Add(SubBlock<TOps>(ref q, ref pairs, 16, Unsafe.Add(ref s, 2)), SubBlock<TOps>(ref q, ref pairs, 20, Unsafe.Add(ref s, 3))));
        sumi = TOps.Add(sumi, TOps.Add(SubBlock<TOps>(ref q, ref pairs, 32, Unsafe.Add(ref s, 4)), SubBlock<TOps>(ref q, ref pairs, 36, Unsafe.Add(ref s, 5))));
        return TOps.Add(sumi, TOps.Add(SubBlock<TOps>(ref q, ref pairs, 48, Unsafe.Add(ref s, 6)), SubBlock<TOps>(ref q, ref pairs, 52, Unsafe.Add(ref s, 7))));
    }

    /// <summary>One sub-block (slots <paramref name="first"/> + 0..3, + 8..11): eight maddubs summed in int16 (the AVX2
    /// kernel's bound), then one madd by the scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> SubBlock<TOps>(ref Vector512<byte> q, ref byte pairs, nint first, Vector512<short> scale) where TOps : struct, IAvx512Ops
    {
        ref var qf = ref Unsafe.Add(ref q, first);
        ref var af = ref Unsafe.Add(ref pairs, 8 * first);
        var s0 = TOps.Add(Avx512Pairs.MultiplyAddAt<TOps>(ref qf, ref af, 0), Avx512Pairs.MultiplyAddAt<TOps>(ref qf, ref af, 1));
        var s1 = TOps.Add(Avx512Pairs.MultiplyAddAt<TOps>(ref qf, ref af, 2), Avx512Pairs.MultiplyAddAt<TOps>(ref qf, ref af, 3));
        var s2 = TOps.Add(Avx512Pairs.MultiplyAddAt<TOps>(ref qf, ref af, 8), Avx512Pairs.MultiplyAddAt<TOps>(ref qf, ref af, 9));
        var s3 = TOps.Add(Avx512Pairs.MultiplyAddAt<TOps>(ref qf, ref af, 10), Avx512Pairs.MultiplyAddAt<TOps>(ref qf, ref af, 11));
        return TOps.MultiplyAddAdjacent(TOps.Add(TOps.Add(s0, s1), TOps.Add(s2, s3)), scale);
    }

    /// <summary><see cref="Accumulate"/> for a pair (the same exact mins term, summed sub-block by sub-block): the mins term Σ_j min_j·(bsum_2j + bsum_2j+1) by one madd per
    /// sub-block, then the two fused multiply-adds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulatePair<TOps>(ref Vector512<float> acc, ref Vector512<float> accMin, Vector512<float> d, Vector512<float> dMin,
        ref Avx512Q8KPair act, Vector512<int> sumi, ref WideScales ws) where TOps : struct, IAvx512Ops
    {
        var m01 = TOps.Add(TOps.MultiplyAddAdjacent(ws[8], act.GroupSums(0)), TOps.MultiplyAddAdjacent(ws[9], act.GroupSums(1)));
        var m23 = TOps.Add(TOps.MultiplyAddAdjacent(ws[10], act.GroupSums(2)), TOps.MultiplyAddAdjacent(ws[11], act.GroupSums(3)));
        var m45 = TOps.Add(TOps.MultiplyAddAdjacent(ws[12], act.GroupSums(4)), TOps.MultiplyAddAdjacent(ws[13], act.GroupSums(5)));
        var m67 = TOps.Add(TOps.MultiplyAddAdjacent(ws[14], act.GroupSums(6)), TOps.MultiplyAddAdjacent(ws[15], act.GroupSums(7)));
        var dy = act.D2;
        acc = TOps.FusedMultiplyAdd(TOps.ConvertToSingle(sumi), TOps.Multiply(d, dy), acc);
        accMin = TOps.FusedMultiplyAdd(TOps.ConvertToSingle(TOps.Add(TOps.Add(m01, m23), TOps.Add(m45, m67))), TOps.Multiply(dMin, dy), accMin);
    }
}
