using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Llamero.Quants;

/// <summary>
/// How one K-quant format unpacks a super-block for the portable kernels: 256 levels, one integer scale per
/// 16-weight group, and one coefficient per group against the Q8_K group sums: mins scaled by
/// <c>dMin</c> (Q2_K, Q4_K, Q5_K) or an integer offset correction (Q3_K, Q6_K).
/// </summary>
internal interface IKQuantPortableBlock
{
    /// <summary>Bytes per weight block.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>True: coefficients are mins scaled by <c>dMin</c>; false: Σ coefficient·bsum is subtracted from the level sum.</summary>
    static abstract bool HasMins { get; }

    /// <summary>Unpacks the block at <paramref name="xb"/>; <paramref name="d"/> is its scale, <paramref name="dMin"/> minus its min scale.</summary>
    static abstract void Unpack(ref byte xb, ref KQuantPortable.Weights256 levels, ref KQuantPortable.Scales16 scales,
        ref KQuantPortable.Scales16 coefficients, out float d, out float dMin);
}

/// <summary>
/// The portable (<see cref="Vector128"/>/<see cref="Vector256"/>) half of the K-quant dot products: a format
/// unpacks one super-block into 256 signed weights and 16 per-group integer scales, and this sums
/// Σ_g scale_g · Σ_{k&lt;16} w[16g+k]·q8[16g+k] exactly in 32-bit integers. The batch kernel unpacks each weight
/// block once for all activation rows; the single-row dot is the batch of one, so both agree bit for bit.
/// </summary>
internal static class KQuantPortable
{
    /// <summary>Activation rows whose float sums live on the stack at once.</summary>
    private const int RowChunk = 16;

    [InlineArray(RowChunk)]
    private struct RowSums
    {
        private float _element0;
    }

    /// <summary>One weight row against one activation row.</summary>
    public static float Dot<TBlock>(bool wide, ref byte x, ref byte y, int blocks) where TBlock : IKQuantPortableBlock
    {
        float result = 0;
        Batch<TBlock>(wide, ref x, ref y, 0, 1, blocks, ref result, 0);
        return result;
    }

    /// <summary>One weight row against <paramref name="count"/> activation rows <paramref name="stride"/> bytes apart
    /// (never inlined, like the AVX2 kernels, so its helpers keep the JIT's inline budget).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Batch<TBlock>(bool wide, ref byte x, ref byte y, nint stride, int count, int blocks, ref float results, nint resultStride)
        where TBlock : IKQuantPortableBlock
    {
        Weights256 w = default;
        Scales16 scales = default;
        Scales16 coefficients = default;
        RowSums sums = default;
        for (var r0 = 0; r0 < count; r0 += RowChunk)
        {
            var rows = Math.Min(RowChunk, count - r0);
            ref var y0 = ref Unsafe.Add(ref y, r0 * stride);
            for (var r = 0; r < rows; r++)
                sums[r] = 0;
            for (nint i = 0; i < blocks; i++)
            {
                TBlock.Unpack(ref Unsafe.Add(ref x, i * TBlock.BlockBytes), ref w, ref scales, ref coefficients, out var d, out var dMin);
                for (var r = 0; r < rows; r++)
                {
                    ref var yb = ref Unsafe.Add(ref y0, r * stride + i * Q8_K.BlockBytes);
                    var isum = ScaledBlockDot(wide, ref w[0], ref Quants(ref yb), ref scales);
                    var msum = GroupSums(ref yb, ref coefficients);
                    var dy = Unsafe.ReadUnaligned<float>(ref yb);
                    if (TBlock.HasMins)
                        sums[r] += d * dy * isum + dMin * dy * msum;
                    else
                        sums[r] += d * dy * (isum - msum);
                }
            }
            for (var r = 0; r < rows; r++)
                Unsafe.Add(ref results, (r0 + r) * resultStride) = sums[r];
        }
    }

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
