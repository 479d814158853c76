using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants.Interleaved;

// The AVX2 Gemv (token generation: one activation row, every weight byte read once from memory). At one thread it is
// bound by its own instructions as much as by memory, so it spends as few as it can and keeps everything in registers:
// the loops are unrolled by hand (constant offsets fold into the loads); each pair of sub-blocks' scale (or min)
// vectors comes from one qword permute and two in-lane shuffles, right where they are used, instead of a stack table;
// d and dmin are widened by the finite conversion (Fp16.ToFloatFiniteScales: d is often a subnormal half, and a
// subnormal float operand once halved this kernel's speed) while a running maximum watches for an infinite or
// NaN half (then the group is recomputed with the exact one). The integer sums are exact and the float steps are
// GemmAvx2's, so results stay bit-identical to Gemm.
internal sealed partial class Q4_Kx8
{
    /// <summary>Every row of a group against one activation row (token generation): the float steps of <see cref="GemmAvx2"/>'s rows.</summary>
    private static void GemvAvx2(ref byte w, ref byte a, int blocks, ref float y)
    {
        if (!GemvAvx2(ref w, ref a, blocks, ref y, exactScales: false))
            GemvAvx2(ref w, ref a, blocks, ref y, exactScales: true);
    }

    /// <summary>One activation row; false (results not written) when a d or dmin was infinite or NaN and
    /// <paramref name="exactScales"/> is off.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool GemvAvx2(ref byte w, ref byte a, int blocks, ref float y, bool exactScales)
    {
        var acc = Vector256<float>.Zero;
        var accMin = Vector256<float>.Zero;
        var magnitudes = Vector256<ushort>.Zero;
        var low6 = Vector256.Create((byte)0x3F);
        var low4 = Vector256.Create((byte)0x0F);
        var top2 = Vector256.Create((byte)0x30);
        for (nint i = 0; i < blocks; i++)
        {
            ref var wb = ref Unsafe.Add(ref w, i * BlockBytes);
            ref var ai = ref Unsafe.Add(ref a, i * Q8_K.BlockBytes);
            ref var qs = ref Unsafe.Add(ref wb, QsOffset);
            ref var q8 = ref Unsafe.Add(ref ai, Q8_K.QsOffset);
            // UnpackScales, kept in two vectors: sub-block j's eight bytes (one per row) are qword j % 4.
            var bytes0 = Vector256.LoadUnsafe(ref wb, ScalesOffset);
            var bytes8 = Vector256.LoadUnsafe(ref wb, ScalesOffset + 64);
            var scales03 = (bytes0 & low6).AsUInt64();
            var scales47 = ((bytes8 & low4) | (Avx2.ShiftRightLogical(bytes0.AsUInt16(), 2).AsByte() & top2)).AsUInt64();
            var pair = Avx2.Permute4x64(scales03, 0x44).AsByte();
            var sumi = Chunk(ref qs, ref q8, 0, low4, SpreadEven(pair), SpreadOdd(pair));
            pair = Avx2.Permute4x64(scales03, 0xEE).AsByte();
            sumi += Chunk(ref qs, ref q8, 1, low4, SpreadEven(pair), SpreadOdd(pair));
            pair = Avx2.Permute4x64(scales47, 0x44).AsByte();
            sumi += Chunk(ref qs, ref q8, 2, low4, SpreadEven(pair), SpreadOdd(pair));
            pair = Avx2.Permute4x64(scales47, 0xEE).AsByte();
            sumi += Chunk(ref qs, ref q8, 3, low4, SpreadEven(pair), SpreadOdd(pair));
            var mins = MinsTerm(ref wb, ref ai, low6, low4, top2);
            var dy = Vector256.Create(Unsafe.ReadUnaligned<float>(ref ai));
            Vector256<float> d, dMin;
            if (exactScales)
            {
                d = HalvesToFloats(ref wb, DOffset);
                dMin = HalvesToFloats(ref wb, DMinOffset);
            }
            else
            {
                // d and dmin are 32 consecutive bytes: one maximum watches all sixteen halves.
                magnitudes = Avx2.Max(magnitudes, Vector256.LoadUnsafe(ref Unsafe.As<byte, ushort>(ref Unsafe.Add(ref wb, DOffset))) & Vector256.Create((ushort)0x7FFF));
                d = FiniteHalves(ref wb, DOffset);
                dMin = FiniteHalves(ref wb, DMinOffset);
            }
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(sumi), d * dy, acc);
            accMin = Fma.MultiplyAdd(Avx.ConvertToVector256Single(mins), dMin * dy, accMin);
        }
        if (!exactScales && Vector256.GreaterThanOrEqualAny(magnitudes, Vector256.Create((ushort)0x7C00)))
            return false;
        (acc - accMin).StoreUnsafe(ref y);
        return true;
    }

    /// <summary>Eight fp16 values at <paramref name="offset"/> as floats, exactly unless one is infinite or NaN, without a
    /// subnormal float operand (d is often a subnormal half).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> FiniteHalves(ref byte wb, nint offset) =>
        Fp16.ToFloatFiniteScales(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.As<byte, short>(ref Unsafe.Add(ref wb, offset)))));

    /// <summary>
    /// Chunk <paramref name="c"/> (64 weights of every row: eight 32-byte unit vectors) against its activations, scaled:
    /// the int16 sums of the low nibbles (sub-block 2c) and of the high ones (sub-block 2c + 1), row r in lanes 2r and
    /// 2r + 1 (eight maddubs of at most 2·15·128 each stay inside int16), each madd-ed with its sub-block's scales.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Chunk(ref byte qs, ref byte q8, nint c, Vector256<byte> low4, Vector256<short> evenScale, Vector256<short> oddScale)
    {
        ref var q = ref Unsafe.Add(ref qs, 256 * c);
        ref var act = ref Unsafe.Add(ref q8, 64 * c);
        var v0 = Vector256.LoadUnsafe(ref q);
        var v1 = Vector256.LoadUnsafe(ref q, 32);
        var even = Low(v0, low4, ref act, 0) + Low(v1, low4, ref act, 4);
        var odd = High(v0, low4, ref act, 32) + High(v1, low4, ref act, 36);
        var v2 = Vector256.LoadUnsafe(ref q, 64);
        var v3 = Vector256.LoadUnsafe(ref q, 96);
        even += Low(v2, low4, ref act, 8) + Low(v3, low4, ref act, 12);
        odd += High(v2, low4, ref act, 40) + High(v3, low4, ref act, 44);
        var v4 = Vector256.LoadUnsafe(ref q, 128);
        var v5 = Vector256.LoadUnsafe(ref q, 160);
        even += Low(v4, low4, ref act, 16) + Low(v5, low4, ref act, 20);
        odd += High(v4, low4, ref act, 48) + High(v5, low4, ref act, 52);
        var v6 = Vector256.LoadUnsafe(ref q, 192);
        var v7 = Vector256.LoadUnsafe(ref q, 224);
        even += Low(v6, low4, ref act, 24) + Low(v7, low4, ref act, 28);
        odd += High(v6, low4, ref act, 56) + High(v7, low4, ref act, 60);
        return Avx2.MultiplyAddAdjacent(even, evenScale) + Avx2.MultiplyAddAdjacent(odd, oddScale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Low(Vector256<byte> v, Vector256<byte> low4, ref byte act, nint offset) =>
        Avx2.MultiplyAddAdjacent(v & low4, Broadcast(ref act, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> High(Vector256<byte> v, Vector256<byte> low4, ref byte act, nint offset) =>
        Avx2.MultiplyAddAdjacent(Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low4, Broadcast(ref act, offset));

    /// <summary>
    /// From a pair of sub-blocks' row bytes in both 128-bit lanes (qwords j, j+1, j, j+1), the first's vector with row r's
    /// value in int16 lanes 2r and 2r + 1 (as <see cref="Spread"/> makes it): rows 0..3 from the low lane, 4..7 from the high.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> SpreadEven(Vector256<byte> pair) =>
        Avx2.Shuffle(pair, Vector256.Create((byte)0, 0x80, 0, 0x80, 1, 0x80, 1, 0x80, 2, 0x80, 2, 0x80, 3, 0x80, 3, 0x80,
                                            4, 0x80, 4, 0x80, 5, 0x80, 5, 0x80, 6, 0x80, 6, 0x80, 7, 0x80, 7, 0x80)).AsInt16();

    /// <summary>The second sub-block's vector of the pair (<see cref="SpreadEven"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> SpreadOdd(Vector256<byte> pair) =>
        Avx2.Shuffle(pair, Vector256.Create((byte)8, 0x80, 8, 0x80, 9, 0x80, 9, 0x80, 10, 0x80, 10, 0x80, 11, 0x80, 11, 0x80,
                                            12, 0x80, 12, 0x80, 13, 0x80, 13, 0x80, 14, 0x80, 14, 0x80, 15, 0x80, 15, 0x80)).AsInt16();

    /// <summary>Σ_j min_j·(bsum_2j + bsum_2j+1) per row (int32 lane r), as <see cref="Accumulate"/> sums it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MinsTerm(ref byte wb, ref byte ai, Vector256<byte> low6, Vector256<byte> low4, Vector256<byte> top2)
    {
        var bytes4 = Vector256.LoadUnsafe(ref wb, ScalesOffset + 32);
        var bytes8 = Vector256.LoadUnsafe(ref wb, ScalesOffset + 64);
        var mins03 = (bytes4 & low6).AsUInt64();
        var mins47 = ((Avx2.ShiftRightLogical(bytes8.AsUInt16(), 4).AsByte() & low4) | (Avx2.ShiftRightLogical(bytes4.AsUInt16(), 2).AsByte() & top2)).AsUInt64();
        ref var bsums = ref Unsafe.Add(ref ai, Q8_K.BSumsOffset);
        var pair = Avx2.Permute4x64(mins03, 0x44).AsByte();
        var m01 = Avx2.MultiplyAddAdjacent(SpreadEven(pair), Broadcast(ref bsums, 0).AsInt16())
                + Avx2.MultiplyAddAdjacent(SpreadOdd(pair), Broadcast(ref bsums, 4).AsInt16());
        pair = Avx2.Permute4x64(mins03, 0xEE).AsByte();
        var m23 = Avx2.MultiplyAddAdjacent(SpreadEven(pair), Broadcast(ref bsums, 8).AsInt16())
                + Avx2.MultiplyAddAdjacent(SpreadOdd(pair), Broadcast(ref bsums, 12).AsInt16());
        pair = Avx2.Permute4x64(mins47, 0x44).AsByte();
        var m45 = Avx2.MultiplyAddAdjacent(SpreadEven(pair), Broadcast(ref bsums, 16).AsInt16())
                + Avx2.MultiplyAddAdjacent(SpreadOdd(pair), Broadcast(ref bsums, 20).AsInt16());
        pair = Avx2.Permute4x64(mins47, 0xEE).AsByte();
        var m67 = Avx2.MultiplyAddAdjacent(SpreadEven(pair), Broadcast(ref bsums, 24).AsInt16())
                + Avx2.MultiplyAddAdjacent(SpreadOdd(pair), Broadcast(ref bsums, 28).AsInt16());
        return (m01 + m23) + (m45 + m67);
    }
}
