using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants.Interleaved;

// The AVX-512 Gemm: two activation rows per 512-bit vector (Avx512Pairs), each dword lane running the AVX2 kernel's
// steps for its (weight row, activation row): the same exact int32 sums (two vpmaddubsw of one group summed in int16,
// ≤ 32256, then vpmaddwd by the group scale; the −32 offset as 32·Σ scale·bsum) and the same float step,
// acc = fma(d·d8, float(sum), acc). Per super-block the 64 level vectors and the scales are decoded by the AVX2 code
// and spread to both activation rows once; then each pair costs one broadcast load, one vpmaddubsw and half a vpaddw
// and a vpmaddwd per 4-byte unit.
internal sealed partial class Q6_Kx8 : IAvx512Gemm
{
    /// <summary>A super-block's level vectors spread to both activation rows, in the activations' pair-slot order
    /// (entry m is the unit whose activation pair sits at byte 8m of <see cref="Avx512Q8KPair"/>).</summary>
    [InlineArray(64)]
    private struct WideLevels
    {
        private Vector512<byte> _element0;
    }

    /// <summary>The 16 group scale vectors and the 8 scale-pair vectors (<see cref="ScaleVectors"/>) spread to both activation rows.</summary>
    [InlineArray(24)]
    private struct WideScales
    {
        private Vector512<short> _element0;
    }

    /// <inheritdoc cref="IAvx512Gemm.GemmAvx512"/>
    public static void GemmAvx512<TOps>(ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride, Span<float> carry, RowRange range) where TOps : struct, IAvx512Ops
    {
        if (count == 0)
            return;
        var blocks = CheckGemm(group.Length, activations.Length, activationStride, count, cols, results.Length, resultStride);
        for (var b0 = 0; b0 < count; b0 += GemmRows)
            GemmAvx512<TOps>(ref MemoryMarshal.GetReference(group), ref Unsafe.Add(ref MemoryMarshal.GetReference(activations), (nint)b0 * activationStride),
                activationStride, Math.Min(GemmRows, count - b0), blocks, ref Unsafe.Add(ref MemoryMarshal.GetReference(results), (nint)b0 * resultStride),
                resultStride, (range & RowRange.First) == 0);
    }

    /// <summary>
    /// <paramref name="count"/> (at most <see cref="GemmRows"/>) activation rows two at a time (an odd last row runs
    /// <see cref="GemmAvx2"/>, the same steps): per super-block the levels and scales are decoded and spread once, each
    /// pair's activations interleaved once. The accumulators start at zero or, when <paramref name="resume"/>, from the results.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void GemmAvx512<TOps>(ref byte w, ref byte y, nint stride, int count, int blocks, ref float results, nint resultStride, bool resume)
        where TOps : struct, IAvx512Ops
    {
        Unsafe.SkipInit(out WideLevels levels);
        Unsafe.SkipInit(out WideScales scales);
        Unsafe.SkipInit(out Avx512Q8KPair act);
        Unsafe.SkipInit(out Avx512Accumulators acc);
        ref var l = ref Unsafe.As<WideLevels, Vector512<byte>>(ref levels);
        ref var s = ref Unsafe.As<WideScales, Vector512<short>>(ref scales);
        var pairs = count / 2;
        for (var p = 0; p < pairs; p++)
            acc[p] = resume ? Avx512Pairs.Load<TOps>(ref Unsafe.Add(ref results, 2 * p * resultStride), ref Unsafe.Add(ref results, (2 * p + 1) * resultStride)) : default;
        Unsafe.SkipInit(out LevelVectors narrowLevels);
        Unsafe.SkipInit(out ScaleVectors narrowScales);
        ref var u = ref Unsafe.As<LevelVectors, Vector256<byte>>(ref narrowLevels);
        ref var ns = ref Unsafe.As<ScaleVectors, Vector256<short>>(ref narrowScales);
        for (nint i = 0; i < blocks; i++)
        {
            ref var wb = ref Unsafe.Add(ref w, i * SuperBlockBytes);
            DecodeBlock(ref wb, ref u, ref ns);
            for (nint k = 0; k < 24; k++)
                Unsafe.Add(ref s, k) = Avx512Pairs.Spread<TOps>(Unsafe.Add(ref ns, k).AsInt32()).AsInt16();
            for (nint g = 0; g < 16; g++)
            {
                // Quads k of group g are units 4g + k: pair slots 16(g / 4) + 2(g mod 4) + 0, 1, 8, 9.
                ref var from = ref Unsafe.Add(ref u, 4 * g);
                ref var to = ref Unsafe.Add(ref l, 16 * (g >> 2) + 2 * (g & 3));
                to = Avx512Pairs.Spread<TOps>(from.AsInt32()).AsByte();
                Unsafe.Add(ref to, 1) = Avx512Pairs.Spread<TOps>(Unsafe.Add(ref from, 1).AsInt32()).AsByte();
                Unsafe.Add(ref to, 8) = Avx512Pairs.Spread<TOps>(Unsafe.Add(ref from, 2).AsInt32()).AsByte();
                Unsafe.Add(ref to, 9) = Avx512Pairs.Spread<TOps>(Unsafe.Add(ref from, 3).AsInt32()).AsByte();
            }
            ref var y0 = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            var d = Avx512Pairs.Spread<TOps>(RowScales(ref wb).AsInt32()).AsSingle();
            for (var p = 0; p < pairs; p++)
            {
                ref var ya = ref Unsafe.Add(ref y0, 2 * p * stride);
                act.Load<TOps>(ref ya, ref Unsafe.Add(ref ya, stride));
                var sum = TOps.Subtract(SumPair<TOps>(ref l, ref s, ref Unsafe.As<Avx512Q8KPair, byte>(ref act)), OffsetPair<TOps>(ref s, ref act));
                acc[p] = TOps.FusedMultiplyAdd(TOps.Multiply(d, act.D2), TOps.ConvertToSingle(sum), acc[p]);
            }
        }
        for (var p = 0; p < pairs; p++)
            Avx512Pairs.Store<TOps>(acc[p], ref Unsafe.Add(ref results, 2 * p * resultStride), ref Unsafe.Add(ref results, (2 * p + 1) * resultStride));
        if ((count & 1) != 0)
            GemmAvx2(ref w, ref Unsafe.Add(ref y, (count - 1) * stride), stride, 1, blocks, ref Unsafe.Add(ref results, (count - 1) * resultStride), resultStride, resume);
    }

    /// <summary>Σ_g scale_g · Σ level·q8 for both activation rows: groups 4c..4c + 3 sit at pair slots 16c + 2t + 0, 1, 8, 9.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> SumPair<TOps>(ref Vector512<byte> l, ref Vector512<short> s, ref byte pairs) where TOps : struct, IAvx512Ops
    {
        var sum = Vector512<int>.Zero;
        for (nint c = 0; c < 4; c++)
        {
            ref var lc = ref Unsafe.Add(ref l, 16 * c);
            ref var ac = ref Unsafe.Add(ref pairs, 128 * c);
            ref var sc = ref Unsafe.Add(ref s, 4 * c);
            // Written out: constant slots fold into the loads' displacements.
            sum = TOps.Add(sum, TOps.Add(Group<TOps>(ref lc, ref ac, 0, sc), Group<TOps>(ref lc, ref ac, 2, Unsafe.Add(ref sc, 1))));
            sum = TOps.Add(sum, TOps.Add(Group<TOps>(ref lc, ref ac, 4, Unsafe.Add(ref sc, 2)), Group<TOps>(ref lc, ref ac, 6, Unsafe.Add(ref sc, 3))));
        }
        return sum;
    }

    /// <summary>One group (slots <paramref name="first"/> + 0, 1 and + 8, 9): two quad pairs, each summed in int16 and
    /// multiplied by the scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Group<TOps>(ref Vector512<byte> l, ref byte pairs, nint first, Vector512<short> scale) where TOps : struct, IAvx512Ops
    {
        ref var lf = ref Unsafe.Add(ref l, first);
        ref var af = ref Unsafe.Add(ref pairs, 8 * first);
        var low = TOps.Add(Avx512Pairs.MultiplyAddAt<TOps>(ref lf, ref af, 0), Avx512Pairs.MultiplyAddAt<TOps>(ref lf, ref af, 1));
        var high = TOps.Add(Avx512Pairs.MultiplyAddAt<TOps>(ref lf, ref af, 8), Avx512Pairs.MultiplyAddAt<TOps>(ref lf, ref af, 9));
        return TOps.Add(TOps.MultiplyAddAdjacent(low, scale), TOps.MultiplyAddAdjacent(high, scale));
    }

    /// <summary>32·Σ_g scale·bsum per row and activation row, from the scale pairs at <see cref="PairSlot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> OffsetPair<TOps>(ref Vector512<short> s, ref Avx512Q8KPair act) where TOps : struct, IAvx512Ops
    {
        ref var pair = ref Unsafe.Add(ref s, PairSlot);
        var o01 = TOps.Add(TOps.MultiplyAddAdjacent(pair, act.GroupSums(0)), TOps.MultiplyAddAdjacent(Unsafe.Add(ref pair, 1), act.GroupSums(1)));
        var o23 = TOps.Add(TOps.MultiplyAddAdjacent(Unsafe.Add(ref pair, 2), act.GroupSums(2)), TOps.MultiplyAddAdjacent(Unsafe.Add(ref pair, 3), act.GroupSums(3)));
        var o45 = TOps.Add(TOps.MultiplyAddAdjacent(Unsafe.Add(ref pair, 4), act.GroupSums(4)), TOps.MultiplyAddAdjacent(Unsafe.Add(ref pair, 5), act.GroupSums(5)));
        var o67 = TOps.Add(TOps.MultiplyAddAdjacent(Unsafe.Add(ref pair, 6), act.GroupSums(6)), TOps.MultiplyAddAdjacent(Unsafe.Add(ref pair, 7), act.GroupSums(7)));
        return TOps.ShiftLeftLogical(TOps.Add(TOps.Add(o01, o23), TOps.Add(o45, o67)), 5);
    }
}
