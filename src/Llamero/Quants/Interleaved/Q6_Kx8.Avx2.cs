using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants.Interleaved;

// The AVX2 kernels. Lane j of every int32 and float vector is weight row j. A level vector (one quad of elements
// of all eight rows) meets a 4-byte broadcast of the activations in vpmaddubsw: unsigned levels 0..63 times int8
// activations (−128..127), pairs summed to int16 (|·| ≤ 16128); two such results of one group add to ≤ 32256,
// still an int16, before vpmaddwd multiplies by the group scale and finishes row j's quad sums in int32 lane j.
// The −32 offset comes off once per super-block: 32·Σ_g scale·bsum, with the (group 2p, 2p+1) scale pairs
// against the matching pair of Q8_K group sums in one vpmaddwd. All integer sums are exact (|Σ| < 2^29).
internal sealed partial class Q6_Kx8
{
    /// <summary>A super-block's 64 level vectors (group g's quads at 4g..4g+3), decoded once for a Gemm pass.</summary>
    [InlineArray(64)]
    private struct LevelVectors
    {
        private Vector256<byte> _element0;
    }

    /// <summary>Per super-block: the 16 group scale vectors (row j's scale in both int16 halves of lane j), then the
    /// 8 scale-pair vectors for the offset correction.</summary>
    [InlineArray(24)]
    private struct ScaleVectors
    {
        private Vector256<short> _element0;
    }

    private const int PairSlot = 16;

    /// <summary>Most activation rows one <see cref="GemmAvx2"/> call takes (their float sums stay on the stack).</summary>
    private const int GemmRows = 16;

    [InlineArray(GemmRows)]
    private struct RowAccumulators
    {
        private Vector256<float> _element0;
    }

    /// <summary>The int32 sums (row j in lane j) of the eight activation rows of one <see cref="Sum8"/> pass.</summary>
    [InlineArray(8)]
    private struct RowSums
    {
        private Vector256<int> _element0;
    }

    /// <summary>One activation row: every weight byte read once and decoded in registers.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemvAvx2(ref byte w, ref byte y, int blocks, ref float results)
    {
        var acc = Vector256<float>.Zero;
        var dupLow = DuplicateLow();
        var dupHigh = DuplicateHigh();
        for (nint i = 0; i < blocks; i++)
        {
            ref var wb = ref Unsafe.Add(ref w, i * SuperBlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            ref var q8 = ref Unsafe.Add(ref yb, Q8_K.QsOffset);
            var sum = Vector256<int>.Zero;
            var offset = Vector256<int>.Zero;
            // Unrolled by hand: constant p folds every address into the loads.
            PairSum(ref wb, ref yb, ref q8, 0, dupLow, dupHigh, ref sum, ref offset);
            PairSum(ref wb, ref yb, ref q8, 1, dupLow, dupHigh, ref sum, ref offset);
            PairSum(ref wb, ref yb, ref q8, 2, dupLow, dupHigh, ref sum, ref offset);
            PairSum(ref wb, ref yb, ref q8, 3, dupLow, dupHigh, ref sum, ref offset);
            PairSum(ref wb, ref yb, ref q8, 4, dupLow, dupHigh, ref sum, ref offset);
            PairSum(ref wb, ref yb, ref q8, 5, dupLow, dupHigh, ref sum, ref offset);
            PairSum(ref wb, ref yb, ref q8, 6, dupLow, dupHigh, ref sum, ref offset);
            PairSum(ref wb, ref yb, ref q8, 7, dupLow, dupHigh, ref sum, ref offset);
            acc = StepAvx2(RowScales(ref wb), ref yb, sum - Avx2.ShiftLeftLogical(offset, 5), acc);
        }
        acc.StoreUnsafe(ref results);
    }

    /// <summary>
    /// <paramref name="count"/> (at most <see cref="GemmRows"/>) activation rows: each super-block's levels and scales are decoded once into L1-resident
    /// stack vectors, then run against the rows eight at a time (then four, then one). Integer sums and float steps are those of
    /// <see cref="GemvAvx2"/>, so each row's results are bit-identical to it. The accumulators start at zero or, when
    /// <paramref name="resume"/>, at the results (<see cref="GemmRange"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void GemmAvx2(ref byte w, ref byte y, nint stride, int count, int blocks, ref float results, nint resultStride, bool resume)
    {
        Unsafe.SkipInit(out LevelVectors levels);
        Unsafe.SkipInit(out ScaleVectors scales);
        Unsafe.SkipInit(out RowSums sums);
        RowAccumulators acc = default;
        if (resume)
            for (var b = 0; b < count; b++)
                acc[b] = Vector256.LoadUnsafe(ref Unsafe.Add(ref results, b * resultStride));
        ref var u = ref Unsafe.As<LevelVectors, Vector256<byte>>(ref levels);
        ref var s = ref Unsafe.As<ScaleVectors, Vector256<short>>(ref scales);
        for (nint i = 0; i < blocks; i++)
        {
            ref var wb = ref Unsafe.Add(ref w, i * SuperBlockBytes);
            DecodeBlock(ref wb, ref u, ref s);
            ref var y0 = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            var d = RowScales(ref wb);
            var b = 0;
            for (; b + 8 <= count; b += 8)
            {
                ref var ya = ref Unsafe.Add(ref y0, b * stride);
                Sum8(ref u, ref s, ref Unsafe.Add(ref ya, Q8_K.QsOffset), stride, ref sums);
                Step8(d, ref ya, stride, ref sums, ref s, ref acc[b]);
            }
            for (; b + 4 <= count; b += 4)
            {
                ref var ya = ref Unsafe.Add(ref y0, b * stride);
                ref var yb = ref Unsafe.Add(ref ya, stride);
                ref var yc = ref Unsafe.Add(ref yb, stride);
                ref var yd = ref Unsafe.Add(ref yc, stride);
                Sum4(ref u, ref s, ref Unsafe.Add(ref ya, Q8_K.QsOffset), ref Unsafe.Add(ref yb, Q8_K.QsOffset),
                    ref Unsafe.Add(ref yc, Q8_K.QsOffset), ref Unsafe.Add(ref yd, Q8_K.QsOffset), out var sa, out var sb, out var sc, out var sd);
                acc[b] = StepAvx2(d, ref ya, sa - Offset(ref s, ref ya), acc[b]);
                acc[b + 1] = StepAvx2(d, ref yb, sb - Offset(ref s, ref yb), acc[b + 1]);
                acc[b + 2] = StepAvx2(d, ref yc, sc - Offset(ref s, ref yc), acc[b + 2]);
                acc[b + 3] = StepAvx2(d, ref yd, sd - Offset(ref s, ref yd), acc[b + 3]);
            }
            for (; b < count; b++)
            {
                ref var ya = ref Unsafe.Add(ref y0, b * stride);
                acc[b] = StepAvx2(d, ref ya, Sum1(ref u, ref s, ref Unsafe.Add(ref ya, Q8_K.QsOffset)) - Offset(ref s, ref ya), acc[b]);
            }
        }
        for (var b = 0; b < count; b++)
            acc[b].StoreUnsafe(ref Unsafe.Add(ref results, b * resultStride));
    }

    /// <summary>A super-block's scale vectors (<see cref="ScaleVectors"/>) and 64 level vectors (<see cref="LevelVectors"/>), decoded once for a Gemm pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DecodeBlock(ref byte wb, ref Vector256<byte> u, ref Vector256<short> s)
    {
        var dupLow = DuplicateLow();
        var dupHigh = DuplicateHigh();
        for (nint p = 0; p < 8; p++)
        {
            var pair = ScalePair(ref wb, p);
            Unsafe.Add(ref s, PairSlot + p) = pair;
            Unsafe.Add(ref s, 2 * p) = Avx2.Shuffle(pair.AsByte(), dupLow).AsInt16();
            Unsafe.Add(ref s, 2 * p + 1) = Avx2.Shuffle(pair.AsByte(), dupHigh).AsInt16();
        }
        for (nint g = 0; g < 16; g++)
        {
            Decode(ref wb, g, out var l0, out var l1, out var l2, out var l3);
            Unsafe.Add(ref u, 4 * g) = l0;
            Unsafe.Add(ref u, 4 * g + 1) = l1;
            Unsafe.Add(ref u, 4 * g + 2) = l2;
            Unsafe.Add(ref u, 4 * g + 3) = l3;
        }
    }

    /// <summary>
    /// Σ over the 16 groups of eight activation rows (<paramref name="a0"/>, <paramref name="stride"/> bytes apart) against the
    /// decoded super-block, into <paramref name="sums"/>: each level and scale vector is loaded once for eight rows, the
    /// eight int32 sums stay in registers; rows 0..3 and 4..7 are addressed from two bases by scaled strides.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sum8(ref Vector256<byte> u, ref Vector256<short> s, ref byte a0, nint stride, ref RowSums sums)
    {
        ref var a4 = ref Unsafe.Add(ref a0, 4 * stride);
        var stride2 = 2 * stride;
        var stride3 = 3 * stride;
        Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (nint g = 0; g < 16; g++)
        {
            var scale = Unsafe.Add(ref s, g);
            // Quads 0, 1 (elements 16g .. 16g + 7), then quads 2, 3 (+ 8 .. + 15).
            QuadPairs8(Unsafe.Add(ref u, 4 * g), Unsafe.Add(ref u, 4 * g + 1), ref a0, ref a4, stride, stride2, stride3, 0, scale,
                ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
            QuadPairs8(Unsafe.Add(ref u, 4 * g + 2), Unsafe.Add(ref u, 4 * g + 3), ref a0, ref a4, stride, stride2, stride3, 8, scale,
                ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
            a0 = ref Unsafe.Add(ref a0, 16);
            a4 = ref Unsafe.Add(ref a4, 16);
        }
        sums[0] = c0;
        sums[1] = c1;
        sums[2] = c2;
        sums[3] = c3;
        sums[4] = c4;
        sums[5] = c5;
        sums[6] = c6;
        sums[7] = c7;
    }

    /// <summary>Two quads of the eight rows (at element offset <paramref name="e"/> of the group) against eight activation rows, scaled into their sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuadPairs8(Vector256<byte> first, Vector256<byte> second, ref byte a0, ref byte a4, nint stride, nint stride2, nint stride3,
        nint e, Vector256<short> scale, ref Vector256<int> c0, ref Vector256<int> c1, ref Vector256<int> c2, ref Vector256<int> c3,
        ref Vector256<int> c4, ref Vector256<int> c5, ref Vector256<int> c6, ref Vector256<int> c7)
    {
        c0 += Avx2.MultiplyAddAdjacent(QuadPair(first, second, ref a0, e), scale);
        c1 += Avx2.MultiplyAddAdjacent(QuadPair(first, second, ref a0, stride + e), scale);
        c2 += Avx2.MultiplyAddAdjacent(QuadPair(first, second, ref a0, stride2 + e), scale);
        c3 += Avx2.MultiplyAddAdjacent(QuadPair(first, second, ref a0, stride3 + e), scale);
        c4 += Avx2.MultiplyAddAdjacent(QuadPair(first, second, ref a4, e), scale);
        c5 += Avx2.MultiplyAddAdjacent(QuadPair(first, second, ref a4, stride + e), scale);
        c6 += Avx2.MultiplyAddAdjacent(QuadPair(first, second, ref a4, stride2 + e), scale);
        c7 += Avx2.MultiplyAddAdjacent(QuadPair(first, second, ref a4, stride3 + e), scale);
    }

    /// <summary>
    /// The float steps of a <see cref="Sum8"/> pass's eight activation rows (<paramref name="yb"/>, then <paramref name="stride"/>
    /// bytes apart) into eight consecutive accumulators, the offset's scale pairs held in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step8(Vector256<float> d, ref byte yb, nint stride, ref RowSums sums, ref Vector256<short> s, ref Vector256<float> acc)
    {
        ref var pairs = ref Unsafe.Add(ref s, PairSlot);
        var p0 = pairs;
        var p1 = Unsafe.Add(ref pairs, 1);
        var p2 = Unsafe.Add(ref pairs, 2);
        var p3 = Unsafe.Add(ref pairs, 3);
        var p4 = Unsafe.Add(ref pairs, 4);
        var p5 = Unsafe.Add(ref pairs, 5);
        var p6 = Unsafe.Add(ref pairs, 6);
        var p7 = Unsafe.Add(ref pairs, 7);
        ref var sum = ref sums[0];
        for (nint k = 0; k < 8; k++)
        {
            var offset = (Avx2.MultiplyAddAdjacent(p0, BroadcastPair(ref yb, 0)) + Avx2.MultiplyAddAdjacent(p1, BroadcastPair(ref yb, 1)))
                       + (Avx2.MultiplyAddAdjacent(p2, BroadcastPair(ref yb, 2)) + Avx2.MultiplyAddAdjacent(p3, BroadcastPair(ref yb, 3)))
                       + ((Avx2.MultiplyAddAdjacent(p4, BroadcastPair(ref yb, 4)) + Avx2.MultiplyAddAdjacent(p5, BroadcastPair(ref yb, 5)))
                       + (Avx2.MultiplyAddAdjacent(p6, BroadcastPair(ref yb, 6)) + Avx2.MultiplyAddAdjacent(p7, BroadcastPair(ref yb, 7))));
            acc = StepAvx2(d, ref yb, Unsafe.Add(ref sum, k) - Avx2.ShiftLeftLogical(offset, 5), acc);
            acc = ref Unsafe.Add(ref acc, 1);
            yb = ref Unsafe.Add(ref yb, stride);
        }
    }

    /// <summary>Σ over the 16 groups of four activation rows against the decoded super-block.</summary>
    private static void Sum4(ref Vector256<byte> u, ref Vector256<short> s, ref byte qa, ref byte qb, ref byte qc, ref byte qd,
        out Vector256<int> sa, out Vector256<int> sb, out Vector256<int> sc, out Vector256<int> sd)
    {
        // Locals, not the out parameters: those live in memory and would put a store-load on every add.
        Vector256<int> a = default, b = default, c = default, d = default;
        for (nint g = 0; g < 16; g++)
        {
            var scale = Unsafe.Add(ref s, g);
            var l0 = Unsafe.Add(ref u, 4 * g);
            var l1 = Unsafe.Add(ref u, 4 * g + 1);
            a += Avx2.MultiplyAddAdjacent(QuadPair(l0, l1, ref qa, 16 * g), scale);
            b += Avx2.MultiplyAddAdjacent(QuadPair(l0, l1, ref qb, 16 * g), scale);
            c += Avx2.MultiplyAddAdjacent(QuadPair(l0, l1, ref qc, 16 * g), scale);
            d += Avx2.MultiplyAddAdjacent(QuadPair(l0, l1, ref qd, 16 * g), scale);
            var l2 = Unsafe.Add(ref u, 4 * g + 2);
            var l3 = Unsafe.Add(ref u, 4 * g + 3);
            a += Avx2.MultiplyAddAdjacent(QuadPair(l2, l3, ref qa, 16 * g + 8), scale);
            b += Avx2.MultiplyAddAdjacent(QuadPair(l2, l3, ref qb, 16 * g + 8), scale);
            c += Avx2.MultiplyAddAdjacent(QuadPair(l2, l3, ref qc, 16 * g + 8), scale);
            d += Avx2.MultiplyAddAdjacent(QuadPair(l2, l3, ref qd, 16 * g + 8), scale);
        }
        sa = a;
        sb = b;
        sc = c;
        sd = d;
    }

    private static Vector256<int> Sum1(ref Vector256<byte> u, ref Vector256<short> s, ref byte q)
    {
        var a = Vector256<int>.Zero;
        for (nint g = 0; g < 16; g++)
        {
            var scale = Unsafe.Add(ref s, g);
            a += Avx2.MultiplyAddAdjacent(QuadPair(Unsafe.Add(ref u, 4 * g), Unsafe.Add(ref u, 4 * g + 1), ref q, 16 * g), scale)
               + Avx2.MultiplyAddAdjacent(QuadPair(Unsafe.Add(ref u, 4 * g + 2), Unsafe.Add(ref u, 4 * g + 3), ref q, 16 * g + 8), scale);
        }
        return a;
    }

    /// <summary>32·Σ_g scale·bsum per row, from the scale pairs stored at <see cref="PairSlot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Offset(ref Vector256<short> s, ref byte yb)
    {
        var offset = Vector256<int>.Zero;
        for (nint p = 0; p < 8; p++)
            offset += Avx2.MultiplyAddAdjacent(Unsafe.Add(ref s, PairSlot + p), BroadcastPair(ref yb, p));
        return Avx2.ShiftLeftLogical(offset, 5);
    }

    /// <summary>Groups 2p and 2p+1 into <paramref name="sum"/>, their share of the offset into <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairSum(ref byte wb, ref byte yb, ref byte q8, nint p, Vector256<byte> dupLow, Vector256<byte> dupHigh,
        ref Vector256<int> sum, ref Vector256<int> offset)
    {
        var pair = ScalePair(ref wb, p);
        offset += Avx2.MultiplyAddAdjacent(pair, BroadcastPair(ref yb, p));
        sum += GroupSum(ref wb, ref q8, 2 * p, Avx2.Shuffle(pair.AsByte(), dupLow).AsInt16())
             + GroupSum(ref wb, ref q8, 2 * p + 1, Avx2.Shuffle(pair.AsByte(), dupHigh).AsInt16());
    }

    /// <summary>Row j's sums of group <paramref name="g"/>, times its scale, in int32 lane j (levels decoded in registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> GroupSum(ref byte wb, ref byte q8, nint g, Vector256<short> scale)
    {
        Decode(ref wb, g, out var l0, out var l1, out var l2, out var l3);
        return Avx2.MultiplyAddAdjacent(QuadPair(l0, l1, ref q8, 16 * g), scale)
             + Avx2.MultiplyAddAdjacent(QuadPair(l2, l3, ref q8, 16 * g + 8), scale);
    }

    /// <summary>Two consecutive quads (8 elements at <paramref name="e"/>) of all rows against the activations, as
    /// int16 pairs per row (|·| ≤ 2·16128).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> QuadPair(Vector256<byte> first, Vector256<byte> second, ref byte q8, nint e) =>
        Avx2.MultiplyAddAdjacent(first, Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref q8, e))).AsSByte())
        + Avx2.MultiplyAddAdjacent(second, Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref q8, e + 4))).AsSByte());

    /// <summary>The four level vectors of group <paramref name="g"/> from its three stored vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Decode(ref byte wb, nint g, out Vector256<byte> l0, out Vector256<byte> l1, out Vector256<byte> l2, out Vector256<byte> l3)
    {
        ref var v = ref Unsafe.Add(ref wb, LevelsOffset + GroupLevelBytes * g);
        var v0 = Vector256.LoadUnsafe(ref v);
        var v1 = Vector256.LoadUnsafe(ref v, 32);
        var v2 = Vector256.LoadUnsafe(ref v, 64);
        var low6 = Vector256.Create((byte)63);
        l0 = v0 & low6;
        l1 = v1 & low6;
        l2 = v2 & low6;
        // 16-bit shifts; each mask keeps only bits that came from the byte's own top two.
        l3 = (KQuantAvx2Kernels.ShiftBits(v0, -6) & Vector256.Create((byte)0x03))
           | (KQuantAvx2Kernels.ShiftBits(v1, -4) & Vector256.Create((byte)0x0C))
           | (KQuantAvx2Kernels.ShiftBits(v2, -2) & Vector256.Create((byte)0x30));
    }

    /// <summary>Scales of groups 2p and 2p+1 as int16 pairs, row j's pair in int32 lane j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> ScalePair(ref byte wb, nint p) =>
        Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref Unsafe.Add(ref wb, ScalesOffset + 16 * p)).AsSByte());

    /// <summary>The Q8_K group sums 2p and 2p+1 in every int32 lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> BroadcastPair(ref byte yb, nint p) =>
        Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref yb, Q8_K.BSumsOffset + 4 * p))).AsInt16();

    /// <summary>The eight rows' fp16 super-block scales as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> RowScales(ref byte wb) =>
        Fp16.ToFloat(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref wb).AsUInt16()).AsUInt32());

    /// <summary><see cref="Step"/> for all eight rows (<paramref name="d"/> from <see cref="RowScales"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> StepAvx2(Vector256<float> d, ref byte yb, Vector256<int> sum, Vector256<float> acc) =>
        Fma.MultiplyAdd(d * Vector256.Create(Unsafe.ReadUnaligned<float>(ref yb)), Avx.ConvertToVector256Single(sum), acc);

    /// <summary>vpshufb pattern: each int32 lane's low int16 in both halves (the scale of the even group).</summary>
    private static Vector256<byte> DuplicateLow() =>
        Vector256.Create((byte)0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13, 0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13);

    /// <summary>vpshufb pattern: each int32 lane's high int16 in both halves (the scale of the odd group).</summary>
    private static Vector256<byte> DuplicateHigh() =>
        Vector256.Create((byte)2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15, 2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15);
}
