using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants.Interleaved;

// The AVX2 kernels. Integer sums: one 32-byte load of qs holds four weights of every row in each nibble half;
// maddubs with a broadcast 4-byte activation run gives int16 pairs per row, and the eight maddubs of one
// 32-weight sub-block are summed in int16 (|8·2·15·128| = 30720 < 32768, even with −128 activations) before ONE
// madd with the sub-block's scale (int16 lanes 2r, 2r+1 both hold row r's scale), which leaves one int32 lane per row.
// Gemm runs eight activation rows per pass over a super-block, so each nibble vector (a load, a mask, maybe a shift)
// serves eight maddubs; its mins term takes the sub-block pairs' group sums in four madds.
internal sealed partial class Q4_Kx8
{
    /// <summary>Activation rows whose float accumulators live on the stack at once.</summary>
    private const int RowChunk = 16;

    /// <summary>
    /// Per super-block: the scale vectors of sub-blocks 0..7 (row r's scale in int16 lanes 2r and 2r+1), then at
    /// <see cref="MinPairSlot"/> the min-pair vectors 0..3 (row r's mins of sub-blocks 2p and 2p+1 in lanes 2r and 2r+1).
    /// </summary>
    [InlineArray(12)]
    private struct ScaleVectors
    {
        private Vector256<short> _element0;
    }

    private const int MinPairSlot = 8;

    [InlineArray(RowChunk)]
    private struct Accumulators
    {
        private Vector256<float> _element0;
    }

    /// <summary>The int32 sums (Σ_j scale_j·Σ q·a, row r in lane r) of the eight activation rows of one <see cref="Sum8"/> pass.</summary>
    [InlineArray(8)]
    private struct IntSums
    {
        private Vector256<int> _element0;
    }

    /// <summary>
    /// Every row of a group against <paramref name="count"/> activation rows (Gemv is count 1): super-block by super-block,
    /// scales unpacked once, activation rows eight at a time (each nibble vector shared by eight rows), then four, then one.
    /// The accumulators start at zero or resume from <paramref name="y"/> and <paramref name="carry"/> (<see cref="GemmRange"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void GemmAvx2(ref byte w, ref byte a, nint stride, int count, int blocks, ref float y, nint yStride, ref float carry, RowRange range)
    {
        Unsafe.SkipInit(out ScaleVectors sv);
        Unsafe.SkipInit(out IntSums sums);
        Unsafe.SkipInit(out Accumulators acc);
        Unsafe.SkipInit(out Accumulators accMin);
        ref var acc0 = ref acc[0];
        ref var accMin0 = ref accMin[0];
        for (var b0 = 0; b0 < count; b0 += RowChunk)
        {
            var rows = Math.Min(RowChunk, count - b0);
            ref var a0 = ref Unsafe.Add(ref a, b0 * stride);
            var resume = (range & RowRange.First) == 0;
            for (var b = 0; b < rows; b++)
            {
                Unsafe.Add(ref acc0, b) = resume ? Vector256.LoadUnsafe(ref Unsafe.Add(ref y, (b0 + b) * yStride)) : Vector256<float>.Zero;
                Unsafe.Add(ref accMin0, b) = resume ? Vector256.LoadUnsafe(ref Unsafe.Add(ref carry, (b0 + b) * Rows)) : Vector256<float>.Zero;
            }
            for (nint i = 0; i < blocks; i++)
            {
                ref var wb = ref Unsafe.Add(ref w, i * BlockBytes);
                UnpackScales(ref wb, ref sv);
                var d = HalvesToFloats(ref wb, DOffset);
                var dMin = HalvesToFloats(ref wb, DMinOffset);
                ref var qs = ref Unsafe.Add(ref wb, QsOffset);
                ref var ai = ref Unsafe.Add(ref a0, i * Q8_K.BlockBytes);
                nint b = 0;
                for (; b + 8 <= rows; b += 8)
                {
                    ref var r0 = ref Unsafe.Add(ref ai, b * stride);
                    Sum8(ref qs, ref sv, ref Unsafe.Add(ref r0, Q8_K.QsOffset), stride, ref sums);
                    Accumulate8(ref Unsafe.Add(ref acc0, b), ref Unsafe.Add(ref accMin0, b), d, dMin, ref r0, stride, ref sums, ref sv);
                }
                for (; b + 4 <= rows; b += 4)
                {
                    ref var r0 = ref Unsafe.Add(ref ai, b * stride);
                    ref var r1 = ref Unsafe.Add(ref r0, stride);
                    ref var r2 = ref Unsafe.Add(ref r1, stride);
                    ref var r3 = ref Unsafe.Add(ref r2, stride);
                    Sum4(ref qs, ref sv, ref Unsafe.Add(ref r0, Q8_K.QsOffset), ref Unsafe.Add(ref r1, Q8_K.QsOffset),
                        ref Unsafe.Add(ref r2, Q8_K.QsOffset), ref Unsafe.Add(ref r3, Q8_K.QsOffset), out var s0, out var s1, out var s2, out var s3);
                    Accumulate(ref Unsafe.Add(ref acc0, b), ref Unsafe.Add(ref accMin0, b), d, dMin, ref r0, s0, ref sv);
                    Accumulate(ref Unsafe.Add(ref acc0, b + 1), ref Unsafe.Add(ref accMin0, b + 1), d, dMin, ref r1, s1, ref sv);
                    Accumulate(ref Unsafe.Add(ref acc0, b + 2), ref Unsafe.Add(ref accMin0, b + 2), d, dMin, ref r2, s2, ref sv);
                    Accumulate(ref Unsafe.Add(ref acc0, b + 3), ref Unsafe.Add(ref accMin0, b + 3), d, dMin, ref r3, s3, ref sv);
                }
                for (; b < rows; b++)
                {
                    ref var r0 = ref Unsafe.Add(ref ai, b * stride);
                    Accumulate(ref Unsafe.Add(ref acc0, b), ref Unsafe.Add(ref accMin0, b), d, dMin, ref r0,
                        Sum1(ref qs, ref sv, ref Unsafe.Add(ref r0, Q8_K.QsOffset)), ref sv);
                }
            }
            for (var b = 0; b < rows; b++)
            {
                ref var result = ref Unsafe.Add(ref y, (b0 + b) * yStride);
                if ((range & RowRange.Last) != 0)
                    (Unsafe.Add(ref acc0, b) - Unsafe.Add(ref accMin0, b)).StoreUnsafe(ref result);
                else
                {
                    Unsafe.Add(ref acc0, b).StoreUnsafe(ref result);
                    Unsafe.Add(ref accMin0, b).StoreUnsafe(ref Unsafe.Add(ref carry, (b0 + b) * Rows));
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
    /// <see cref="ScaleVectors"/>: sub-blocks 0..3 keep 6 bits in bytes 0..3 (scales) and 4..7 (mins);
    /// 4..7 take their low 4 bits from bytes 8..11 and their top 2 from the top bits of bytes 0..7.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UnpackScales(ref byte wb, ref ScaleVectors sv)
    {
        SixBitScales(ref wb, out var scales03, out var scales47, out var mins03, out var mins47);
        Spread(scales03, ref sv[0]);
        Spread(scales47, ref sv[4]);
        PairUp(mins03, ref sv[MinPairSlot]);
        PairUp(mins47, ref sv[MinPairSlot + 2]);
    }

    /// <summary>The eight rows' 6-bit scales and mins of sub-blocks 0..3 and 4..7, qword j % 4 holding sub-block j's (byte r: row r).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SixBitScales(ref byte wb, out Vector256<byte> scales03, out Vector256<byte> scales47, out Vector256<byte> mins03,
        out Vector256<byte> mins47)
    {
        var low6 = Vector256.Create((byte)0x3F);
        var low4 = Vector256.Create((byte)0x0F);
        var top2 = Vector256.Create((byte)0x30);
        var bytes0 = Vector256.LoadUnsafe(ref wb, ScalesOffset);
        var bytes4 = Vector256.LoadUnsafe(ref wb, ScalesOffset + 32);
        var bytes8 = Vector256.LoadUnsafe(ref wb, ScalesOffset + 64);
        // Byte-wise shifts through 16-bit ones: the mask drops the bits that crossed from the neighbouring byte.
        scales03 = bytes0 & low6;
        mins03 = bytes4 & low6;
        scales47 = (bytes8 & low4) | (Avx2.ShiftRightLogical(bytes0.AsUInt16(), 2).AsByte() & top2);
        mins47 = (Avx2.ShiftRightLogical(bytes8.AsUInt16(), 4).AsByte() & low4) | (Avx2.ShiftRightLogical(bytes4.AsUInt16(), 2).AsByte() & top2);
    }

    /// <summary>
    /// Four sub-blocks' bytes (sub-block-major, row-minor) to two min-pair vectors: the first holds row r's values of
    /// sub-blocks 0 and 1 in int16 lanes 2r and 2r + 1, the second those of sub-blocks 2 and 3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairUp(Vector256<byte> values, ref Vector256<short> first)
    {
        // Per 128-bit lane, the low qword (sub-block 0 or 2) interleaved with the high one (1 or 3).
        var pairs = Avx2.UnpackLow(values, Avx2.ShiftRightLogical128BitLane(values, 8));
        first = Avx2.ConvertToVector256Int16(pairs.GetLower()).AsInt16();
        Unsafe.Add(ref first, 1) = Avx2.ConvertToVector256Int16(pairs.GetUpper()).AsInt16();
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

    /// <summary>The float step of one super-block and activation row (the class remarks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(ref Vector256<float> acc, ref Vector256<float> accMin, Vector256<float> d, Vector256<float> dMin,
        ref byte q8Block, Vector256<int> sumi, ref ScaleVectors sv)
    {
        ref var pairs = ref sv[MinPairSlot];
        var mins = MinsTerm(ref q8Block, pairs, Unsafe.Add(ref pairs, 1), Unsafe.Add(ref pairs, 2), Unsafe.Add(ref pairs, 3));
        Step(ref acc, ref accMin, d, dMin, ref q8Block, sumi, mins);
    }

    /// <summary>
    /// <see cref="Accumulate"/> for the eight activation rows of a <see cref="Sum8"/> pass (<paramref name="q8Block"/>, then
    /// <paramref name="stride"/> bytes apart) into eight consecutive accumulators, the min-pair vectors held in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate8(ref Vector256<float> acc, ref Vector256<float> accMin, Vector256<float> d, Vector256<float> dMin,
        ref byte q8Block, nint stride, ref IntSums sums, ref ScaleVectors sv)
    {
        ref var pairs = ref sv[MinPairSlot];
        var p0 = pairs;
        var p1 = Unsafe.Add(ref pairs, 1);
        var p2 = Unsafe.Add(ref pairs, 2);
        var p3 = Unsafe.Add(ref pairs, 3);
        ref var sum = ref sums[0];
        for (nint k = 0; k < 8; k++)
        {
            Step(ref acc, ref accMin, d, dMin, ref q8Block, Unsafe.Add(ref sum, k), MinsTerm(ref q8Block, p0, p1, p2, p3));
            acc = ref Unsafe.Add(ref acc, 1);
            accMin = ref Unsafe.Add(ref accMin, 1);
            q8Block = ref Unsafe.Add(ref q8Block, stride);
        }
    }

    /// <summary>
    /// Σ_j min_j·S_j per row (int32 lane r), with S_j = bsum_2j + bsum_2j+1 (|S_j| ≤ 4096, an int16): the S pairs of
    /// sub-blocks (2p, 2p + 1) broadcast against the min-pair vectors <paramref name="p0"/>..<paramref name="p3"/>, four madds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MinsTerm(ref byte q8Block, Vector256<short> p0, Vector256<short> p1, Vector256<short> p2, Vector256<short> p3)
    {
        var groupSums = Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref Unsafe.Add(ref q8Block, Q8_K.BSumsOffset)).AsInt16(), Vector256.Create((short)1));
        // Per 128-bit lane: S0..S3 twice (low lane), S4..S7 twice (high lane); dwords 0, 1, 4, 5 are the pairs 0..3.
        var packed = Avx2.PackSignedSaturate(groupSums, groupSums).AsInt32();
        var m01 = Avx2.MultiplyAddAdjacent(p0, Avx2.PermuteVar8x32(packed, Vector256<int>.Zero).AsInt16())
                + Avx2.MultiplyAddAdjacent(p1, Avx2.PermuteVar8x32(packed, Vector256.Create(1)).AsInt16());
        var m23 = Avx2.MultiplyAddAdjacent(p2, Avx2.PermuteVar8x32(packed, Vector256.Create(4)).AsInt16())
                + Avx2.MultiplyAddAdjacent(p3, Avx2.PermuteVar8x32(packed, Vector256.Create(5)).AsInt16());
        return m01 + m23;
    }

    /// <summary>acc += sumi·(d·dy) and accMin += mins·(dmin·dy), fused, dy the activation block's scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref Vector256<float> acc, ref Vector256<float> accMin, Vector256<float> d, Vector256<float> dMin,
        ref byte q8Block, Vector256<int> sumi, Vector256<int> mins)
    {
        var dy = Vector256.Create(Unsafe.ReadUnaligned<float>(ref q8Block));
        acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(sumi), d * dy, acc);
        accMin = Fma.MultiplyAdd(Avx.ConvertToVector256Single(mins), dMin * dy, accMin);
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
    /// One super-block against eight activation rows (<paramref name="a0"/>, <paramref name="stride"/> bytes apart) into
    /// <paramref name="sums"/>, sub-block by sub-block: each nibble vector is loaded and masked once for eight maddubs
    /// (registers: 8 int16 sums, the vector, the mask, a broadcast, and rows 0..3's int32 sums; rows 4..7's live in memory).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sum8(ref byte qs, ref ScaleVectors sv, ref byte a0, nint stride, ref IntSums sums)
    {
        // Rows 0..3 from a0 and rows 4..7 from a4, each at base + {0, 1, 2, 3}·stride: scaled-index addressing, few registers.
        ref var a4 = ref Unsafe.Add(ref a0, 4 * stride);
        var stride3 = 3 * stride;
        ref var sum0 = ref sums[0];
        for (nint k = 4; k < 8; k++)
            Unsafe.Add(ref sum0, k) = Vector256<int>.Zero;
        // Rows 0..3 keep their int32 sums in registers (there is room for four), rows 4..7 in memory.
        Vector256<int> t0 = default, t1 = default, t2 = default, t3 = default;
        ref var scale = ref sv[0];
        for (nint c = 0; c < 4; c++)
        {
            // Chunk c: the low nibbles are sub-block 2c (activations 64c ..), the high ones 2c + 1 (64c + 32 ..).
            SubBlock8(ref qs, high: false, ref a0, ref a4, stride, stride3, scale, ref t0, ref t1, ref t2, ref t3, ref sum0);
            SubBlock8(ref qs, high: true, ref Unsafe.Add(ref a0, 32), ref Unsafe.Add(ref a4, 32), stride, stride3, Unsafe.Add(ref scale, 1),
                ref t0, ref t1, ref t2, ref t3, ref sum0);
            qs = ref Unsafe.Add(ref qs, 256);
            a0 = ref Unsafe.Add(ref a0, 64);
            a4 = ref Unsafe.Add(ref a4, 64);
            scale = ref Unsafe.Add(ref scale, 2);
        }
        sum0 = t0;
        Unsafe.Add(ref sum0, 1) = t1;
        Unsafe.Add(ref sum0, 2) = t2;
        Unsafe.Add(ref sum0, 3) = t3;
    }

    /// <summary>One sub-block's eight nibble vectors against eight rows' 32 activations (rows 0..3 at <paramref name="lo"/>,
    /// 4..7 at <paramref name="hi"/>, <paramref name="stride"/> apart), scaled into the int32 sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SubBlock8(ref byte q, bool high, ref byte lo, ref byte hi, nint stride, nint stride3, Vector256<short> scale,
        ref Vector256<int> t0, ref Vector256<int> t1, ref Vector256<int> t2, ref Vector256<int> t3, ref Vector256<int> sums)
    {
        var v = Nibbles(ref q, high, 0);
        var s0 = Avx2.MultiplyAddAdjacent(v, Broadcast(ref lo, 0));
        var s1 = Avx2.MultiplyAddAdjacent(v, Broadcast(ref lo, stride));
        var s2 = Avx2.MultiplyAddAdjacent(v, Broadcast(ref lo, 2 * stride));
        var s3 = Avx2.MultiplyAddAdjacent(v, Broadcast(ref lo, stride3));
        var s4 = Avx2.MultiplyAddAdjacent(v, Broadcast(ref hi, 0));
        var s5 = Avx2.MultiplyAddAdjacent(v, Broadcast(ref hi, stride));
        var s6 = Avx2.MultiplyAddAdjacent(v, Broadcast(ref hi, 2 * stride));
        var s7 = Avx2.MultiplyAddAdjacent(v, Broadcast(ref hi, stride3));
        Unit8(ref q, high, 1, ref lo, ref hi, stride, stride3, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Unit8(ref q, high, 2, ref lo, ref hi, stride, stride3, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Unit8(ref q, high, 3, ref lo, ref hi, stride, stride3, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Unit8(ref q, high, 4, ref lo, ref hi, stride, stride3, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Unit8(ref q, high, 5, ref lo, ref hi, stride, stride3, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Unit8(ref q, high, 6, ref lo, ref hi, stride, stride3, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Unit8(ref q, high, 7, ref lo, ref hi, stride, stride3, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        t0 += Avx2.MultiplyAddAdjacent(s0, scale);
        t1 += Avx2.MultiplyAddAdjacent(s1, scale);
        t2 += Avx2.MultiplyAddAdjacent(s2, scale);
        t3 += Avx2.MultiplyAddAdjacent(s3, scale);
        Unsafe.Add(ref sums, 4) += Avx2.MultiplyAddAdjacent(s4, scale);
        Unsafe.Add(ref sums, 5) += Avx2.MultiplyAddAdjacent(s5, scale);
        Unsafe.Add(ref sums, 6) += Avx2.MultiplyAddAdjacent(s6, scale);
        Unsafe.Add(ref sums, 7) += Avx2.MultiplyAddAdjacent(s7, scale);
    }

    /// <summary>Unit <paramref name="u"/> (four weights of every row) against the same four activations of eight rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unit8(ref byte q, bool high, nint u, ref byte lo, ref byte hi, nint stride, nint stride3,
        ref Vector256<short> s0, ref Vector256<short> s1, ref Vector256<short> s2, ref Vector256<short> s3, ref Vector256<short> s4,
        ref Vector256<short> s5, ref Vector256<short> s6, ref Vector256<short> s7)
    {
        var v = Nibbles(ref q, high, u);
        var at = 4 * u;
        s0 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref lo, at));
        s1 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref lo, stride + at));
        s2 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref lo, 2 * stride + at));
        s3 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref lo, stride3 + at));
        s4 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref hi, at));
        s5 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref hi, stride + at));
        s6 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref hi, 2 * stride + at));
        s7 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref hi, stride3 + at));
    }

    /// <summary>The low (or <paramref name="high"/>) nibbles of unit vector <paramref name="u"/>: weight levels 0..15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Nibbles(ref byte q, bool high, nint u)
    {
        var bits = Vector256.LoadUnsafe(ref q, (nuint)(32 * u));
        if (high)
            bits = Avx2.ShiftRightLogical(bits.AsUInt16(), 4).AsByte();
        return bits & Vector256.Create((byte)0x0F);
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
        var v = Nibbles(ref q, high, u);
        s0 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref a0, 4 * u));
        s1 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref a1, 4 * u));
        s2 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref a2, 4 * u));
        s3 += Avx2.MultiplyAddAdjacent(v, Broadcast(ref a3, 4 * u));
    }
}
