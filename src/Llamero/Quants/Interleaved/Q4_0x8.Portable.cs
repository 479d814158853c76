using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants.Interleaved;

// Portable kernels of Q4_0x8 (Vector256 and Vector128: NEON, SSE). Vector128 gives rows 0..3 and 4..7 a vector of
// four lanes each, Vector256 all eight rows one vector. Per block the nibbles become signed bytes q − 8, widen to 16
// bits and multiply a broadcast 4-byte activation slice (at most 8·128 per product, eight summed per lane); each
// row's four 16-bit lanes fold to one 32-bit sum, then the same fused multiply-add as the scalar path.
internal sealed partial class Q4_0x8
{
    /// <summary>One activation row, from zero or, when <paramref name="resume"/>, from the results (as <see cref="GemvVector256"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemvVector128(ref byte g, ref byte a, int blocks, ref float y, bool resume)
    {
        Vector128<float> acc0 = default, acc1 = default;
        if (resume)
            (acc0, acc1) = (Vector128.LoadUnsafe(ref y), Vector128.LoadUnsafe(ref Unsafe.Add(ref y, 4)));
        for (var k = 0; k < blocks; k++)
        {
            ref var gb = ref Unsafe.Add(ref g, (nint)k * GroupBlockBytes);
            ref var ab = ref Unsafe.Add(ref a, (nint)k * ActivationBlockBytes);
            // 16-bit products: rows 0,1 | rows 2,3 | rows 4,5 | rows 6,7, four lanes per row.
            Vector128<short> p01 = default, p23 = default, p45 = default, p67 = default;
            for (var c = 0; c < Chunks; c++)
            {
                var low = Slice128(ref ab, 4 * c);
                var high = Slice128(ref ab, BlockSize / 2 + 4 * c);
                var first = Vector128.LoadUnsafe(ref gb, (nuint)(ScaleBytes + c * ChunkBytes));
                var second = Vector128.LoadUnsafe(ref gb, (nuint)(ScaleBytes + c * ChunkBytes + 16));
                Multiply(first, low, high, ref p01, ref p23);
                Multiply(second, low, high, ref p45, ref p67);
            }
            var da = Vector128.Create(Fp16.ToFloat(Unsafe.ReadUnaligned<ushort>(ref ab)));
            var scales = Vector128.LoadUnsafe(ref Unsafe.As<byte, ushort>(ref gb));
            acc0 = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(RowSums(p01, p23)), Fp16.ToFloat(Vector128.WidenLower(scales)) * da, acc0);
            acc1 = Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(RowSums(p45, p67)), Fp16.ToFloat(Vector128.WidenUpper(scales)) * da, acc1);
        }
        Vector128.StoreUnsafe(acc0, ref y);
        Vector128.StoreUnsafe(acc1, ref Unsafe.Add(ref y, 4));
    }

    /// <summary>Adds the products of four rows' 16 nibble bytes (4 per row) with the low- and high-nibble activation slices.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Multiply(Vector128<byte> q, Vector128<short> low, Vector128<short> high, ref Vector128<short> first, ref Vector128<short> second)
    {
        var eight = Vector128.Create((sbyte)8);
        var lo = (q & Vector128.Create((byte)0x0F)).AsSByte() - eight;
        var hi = Vector128.ShiftRightLogical(q, 4).AsSByte() - eight;
        first += Vector128.WidenLower(lo) * low + Vector128.WidenLower(hi) * high;
        second += Vector128.WidenUpper(lo) * low + Vector128.WidenUpper(hi) * high;
    }

    /// <summary>Activation quants i..i+3, widened to 16 bits, twice (the four quants for each of two rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> Slice128(ref byte ab, int i) =>
        Vector128.WidenLower(Vector128.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref ab, ActivationQuants + i))).AsSByte());

    /// <summary>Four rows' sums from two vectors of four 16-bit lanes per row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> RowSums(Vector128<short> first, Vector128<short> second) =>
        Vector128.Narrow(Quads(first), Quads(second));

    // Lanes of four 16-bit values summed into each 64-bit lane (two rows).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<long> Quads(Vector128<short> p)
    {
        var x = p.AsInt32();
        var pairs = (x << 16 >> 16) + (x >> 16);
        var y = pairs.AsInt64();
        return (y << 32 >> 32) + (y >> 32);
    }

    /// <summary>One activation row, from zero or, when <paramref name="resume"/>, from the results.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemvVector256(ref byte g, ref byte a, int blocks, ref float y, bool resume)
    {
        var acc = resume ? Vector256.LoadUnsafe(ref y) : Vector256<float>.Zero;
        for (var k = 0; k < blocks; k++)
        {
            ref var gb = ref Unsafe.Add(ref g, (nint)k * GroupBlockBytes);
            ref var ab = ref Unsafe.Add(ref a, (nint)k * ActivationBlockBytes);
            // 16-bit products: rows 0..3 | rows 4..7, four lanes per row.
            Vector256<short> p0123 = default, p4567 = default;
            var eight = Vector256.Create((sbyte)8);
            for (var c = 0; c < Chunks; c++)
            {
                var low = Slice256(ref ab, 4 * c);
                var high = Slice256(ref ab, BlockSize / 2 + 4 * c);
                var q = Vector256.LoadUnsafe(ref gb, (nuint)(ScaleBytes + c * ChunkBytes));
                var lo = (q & Vector256.Create((byte)0x0F)).AsSByte() - eight;
                var hi = Vector256.ShiftRightLogical(q, 4).AsSByte() - eight;
                p0123 += Vector256.WidenLower(lo) * low + Vector256.WidenLower(hi) * high;
                p4567 += Vector256.WidenUpper(lo) * low + Vector256.WidenUpper(hi) * high;
            }
            var sums = Vector256.Narrow(Quads(p0123), Quads(p4567));
            var scales = Vector256.WidenLower(Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.As<byte, ushort>(ref gb)), default));
            var da = Vector256.Create(Fp16.ToFloat(Unsafe.ReadUnaligned<ushort>(ref ab)));
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(sums), Fp16.ToFloat(scales) * da, acc);
        }
        Vector256.StoreUnsafe(acc, ref y);
    }

    /// <summary>Activation quants i..i+3, widened to 16 bits, four times (for each of four rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Slice256(ref byte ab, int i) =>
        Vector256.WidenLower(Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref ab, ActivationQuants + i))).AsSByte());

    // Lanes of four 16-bit values summed into each 64-bit lane (one row).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<long> Quads(Vector256<short> p)
    {
        var x = p.AsInt32();
        var pairs = (x << 16 >> 16) + (x >> 16);
        var y = pairs.AsInt64();
        return (y << 32 >> 32) + (y >> 32);
    }
}
