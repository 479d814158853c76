using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants.Interleaved;

// The AVX2 kernels. Integer sums: one 32-byte load of qs holds four weights of every row in each nibble half;
// maddubs with a broadcast 4-byte activation run gives int16 pairs per row, and the eight maddubs of one
// 32-weight sub-block are summed in int16 (|8·2·15·128| = 30720 < 32768, even with −128 activations) before ONE
// madd with the sub-block's scale (int16 lanes 2r, 2r+1 both hold row r's scale), which leaves one int32 lane per row.
internal sealed partial class Q4_Kx8
{
    /// <summary>Activation rows whose float accumulators live on the stack at once.</summary>
    private const int RowChunk = 16;

    /// <summary>Per super-block: scale vectors of sub-blocks 0..7, then min vectors 0..7, each row's value in int16 lanes 2r and 2r+1.</summary>
    [InlineArray(16)]
    private struct ScaleVectors
    {
        private Vector256<short> _element0;
    }

    [InlineArray(RowChunk)]
    private struct Accumulators
    {
        private Vector256<float> _element0;
    }

    /// <summary>
    /// Every row of a group against <paramref name="count"/> activation rows (Gemv is count 1): super-block by super-block,
    /// scales unpacked once, activation rows four at a time (each weight load shared by four rows), the rest one by one.
    /// The accumulators start at zero or resume from <paramref name="y"/> and <paramref name="carry"/> (<see cref="GemmRange"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemmAvx2(ref byte w, ref byte a, nint stride, int count, int blocks, ref float y, nint yStride, ref float carry, RowRange range)
    {
        ScaleVectors sv = default;
        Accumulators acc = default;
        Accumulators accMin = default;
        for (var b0 = 0; b0 < count; b0 += RowChunk)
        {
            var rows = Math.Min(RowChunk, count - b0);
            ref var a0 = ref Unsafe.Add(ref a, b0 * stride);
            var resume = (range & RowRange.First) == 0;
            for (var b = 0; b < rows; b++)
            {
                acc[b] = resume ? Vector256.LoadUnsafe(ref Unsafe.Add(ref y, (b0 + b) * yStride)) : Vector256<float>.Zero;
                accMin[b] = resume ? Vector256.LoadUnsafe(ref Unsafe.Add(ref carry, (b0 + b) * Rows)) : Vector256<float>.Zero;
            }
            for (nint i = 0; i < blocks; i++)
            {
                ref var wb = ref Unsafe.Add(ref w, i * BlockBytes);
                UnpackScales(ref wb, ref sv);
                var d = HalvesToFloats(ref wb, DOffset);
                var dMin = HalvesToFloats(ref wb, DMinOffset);
                ref var qs = ref Unsafe.Add(ref wb, QsOffset);
                ref var ai = ref Unsafe.Add(ref a0, i * Q8_K.BlockBytes);
                var b = 0;
                for (; b + 4 <= rows; b += 4)
                {
                    ref var r0 = ref Unsafe.Add(ref ai, b * stride);
                    ref var r1 = ref Unsafe.Add(ref r0, stride);
                    ref var r2 = ref Unsafe.Add(ref r1, stride);
                    ref var r3 = ref Unsafe.Add(ref r2, stride);
                    Sum4(ref qs, ref sv, ref Unsafe.Add(ref r0, Q8_K.QsOffset), ref Unsafe.Add(ref r1, Q8_K.QsOffset),
                        ref Unsafe.Add(ref r2, Q8_K.QsOffset), ref Unsafe.Add(ref r3, Q8_K.QsOffset), out var s0, out var s1, out var s2, out var s3);
                    Accumulate(ref acc[b], ref accMin[b], d, dMin, ref r0, s0, ref sv);
                    Accumulate(ref acc[b + 1], ref accMin[b + 1], d, dMin, ref r1, s1, ref sv);
                    Accumulate(ref acc[b + 2], ref accMin[b + 2], d, dMin, ref r2, s2, ref sv);
                    Accumulate(ref acc[b + 3], ref accMin[b + 3], d, dMin, ref r3, s3, ref sv);
                }
                for (; b < rows; b++)
                {
                    ref var r0 = ref Unsafe.Add(ref ai, b * stride);
                    Accumulate(ref acc[b], ref accMin[b], d, dMin, ref r0, Sum1(ref qs, ref sv, ref Unsafe.Add(ref r0, Q8_K.QsOffset)), ref sv);
                }
            }
            for (var b = 0; b < rows; b++)
            {
                ref var result = ref Unsafe.Add(ref y, (b0 + b) * yStride);
                if ((range & RowRange.Last) != 0)
                    (acc[b] - accMin[b]).StoreUnsafe(ref result);
                else
                {
                    acc[b].StoreUnsafe(ref result);
                    accMin[b].StoreUnsafe(ref Unsafe.Add(ref carry, (b0 + b) * Rows));
                }
            }
        }
    }

    /// <summary>Eight fp16 values (one per row) at <paramref name="offset"/> as floats, exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalvesToFloats(ref byte wb, nint offset) =>
        Fp16.ToFloat(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.Add(ref wb, offset)).AsUInt16()).AsUInt32());

    /// <summary>
    /// The 12 packed scale bytes of all eight rows (byte-major, 96 bytes) to 6-bit scales and mins, then to the
    /// sixteen <see cref="ScaleVectors"/>: sub-blocks 0..3 keep 6 bits in bytes 0..3 (scales) and 4..7 (mins);
    /// 4..7 take their low 4 bits from bytes 8..11 and their top 2 from the top bits of bytes 0..7.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UnpackScales(ref byte wb, ref ScaleVectors sv)
    {
        var low6 = Vector256.Create((byte)0x3F);
        var low4 = Vector256.Create((byte)0x0F);
        var top2 = Vector256.Create((byte)0x30);
        var bytes0 = Vector256.LoadUnsafe(ref wb, ScalesOffset);
        var bytes4 = Vector256.LoadUnsafe(ref wb, ScalesOffset + 32);
        var bytes8 = Vector256.LoadUnsafe(ref wb, ScalesOffset + 64);
        // Byte-wise shifts through 16-bit ones: the mask drops the bits that crossed from the neighbouring byte.
        var scales03 = bytes0 & low6;
        var mins03 = bytes4 & low6;
        var scales47 = (bytes8 & low4) | (Avx2.ShiftRightLogical(bytes0.AsUInt16(), 2).AsByte() & top2);
        var mins47 = (Avx2.ShiftRightLogical(bytes8.AsUInt16(), 4).AsByte() & low4) | (Avx2.ShiftRightLogical(bytes4.AsUInt16(), 2).AsByte() & top2);
        Spread(scales03, ref sv[0]);
        Spread(scales47, ref sv[4]);
        Spread(mins03, ref sv[8]);
        Spread(mins47, ref sv[12]);
    }

    /// <summary>Four sub-blocks' bytes (sub-block-major, row-minor) to four vectors with row r's value in int16 lanes 2r, 2r+1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Spread(Vector256<byte> values, ref Vector256<short> first)
    {
        // After the qword broadcast, the low half picks rows 0..3 and the high half rows 4..7 (zero high bytes).
        var pick = Vector256.Create((byte)0, 0x80, 0, 0x80, 1, 0x80, 1, 0x80, 2, 0x80, 2, 0x80, 3, 0x80, 3, 0x80,
                                    4, 0x80, 4, 0x80, 5, 0x80, 5, 0x80, 6, 0x80, 6, 0x80, 7, 0x80, 7, 0x80);
        var q = values.AsUInt64();
        first = Avx2.Shuffle(Avx2.Permute4x64(q, 0x00).AsByte(), pick).AsInt16();
        Unsafe.Add(ref first, 1) = Avx2.Shuffle(Avx2.Permute4x64(q, 0x55).AsByte(), pick).AsInt16();
        Unsafe.Add(ref first, 2) = Avx2.Shuffle(Avx2.Permute4x64(q, 0xAA).AsByte(), pick).AsInt16();
        Unsafe.Add(ref first, 3) = Avx2.Shuffle(Avx2.Permute4x64(q, 0xFF).AsByte(), pick).AsInt16();
    }

    /// <summary>Four activation bytes at <paramref name="offset"/> in every 32-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(ref byte q8, nint offset) =>
        Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref q8, offset))).AsSByte();

    /// <summary>
    /// The float step of one super-block and activation row (the class remarks): the mins term is
    /// Σ_j min_j·(bsum_2j + bsum_2j+1), one madd per sub-block against the broadcast bsum pair.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(ref Vector256<float> acc, ref Vector256<float> accMin, Vector256<float> d, Vector256<float> dMin,
        ref byte q8Block, Vector256<int> sumi, ref ScaleVectors sv)
    {
        ref var bsums = ref Unsafe.Add(ref q8Block, Q8_K.BSumsOffset);
        var m01 = Avx2.MultiplyAddAdjacent(sv[8], Broadcast(ref bsums, 0).AsInt16()) + Avx2.MultiplyAddAdjacent(sv[9], Broadcast(ref bsums, 4).AsInt16());
        var m23 = Avx2.MultiplyAddAdjacent(sv[10], Broadcast(ref bsums, 8).AsInt16()) + Avx2.MultiplyAddAdjacent(sv[11], Broadcast(ref bsums, 12).AsInt16());
        var m45 = Avx2.MultiplyAddAdjacent(sv[12], Broadcast(ref bsums, 16).AsInt16()) + Avx2.MultiplyAddAdjacent(sv[13], Broadcast(ref bsums, 20).AsInt16());
        var m67 = Avx2.MultiplyAddAdjacent(sv[14], Broadcast(ref bsums, 24).AsInt16()) + Avx2.MultiplyAddAdjacent(sv[15], Broadcast(ref bsums, 28).AsInt16());
        var dy = Vector256.Create(Unsafe.ReadUnaligned<float>(ref q8Block));
        acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(sumi), d * dy, acc);
        accMin = Fma.MultiplyAdd(Avx.ConvertToVector256Single((m01 + m23) + (m45 + m67)), dMin * dy, accMin);
    }

    /// <summary>One super-block against one activation row: each qs load serves both its nibble halves (sub-blocks 2c, 2c+1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Sum1(ref byte qs, ref ScaleVectors sv, ref byte q8)
    {
        var mask = Vector256.Create((byte)0x0F);
        var sumi = Vector256<int>.Zero;
        for (nint c = 0; c < 4; c++)
        {
            ref var q = ref Unsafe.Add(ref qs, 256 * c);
            ref var act = ref Unsafe.Add(ref q8, 64 * c);
            var even = Vector256<short>.Zero;
            var odd = Vector256<short>.Zero;
            for (nint u = 0; u < 8; u += 2)
            {
                var v0 = Vector256.LoadUnsafe(ref q, (nuint)(32 * u));
                var v1 = Vector256.LoadUnsafe(ref q, (nuint)(32 * u + 32));
                var e0 = Avx2.MultiplyAddAdjacent(v0 & mask, Broadcast(ref act, 4 * u));
                var o0 = Avx2.MultiplyAddAdjacent(Avx2.ShiftRightLogical(v0.AsUInt16(), 4).AsByte() & mask, Broadcast(ref act, 32 + 4 * u));
                var e1 = Avx2.MultiplyAddAdjacent(v1 & mask, Broadcast(ref act, 4 * u + 4));
                var o1 = Avx2.MultiplyAddAdjacent(Avx2.ShiftRightLogical(v1.AsUInt16(), 4).AsByte() & mask, Broadcast(ref act, 36 + 4 * u));
                even += e0 + e1;
                odd += o0 + o1;
            }
            sumi += Avx2.MultiplyAddAdjacent(even, sv[(int)(2 * c)]) + Avx2.MultiplyAddAdjacent(odd, sv[(int)(2 * c + 1)]);
        }
        return sumi;
    }

    /// <summary>
    /// One super-block against four activation rows, sub-block by sub-block: each weight vector is loaded and masked
    /// once for four maddubs (registers: 4 int16 + 4 int32 sums, weights, mask, broadcasts).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sum4(ref byte qs, ref ScaleVectors sv, ref byte a0, ref byte a1, ref byte a2, ref byte a3,
        out Vector256<int> sum0, out Vector256<int> sum1, out Vector256<int> sum2, out Vector256<int> sum3)
    {
        // Locals, not the out parameters: those live in memory and would put a store-load on every add.
        Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
        for (nint c = 0; c < 4; c++)
        {
            ref var q = ref Unsafe.Add(ref qs, 256 * c);
            var at = 64 * c;
            SubBlock4(ref q, high: false, ref Unsafe.Add(ref a0, at), ref Unsafe.Add(ref a1, at), ref Unsafe.Add(ref a2, at), ref Unsafe.Add(ref a3, at),
                sv[(int)(2 * c)], ref i0, ref i1, ref i2, ref i3);
            at += 32;
            SubBlock4(ref q, high: true, ref Unsafe.Add(ref a0, at), ref Unsafe.Add(ref a1, at), ref Unsafe.Add(ref a2, at), ref Unsafe.Add(ref a3, at),
                sv[(int)(2 * c + 1)], ref i0, ref i1, ref i2, ref i3);
        }
        sum0 = i0;
        sum1 = i1;
        sum2 = i2;
        sum3 = i3;
    }

    /// <summary>The low (or <paramref name="high"/>) nibbles of one chunk's eight unit vectors against four rows' 32 activations, scaled into the int32 sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SubBlock4(ref byte q, bool high, ref byte a0, ref byte a1, ref byte a2, ref byte a3, Vector256<short> scale,
        ref Vector256<int> i0, ref Vector256<int> i1, ref Vector256<int> i2, ref Vector256<int> i3)
    {
        Vector256<short> s0 = default, s1 = default, s2 = default, s3 = default;
        Unit4(ref q, high, 0, ref a0, ref a1, ref a2, ref a3, ref s0, ref s1, ref s2, ref s3);
        Unit4(ref q, high, 1, ref a0, ref a1, ref a2, ref a3, ref s0, ref s1, ref s2, ref s3);
        Unit4(ref q, high, 2, ref a0, ref a1, ref a2, ref a3, ref s0, ref s1, ref s2, ref s3);
        Unit4(ref q, high, 3, ref a0, ref a1, ref a2, ref a3, ref s0, ref s1, ref s2, ref s3);
        Unit4(ref q, high, 4, ref a0, ref a1, ref a2, ref a3, ref s0, ref s1, ref s2, ref s3);
        Unit4(ref q, high, 5, ref a0, ref a1, ref a2, ref a3, ref s0, ref s1, ref s2, ref s3);
        Unit4(ref q, high, 6, ref a0, ref a1, ref a2, ref a3, ref s0, ref s1, ref s2, ref s3);
        Unit4(ref q, high, 7, ref a0, ref a1, ref a2, ref a3, ref s0, ref s1, ref s2, ref s3);
        i0 += Avx2.MultiplyAddAdjacent(s0, scale);
        i1 += Avx2.MultiplyAddAdjacent(s1, scale);
        i2 += Avx2.MultiplyAddAdjacent(s2, scale);
        i3 += Avx2.MultiplyAddAdjacent(s3, scale);
    }

    /// <summary>Unit <paramref name="u"/> (four weights of every row) against the same four activations of four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unit4(ref byte q, bool high, nint u, ref byte a0, ref byte a1, ref byte a2, ref byte a3,
        ref Vector256<short> s0, ref Vector256<short> s1, ref Vector256<short> s2, ref Vector256<short> s3)
    {
        var bits = Vector256.LoadUnsafe(ref q, (nuint)(32 * u));
        if (high)
            bits = Avx2.ShiftRightLogical(bits.AsUInt16(), 4).AsByte();
        var v = bits & Vector256.Create((byte)0x0F);
        s0 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref a0, 4 * u));
        s1 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref a1, 4 * u));
        s2 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref a2, 4 * u));
        s3 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref a3, 4 * u));
    }
}
