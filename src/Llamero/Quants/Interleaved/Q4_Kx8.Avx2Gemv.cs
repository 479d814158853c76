using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants.Interleaved;

// The AVX2 Gemv (token generation: one activation row, every weight byte read once from memory). At one thread it is
// bound by its own instructions as much as by memory, so everything stays in registers: the loops are unrolled by hand
// (constant offsets fold into the loads), each sub-block's scale vector is spread from the unpacked scale bytes right
// where it is used instead of going through a stack table, and the mins term is summed in registers at the end of the
// super-block. The integer sums are exact and the float steps are GemmAvx2's, so results stay bit-identical to Gemm.
internal sealed partial class Q4_Kx8
{
    /// <summary>Every row of a group against one activation row (token generation): the float steps of <see cref="GemmAvx2"/>'s rows.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemvAvx2(ref byte w, ref byte a, int blocks, ref float y)
    {
        var acc = Vector256<float>.Zero;
        var accMin = Vector256<float>.Zero;
        var low6 = Vector256.Create((byte)0x3F);
        var low4 = Vector256.Create((byte)0x0F);
        var top2 = Vector256.Create((byte)0x30);
        for (nint i = 0; i < blocks; i++)
        {
            ref var wb = ref Unsafe.Add(ref w, i * BlockBytes);
            ref var ai = ref Unsafe.Add(ref a, i * Q8_K.BlockBytes);
            ref var qs = ref Unsafe.Add(ref wb, QsOffset);
            ref var q8 = ref Unsafe.Add(ref ai, Q8_K.QsOffset);
            // UnpackScales, kept in four vectors: sub-block j's eight bytes (one per row) are qword j % 4.
            var bytes0 = Vector256.LoadUnsafe(ref wb, ScalesOffset);
            var bytes8 = Vector256.LoadUnsafe(ref wb, ScalesOffset + 64);
            var scales03 = (bytes0 & low6).AsUInt64();
            var scales47 = ((bytes8 & low4) | (Avx2.ShiftRightLogical(bytes0.AsUInt16(), 2).AsByte() & top2)).AsUInt64();
            var sumi = Chunk(ref qs, ref q8, 0, low4, SpreadQword(scales03, 0x00), SpreadQword(scales03, 0x55));
            sumi += Chunk(ref qs, ref q8, 1, low4, SpreadQword(scales03, 0xAA), SpreadQword(scales03, 0xFF));
            sumi += Chunk(ref qs, ref q8, 2, low4, SpreadQword(scales47, 0x00), SpreadQword(scales47, 0x55));
            sumi += Chunk(ref qs, ref q8, 3, low4, SpreadQword(scales47, 0xAA), SpreadQword(scales47, 0xFF));
            var mins = MinsTerm(ref wb, ref ai, low6, low4, top2);
            var dy = Vector256.Create(Unsafe.ReadUnaligned<float>(ref ai));
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(sumi), HalvesToFloats(ref wb, DOffset) * dy, acc);
            accMin = Fma.MultiplyAdd(Avx.ConvertToVector256Single(mins), HalvesToFloats(ref wb, DMinOffset) * dy, accMin);
        }
        (acc - accMin).StoreUnsafe(ref y);
    }

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

    /// <summary>Qword <paramref name="control"/> picks (0x00, 0x55, 0xAA, 0xFF: one sub-block's eight row bytes) spread as <see cref="Spread"/> does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> SpreadQword(Vector256<ulong> values, [ConstantExpected] byte control)
    {
        var pick = Vector256.Create((byte)0, 0x80, 0, 0x80, 1, 0x80, 1, 0x80, 2, 0x80, 2, 0x80, 3, 0x80, 3, 0x80,
                                    4, 0x80, 4, 0x80, 5, 0x80, 5, 0x80, 6, 0x80, 6, 0x80, 7, 0x80, 7, 0x80);
        return Avx2.Shuffle(Avx2.Permute4x64(values, control).AsByte(), pick).AsInt16();
    }

    /// <summary>Σ_j min_j·(bsum_2j + bsum_2j+1) per row (int32 lane r), as <see cref="Accumulate"/> sums it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MinsTerm(ref byte wb, ref byte ai, Vector256<byte> low6, Vector256<byte> low4, Vector256<byte> top2)
    {
        var bytes4 = Vector256.LoadUnsafe(ref wb, ScalesOffset + 32);
        var bytes8 = Vector256.LoadUnsafe(ref wb, ScalesOffset + 64);
        var mins03 = (bytes4 & low6).AsUInt64();
        var mins47 = ((Avx2.ShiftRightLogical(bytes8.AsUInt16(), 4).AsByte() & low4) | (Avx2.ShiftRightLogical(bytes4.AsUInt16(), 2).AsByte() & top2)).AsUInt64();
        ref var bsums = ref Unsafe.Add(ref ai, Q8_K.BSumsOffset);
        var m01 = Avx2.MultiplyAddAdjacent(SpreadQword(mins03, 0x00), Broadcast(ref bsums, 0).AsInt16())
                + Avx2.MultiplyAddAdjacent(SpreadQword(mins03, 0x55), Broadcast(ref bsums, 4).AsInt16());
        var m23 = Avx2.MultiplyAddAdjacent(SpreadQword(mins03, 0xAA), Broadcast(ref bsums, 8).AsInt16())
                + Avx2.MultiplyAddAdjacent(SpreadQword(mins03, 0xFF), Broadcast(ref bsums, 12).AsInt16());
        var m45 = Avx2.MultiplyAddAdjacent(SpreadQword(mins47, 0x00), Broadcast(ref bsums, 16).AsInt16())
                + Avx2.MultiplyAddAdjacent(SpreadQword(mins47, 0x55), Broadcast(ref bsums, 20).AsInt16());
        var m67 = Avx2.MultiplyAddAdjacent(SpreadQword(mins47, 0xAA), Broadcast(ref bsums, 24).AsInt16())
                + Avx2.MultiplyAddAdjacent(SpreadQword(mins47, 0xFF), Broadcast(ref bsums, 28).AsInt16());
        return (m01 + m23) + (m45 + m67);
    }
}
