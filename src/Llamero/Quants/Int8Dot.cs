using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

/// <summary>
/// The inner step every 32-element block format shares once its weights are unpacked to signed bytes: the dot
/// product of 32 weight bytes with 32 activation bytes, left as eight int32 partial sums (the caller scales and
/// accumulates them). One method per SIMD path; all are exact integer arithmetic, so they agree bit for bit.
/// Inputs never hold -128 in both operands at one position (Q8 quantizers emit -127..127), which keeps the
/// AVX2 byte-pair products inside int16 exactly as in ggml.
/// </summary>
internal static class Int8Dot
{
    /// <summary>AVX2: |x|·sign(y,x) with maddubs, pairs summed to int32 (ggml's mul_sum_i8_pairs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Avx2Sum(Vector256<sbyte> x, Vector256<sbyte> y)
    {
        var ax = Avx2.Sign(x, x).AsByte();
        var sy = Avx2.Sign(y, x);
        var pairs = Avx2.MultiplyAddAdjacent(ax, sy);
        return Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)1));
    }

    /// <summary>AVX-512BW over two blocks at once (block A in the low 256 bits, block B in the high): sixteen
    /// int32 sums, eight per block. Avx512BW has no sign_epi8, so y is negated where x is negative (as ggml).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Avx512Sum(Vector512<sbyte> x, Vector512<sbyte> y)
    {
        var ax = Avx512BW.Abs(x);
        var negative = Vector512.LessThan(x, Vector512<sbyte>.Zero);
        var sy = Vector512.ConditionalSelect(negative, Vector512<sbyte>.Zero - y, y);
        var pairs = Avx512BW.MultiplyAddAdjacent(ax, sy);
        return Avx512BW.MultiplyAddAdjacent(pairs, Vector512.Create((short)1));
    }

    /// <summary>Portable 256-bit: widen to int16, multiply (no overflow: |x·y| ≤ 16384), widen to int32 and add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Vector256Sum(Vector256<sbyte> x, Vector256<sbyte> y)
    {
        var (xl, xh) = Vector256.Widen(x);
        var (yl, yh) = Vector256.Widen(y);
        var (pl0, pl1) = Vector256.Widen(xl * yl);
        var (ph0, ph1) = Vector256.Widen(xh * yh);
        return (pl0 + pl1) + (ph0 + ph1);
    }

    /// <summary>Portable 128-bit over a block held in two halves: four int32 sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Vector128Sum(Vector128<sbyte> x0, Vector128<sbyte> x1, Vector128<sbyte> y0, Vector128<sbyte> y1) =>
        Vector128Sum(x0, y0) + Vector128Sum(x1, y1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Vector128Sum(Vector128<sbyte> x, Vector128<sbyte> y)
    {
        var (xl, xh) = Vector128.Widen(x);
        var (yl, yh) = Vector128.Widen(y);
        var (pl0, pl1) = Vector128.Widen(xl * yl);
        var (ph0, ph1) = Vector128.Widen(xh * yh);
        return (pl0 + pl1) + (ph0 + ph1);
    }

    /// <summary>Sum of eight floats in ggml's order (hsum_float_8), so AVX2 results track ggml's AVX2 build.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HorizontalSum(Vector256<float> v)
    {
        var r = Sse.Add(v.GetUpper(), v.GetLower());
        r = Sse.Add(r, Sse.MoveHighToLow(r, r));
        r = Sse.AddScalar(r, Sse3.MoveHighAndDuplicate(r));
        return r.ToScalar();
    }
}
