using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants.Interleaved;

// AVX2 kernels of Q4_0x8. Per block: the four nibble chunks are split into eight vectors of unsigned bytes (low
// nibbles, high nibbles), each multiplied by a broadcast 4-byte slice of the activation block (maddubs: two
// products per 16-bit lane, at most 2·15·128, and eight of those still fit in 16 bits), the 16-bit sums folded to
// one 32-bit lane per row, 8·Σa subtracted, and the lane converted and fused into the row's float accumulator.
internal sealed partial class Q4_0x8
{
    // Activation blocks whose 8·Σa are computed ahead of the block loop at a time (a small stack table).
    private const int SumChunkBlocks = 64;
    // Activation rows one Gemm pass multiplies while the weight block's nibbles stay in registers (InterleavedKernel's tile).
    private const int GemmRows = 16;

    /// <summary>Widens eight fp16 scales (sign-extended to 32 bits) to floats.</summary>
    private interface IScales
    {
        static abstract Vector256<float> Widen(Vector256<int> h);
    }

    /// <summary>Three operations, exact unless a scale is infinite or NaN, and steady unless one is subnormal (a subnormal
    /// float operand: a microcode assist on some CPUs); the loops check both and rerun with <see cref="ExactScales"/>.</summary>
    private readonly struct FiniteScales : IScales
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Widen(Vector256<int> h) => Fp16.ToFloatFinite(h);
    }

    /// <summary>Exact for every bit pattern.</summary>
    private readonly struct ExactScales : IScales
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Widen(Vector256<int> h) => Fp16.ToFloat(h.AsUInt32());
    }

    private static void GemvAvx2(ref byte g, ref byte a, int blocks, ref float y, bool resume)
    {
        if (!GemvAvx2<FiniteScales>(ref g, ref a, blocks, ref y, resume))
            GemvAvx2<ExactScales>(ref g, ref a, blocks, ref y, resume);
    }

    /// <summary>One activation row; false (results not written) when a scale was infinite, NaN or subnormal and
    /// <typeparamref name="TScales"/> is the finite one. The accumulator starts at zero or, when <paramref name="resume"/>, at the results.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static bool GemvAvx2<TScales>(ref byte g, ref byte a, int blocks, ref float y, bool resume)
        where TScales : struct, IScales
    {
        Span<int> eightSums = stackalloc int[SumChunkBlocks];
        ref var sums = ref MemoryMarshal.GetReference(eightSums);
        var acc = resume ? Vector256.LoadUnsafe(ref y) : Vector256<float>.Zero;
        var magnitudes = Vector256<int>.Zero;
        var smallest = Vector256<uint>.AllBitsSet;
        for (var k0 = 0; k0 < blocks; k0 += SumChunkBlocks)
        {
            var n = Math.Min(SumChunkBlocks, blocks - k0);
            EightActivationSums(ref Unsafe.Add(ref a, k0 * ActivationBlockBytes), n, ref sums);
            for (var k = 0; k < n; k++)
            {
                ref var gb = ref Unsafe.Add(ref g, (nint)(k0 + k) * GroupBlockBytes);
                ref var ab = ref Unsafe.Add(ref a, (nint)(k0 + k) * ActivationBlockBytes);
                var h = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.As<byte, short>(ref gb)));
                var magnitude = h & Vector256.Create(0x7FFF);
                magnitudes = Avx2.Max(magnitudes, magnitude);
                if (typeof(TScales) == typeof(FiniteScales))
                    smallest = Fp16.MinMagnitudeLessOne(smallest, magnitude);
                acc = new Nibbles8(ref gb).Step(ref ab, ref Unsafe.Add(ref sums, k), TScales.Widen(h), acc);
            }
        }
        if (typeof(TScales) == typeof(FiniteScales) && (Vector256.GreaterThanOrEqualAny(magnitudes, Vector256.Create(0x7C00)) || Fp16.SawSubnormal(smallest)))
            return false;
        Vector256.StoreUnsafe(acc, ref y);
        return true;
    }

    /// <summary>Every activation row, <see cref="GemmRows"/> at a time (from zero or, when <paramref name="resume"/>, from the results).</summary>
    private static void GemmAvx2(ref byte g, ref byte a, int stride, int count, int blocks, ref float y, int resultStride, bool resume)
    {
        var exact = NeedsExactScales(ref g, blocks);
        for (var b = 0; b < count; b += GemmRows)
        {
            ref var ab = ref Unsafe.Add(ref a, (nint)b * stride);
            ref var yb = ref Unsafe.Add(ref y, (nint)b * resultStride);
            var rows = Math.Min(GemmRows, count - b);
            if (exact)
                GemmRowsAvx2<ExactScales>(ref g, ref ab, stride, rows, blocks, ref yb, resultStride, resume);
            else
                GemmRowsAvx2<FiniteScales>(ref g, ref ab, stride, rows, blocks, ref yb, resultStride, resume);
        }
    }

    /// <summary>Up to <see cref="GemmRows"/> activation rows: each weight block unpacked once, then per row exactly the
    /// steps of <see cref="GemvAvx2{TScales}"/> (accumulators in a stack table, as many as there are rows).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static void GemmRowsAvx2<TScales>(ref byte g, ref byte a, int stride, int rows, int blocks, ref float y, int resultStride, bool resume)
        where TScales : struct, IScales
    {
        Span<int> eightSums = stackalloc int[GemmRows * SumChunkBlocks];
        Span<Vector256<float>> accumulators = stackalloc Vector256<float>[GemmRows];
        for (var b = 0; b < GemmRows; b++)
            accumulators[b] = resume && b < rows ? Vector256.LoadUnsafe(ref Unsafe.Add(ref y, (nint)b * resultStride)) : Vector256<float>.Zero;
        ref var sums = ref MemoryMarshal.GetReference(eightSums);
        ref var acc = ref MemoryMarshal.GetReference(accumulators);
        for (var k0 = 0; k0 < blocks; k0 += SumChunkBlocks)
        {
            var n = Math.Min(SumChunkBlocks, blocks - k0);
            for (var b = 0; b < rows; b++)
                EightActivationSums(ref Unsafe.Add(ref a, (nint)b * stride + k0 * ActivationBlockBytes), n, ref Unsafe.Add(ref sums, b * SumChunkBlocks));
            for (var k = 0; k < n; k++)
            {
                ref var gb = ref Unsafe.Add(ref g, (nint)(k0 + k) * GroupBlockBytes);
                var dw = TScales.Widen(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.As<byte, short>(ref gb))));
                var w = new Nibbles8(ref gb);
                ref var ab = ref Unsafe.Add(ref a, (nint)(k0 + k) * ActivationBlockBytes);
                ref var sum = ref Unsafe.Add(ref sums, k);
                for (var b = 0; b < rows; b++)
                {
                    ref var accb = ref Unsafe.Add(ref acc, b);
                    accb = w.Step(ref ab, ref sum, dw, accb);
                    ab = ref Unsafe.Add(ref ab, stride);
                    sum = ref Unsafe.Add(ref sum, SumChunkBlocks);
                }
            }
        }
        for (var b = 0; b < rows; b++)
            Vector256.StoreUnsafe(Unsafe.Add(ref acc, b), ref Unsafe.Add(ref y, (nint)b * resultStride));
    }

    /// <summary>True when one of the group's scales is infinite, NaN or subnormal: <see cref="FiniteScales"/> would get it wrong or slowly.</summary>
    private static bool NeedsExactScales(ref byte g, int blocks)
    {
        // The sign comes off before the maximum: a negative scale (0x8000 and up) would otherwise outrank an infinite one.
        // |h| − 1 wraps a zero scale to the top, so the minimum is under 0x3FF only for a subnormal one.
        var max = Vector128<ushort>.Zero;
        var min = Vector128<ushort>.AllBitsSet;
        for (var k = 0; k < blocks; k++)
        {
            var magnitude = Vector128.LoadUnsafe(ref Unsafe.As<byte, ushort>(ref Unsafe.Add(ref g, (nint)k * GroupBlockBytes))) & Vector128.Create((ushort)0x7FFF);
            max = Vector128.Max(max, magnitude);
            min = Vector128.Min(min, magnitude - Vector128<ushort>.One);
        }
        return Vector128.GreaterThanOrEqualAny(max, Vector128.Create((ushort)0x7C00)) || Vector128.LessThanAny(min, Vector128.Create((ushort)0x3FF));
    }

    /// <summary>8·Σa of each of <paramref name="n"/> Q8_0 blocks at <paramref name="a"/> into <paramref name="sums"/>: eight blocks
    /// per pass of horizontal adds (the total of block i lands in lane i).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EightActivationSums(ref byte a, int n, ref int sums)
    {
        var k = 0;
        for (; k + 8 <= n; k += 8)
        {
            ref var ak = ref Unsafe.Add(ref a, k * ActivationBlockBytes);
            var h01 = Avx2.HorizontalAdd(EightPairSums(ref ak, 0), EightPairSums(ref ak, 1));
            var h23 = Avx2.HorizontalAdd(EightPairSums(ref ak, 2), EightPairSums(ref ak, 3));
            var h45 = Avx2.HorizontalAdd(EightPairSums(ref ak, 4), EightPairSums(ref ak, 5));
            var h67 = Avx2.HorizontalAdd(EightPairSums(ref ak, 6), EightPairSums(ref ak, 7));
            var h0123 = Avx2.HorizontalAdd(h01, h23);
            var h4567 = Avx2.HorizontalAdd(h45, h67);
            // Lanes 0..3 of each half hold blocks 0..3 (h0123) or 4..7 (h4567), split over the two 128-bit halves.
            var total = Avx2.Permute2x128(h0123, h4567, 0x20) + Avx2.Permute2x128(h0123, h4567, 0x31);
            Vector256.StoreUnsafe(total, ref Unsafe.Add(ref sums, k));
        }
        for (; k < n; k++)
            Unsafe.Add(ref sums, k) = Vector256.Sum(EightPairSums(ref Unsafe.Add(ref a, k * ActivationBlockBytes), 0));
    }

    // Block i's 32 quants times 8, summed four to a 32-bit lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> EightPairSums(ref byte a, int i)
    {
        var q = Vector256.LoadUnsafe(ref Unsafe.Add(ref a, i * ActivationBlockBytes + ActivationQuants)).AsSByte();
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.Create((byte)8), q), Vector256.Create((short)1));
    }

    /// <summary>The nibbles of one group block as eight vectors of bytes 0..15: chunk c's low nibbles (elements 4c..4c+3
    /// of each row) and high nibbles (elements 16+4c..16+4c+3).</summary>
    private readonly ref struct Nibbles8
    {
        private readonly Vector256<byte> _l0, _l1, _l2, _l3, _h0, _h1, _h2, _h3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Nibbles8(ref byte groupBlock)
        {
            var mask = Vector256.Create((byte)0x0F);
            var c0 = Vector256.LoadUnsafe(ref groupBlock, ScaleBytes);
            var c1 = Vector256.LoadUnsafe(ref groupBlock, ScaleBytes + ChunkBytes);
            var c2 = Vector256.LoadUnsafe(ref groupBlock, ScaleBytes + 2 * ChunkBytes);
            var c3 = Vector256.LoadUnsafe(ref groupBlock, ScaleBytes + 3 * ChunkBytes);
            (_l0, _l1, _l2, _l3) = (c0 & mask, c1 & mask, c2 & mask, c3 & mask);
            _h0 = Avx2.ShiftRightLogical(c0.AsUInt16(), 4).AsByte() & mask;
            _h1 = Avx2.ShiftRightLogical(c1.AsUInt16(), 4).AsByte() & mask;
            _h2 = Avx2.ShiftRightLogical(c2.AsUInt16(), 4).AsByte() & mask;
            _h3 = Avx2.ShiftRightLogical(c3.AsUInt16(), 4).AsByte() & mask;
        }

        /// <summary>Σ q·a per row (lane r = row r) against the activation block at <paramref name="ab"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Dot(ref byte ab)
        {
            var p = Avx2.MultiplyAddAdjacent(_l0, Slice(ref ab, 0));
            p += Avx2.MultiplyAddAdjacent(_l1, Slice(ref ab, 4));
            p += Avx2.MultiplyAddAdjacent(_l2, Slice(ref ab, 8));
            p += Avx2.MultiplyAddAdjacent(_l3, Slice(ref ab, 12));
            p += Avx2.MultiplyAddAdjacent(_h0, Slice(ref ab, 16));
            p += Avx2.MultiplyAddAdjacent(_h1, Slice(ref ab, 20));
            p += Avx2.MultiplyAddAdjacent(_h2, Slice(ref ab, 24));
            p += Avx2.MultiplyAddAdjacent(_h3, Slice(ref ab, 28));
            return Avx2.MultiplyAddAdjacent(p, Vector256.Create((short)1));
        }

        /// <summary><paramref name="acc"/> + float(Σ(q − 8)·a)·(d_w·d_a), one fused multiply-add.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Step(ref byte ab, ref int eightSum, Vector256<float> dw, Vector256<float> acc)
        {
            var s = Dot(ref ab) - Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<int, byte>(ref eightSum)));
            var scale = dw * Vector256.Create(Fp16.ToFloat(Unsafe.ReadUnaligned<ushort>(ref ab)));
            return Fma.MultiplyAdd(Avx.ConvertToVector256Single(s), scale, acc);
        }

        // Activation quants i..i+3 in every 32-bit lane.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<sbyte> Slice(ref byte ab, int i) =>
            Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref ab, ActivationQuants + i))).AsSByte();
    }
}
