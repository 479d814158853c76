using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants;

/// <summary>
/// The portable (<see cref="Vector128"/>/<see cref="Vector256"/>) half of the K-quant dot products: a format
/// unpacks one super-block into 256 signed weights and 16 per-group integer scales, and this sums
/// Σ_g scale_g · Σ_{k&lt;16} w[16g+k]·q8[16g+k] exactly in 32-bit integers.
/// </summary>
internal static class KQuantPortable
{
    /// <summary>Sixteen int32 on the stack: one integer scale per 16-weight group.</summary>
    [InlineArray(16)]
    public struct Scales16
    {
        private int _element0;
    }

    /// <summary>The 256 unpacked weights of a super-block, on the stack.</summary>
    [InlineArray(256)]
    public struct Weights256
    {
        private sbyte _element0;
    }

    /// <summary>
    /// Exact Σ_g scales[g]·Σ w·q8 over one super-block. Weights must fit |w| ≤ 63 so that a pair of int16
    /// products (≤ 2·63·128) cannot overflow.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ScaledBlockDot(bool wide, ref sbyte w, ref sbyte q8, ref Scales16 scales)
    {
        if (wide)
            return ScaledBlockDot256(ref w, ref q8, ref scales);
        return ScaledBlockDot128(ref w, ref q8, ref scales);
    }

    private static int ScaledBlockDot128(ref sbyte w, ref sbyte q8, ref Scales16 scales)
    {
        var acc = Vector128<int>.Zero;
        for (nuint g = 0; g < 16; g++)
        {
            var (wLo, wHi) = Vector128.Widen(Vector128.LoadUnsafe(ref w, 16 * g));
            var (qLo, qHi) = Vector128.Widen(Vector128.LoadUnsafe(ref q8, 16 * g));
            var (pLo, pHi) = Vector128.Widen(wLo * qLo + wHi * qHi);
            acc += (pLo + pHi) * scales[(int)g];
        }
        return Vector128.Sum(acc);
    }

    private static int ScaledBlockDot256(ref sbyte w, ref sbyte q8, ref Scales16 scales)
    {
        var acc = Vector256<int>.Zero;
        for (nuint g = 0; g < 16; g += 2)
        {
            var (wA, wB) = Vector256.Widen(Vector256.LoadUnsafe(ref w, 16 * g));
            var (qA, qB) = Vector256.Widen(Vector256.LoadUnsafe(ref q8, 16 * g));
            var (pA0, pA1) = Vector256.Widen(wA * qA);
            var (pB0, pB1) = Vector256.Widen(wB * qB);
            acc += (pA0 + pA1) * scales[(int)g] + (pB0 + pB1) * scales[(int)g + 1];
        }
        return Vector256.Sum(acc);
    }

    /// <summary>Σ_g bsums[g]·coefficients[g] over the 16 group sums of a Q8_K block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int GroupSums(ref byte q8Block, ref Scales16 coefficients)
    {
        var sum = 0;
        ref var bsums = ref Unsafe.As<byte, short>(ref Unsafe.Add(ref q8Block, Q8_K.BSumsOffset));
        for (var g = 0; g < 16; g++)
            sum += Unsafe.Add(ref bsums, g) * coefficients[g];
        return sum;
    }

    /// <summary>The int8 quants of a Q8_K block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref sbyte Quants(ref byte q8Block) => ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref q8Block, Q8_K.QsOffset));
}
