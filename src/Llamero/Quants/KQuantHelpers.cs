using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// Scale search and packing shared by the K-quant formats (super-blocks of 256 weights). Every routine keeps
/// ggml's float operation order (ggml-quants.c, compiled without FMA contraction) so quantized bytes match
/// llama.cpp's bit for bit.
/// </summary>
internal static class KQuantHelpers
{
    /// <summary>Weights per super-block (ggml's QK_K).</summary>
    public const int BlockSize = 256;

    /// <summary>Below this a group is treated as all zeros (ggml's GROUP_MAX_EPS).</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>Round to nearest, ties to even, for |x| &lt; 2^22: the float-magic trick ggml uses (nearest_int).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NearestInt(float x)
    {
        var biased = x + 12582912f;
        return (BitConverter.SingleToInt32Bits(biased) & 0x007fffff) - 0x00400000;
    }

    /// <summary>Reads a little-endian fp16 at <paramref name="offset"/> as float (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ReadHalf(ReadOnlySpan<byte> bytes, int offset) =>
        HalfToSingleFast(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref MemoryMarshal.GetReference(bytes), offset)));

    /// <summary>Reads a little-endian fp16 at <paramref name="offset"/> bytes past <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ReadHalf(ref byte at, nint offset) => HalfToSingleFast(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref at, offset)));

    /// <summary>
    /// Every fp16 value as float (256 KiB, as ggml keeps): one load per block scale in the dot kernels, where the
    /// arithmetic conversion cost ~15% of a Q4_K dot. The few scale values a model uses stay in cache.
    /// </summary>
    private static readonly float[] HalfTable = BuildHalfTable();

    private static float[] BuildHalfTable()
    {
        var table = new float[65536];
        for (var h = 0; h < table.Length; h++)
            table[h] = HalfToSingle((ushort)h);
        return table;
    }

    /// <summary>fp16 bits to float through <see cref="HalfTable"/> (same values as <see cref="HalfToSingle"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToSingleFast(ushort h) => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(HalfTable), h);

    /// <summary>
    /// fp16 bits to float, exactly (same value as <c>(float)(Half)</c>) but branch-free for finite values, which is
    /// what every block scale is: exponent and mantissa move into float position and one multiply by 2^112
    /// rebiases the exponent (subnormal halves land on exact normal floats). Infinities and NaNs take the branch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToSingle(ushort h)
    {
        var sign = (uint)(h & 0x8000) << 16;
        if ((h & 0x7C00) == 0x7C00)
            return BitConverter.UInt32BitsToSingle(sign | 0x7F800000 | ((uint)(h & 0x3FF) << 13));
        var scaled = BitConverter.UInt32BitsToSingle((uint)(h & 0x7FFF) << 13) * 5.192296858534828e33f; // 2^112
        return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(scaled) | sign);
    }

    /// <summary>Writes <paramref name="value"/> rounded to fp16 (round to nearest even, as ggml's FP32_TO_FP16).</summary>
    public static void WriteHalf(Span<byte> bytes, int offset, float value) =>
        Unsafe.WriteUnaligned(ref bytes[offset], (Half)value);

    /// <summary>Largest |x| and the signed value that has it (the first one on ties).</summary>
    public static float AbsMax(ReadOnlySpan<float> x, out float max)
    {
        float amax = 0;
        max = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        return amax;
    }

    /// <summary>
    /// Symmetric scale for a group, optionally refined by a weighted least-squares search over 18 nearby
    /// scales (ggml's make_qx_quants with rmse_type 1 and no importance weights: weight = x²).
    /// <paramref name="levels"/> receives values in [0, 2·nmax).
    /// </summary>
    public static float MakeQxQuants(ReadOnlySpan<float> x, int nmax, Span<sbyte> levels)
    {
        var n = x.Length;
        var amax = AbsMax(x, out var max);
        if (amax < GroupMaxEps)
        {
            levels[..n].Clear();
            return 0f;
        }
        var iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (var i = 0; i < n; i++)
        {
            var l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
            levels[i] = (sbyte)(l + nmax);
            var w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        var scale = suml2 != 0 ? sumlx / suml2 : 0f;
        var best = scale * sumlx;
        for (var step = -9; step <= 9; step++)
        {
            if (step == 0)
                continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumlx = suml2 = 0;
            for (var i = 0; i < n; i++)
            {
                var l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
                var w = x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (var i = 0; i < n; i++)
                    levels[i] = (sbyte)(nmax + Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1));
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /// <summary>
    /// Symmetric 3-bit scale refined by coordinate descent on the x²-weighted error (ggml's make_q3_quants with
    /// do_rmse). <paramref name="levels"/> receives values in [0, 2·nmax) (all 0 for an all-zero group).
    /// </summary>
    public static float MakeQ3Quants(ReadOnlySpan<float> x, int nmax, Span<sbyte> levels)
    {
        var n = x.Length;
        var amax = AbsMax(x, out var max);
        if (amax < GroupMaxEps)
        {
            levels[..n].Clear();
            return 0f;
        }
        var iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (var i = 0; i < n; i++)
        {
            var l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
            levels[i] = (sbyte)l;
            var w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var changed = 0;
            for (var i = 0; i < n; i++)
            {
                var w = x[i] * x[i];
                var slx = sumlx - w * x[i] * levels[i];
                if (slx > 0)
                {
                    var sl2 = suml2 - w * levels[i] * levels[i];
                    var newL = Math.Clamp(NearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
                    if (newL != levels[i])
                    {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            levels[i] = (sbyte)newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0)
                break;
        }
        for (var i = 0; i < n; i++)
            levels[i] = (sbyte)(levels[i] + nmax);
        return suml2 > 0f ? sumlx / suml2 : 0f;
    }

    /// <summary>
    /// Asymmetric scale and min for a group: levels in [0, nmax] so that x ≈ scale·l − min, searched over
    /// <paramref name="steps"/>+1 candidate scales by weighted least squares (ggml's make_qkx2_quants).
    /// Returns the scale; <paramref name="theMin"/> receives the (non-negative) min.
    /// </summary>
    public static float MakeQkx2Quants(ReadOnlySpan<float> x, int nmax, ReadOnlySpan<float> weights, Span<byte> levels,
        out float theMin, Span<byte> scratch, float rmin, float rdelta, int steps, bool useMad)
    {
        var n = x.Length;
        var min = x[0];
        var max = x[0];
        var sumW = weights[0];
        var sumX = sumW * x[0];
        for (var i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            var w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            levels[..n].Clear();
            theMin = -min;
            return 0f;
        }
        var iscale = nmax / (max - min);
        var scale = 1 / iscale;
        float bestError = 0;
        for (var i = 0; i < n; i++)
        {
            var l = NearestInt(iscale * (x[i] - min));
            levels[i] = (byte)Math.Clamp(l, 0, nmax);
            var diff = scale * levels[i] + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        if (steps < 1)
        {
            theMin = -min;
            return scale;
        }
        for (var step = 0; step <= steps; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (var i = 0; i < n; i++)
            {
                var l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
                scratch[i] = (byte)l;
                var w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            var det = sumW * sumL2 - sumL * sumL;
            if (det > 0)
            {
                var thisScale = (sumW * sumXL - sumX * sumL) / det;
                var thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (var i = 0; i < n; i++)
                {
                    var diff = thisScale * scratch[i] + thisMin - x[i];
                    diff = useMad ? MathF.Abs(diff) : diff * diff;
                    error += weights[i] * diff;
                }
                if (error < bestError)
                {
                    scratch[..n].CopyTo(levels);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }

    /// <summary>
    /// The scale/min search and header shared by Q4_K and Q5_K (quantize_row_q4_K_ref / q5_K_ref): writes d (bytes 0..1), dmin (2..3)
    /// and the packed scales (4..15) into <paramref name="block"/> and returns the final levels (0..nmax) in <paramref name="levels"/>.
    /// </summary>
    public static void QuantizeScaleMin(ReadOnlySpan<float> x, Span<byte> block, int nmax, float rmin, float rdelta, int steps, out Levels256 levels)
    {
        levels = default;
        Span<byte> l = levels;
        Span<byte> scratch = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> scales = stackalloc float[8];
        Span<float> mins = stackalloc float[8];
        float maxScale = 0, maxMin = 0;
        for (var j = 0; j < 8; j++)
        {
            var xs = x.Slice(32 * j, 32);
            float sumX2 = 0;
            for (var k = 0; k < 32; k++)
                sumX2 += xs[k] * xs[k];
            var avX = MathF.Sqrt(sumX2 / 32);
            for (var k = 0; k < 32; k++)
                weights[k] = avX + MathF.Abs(xs[k]);
            scales[j] = MakeQkx2Quants(xs, nmax, weights, l.Slice(32 * j, 32), out mins[j], scratch, rmin, rdelta, steps, useMad: false);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }

        var invScale = maxScale > 0 ? 63f / maxScale : 0f;
        var invMin = maxMin > 0 ? 63f / maxMin : 0f;
        Span<byte> ls = stackalloc byte[8];
        Span<byte> lm = stackalloc byte[8];
        for (var j = 0; j < 8; j++)
        {
            // ggml stores nearest_int into a uint8 before clamping to 63.
            ls[j] = Math.Min((byte)63, (byte)NearestInt(invScale * scales[j]));
            lm[j] = Math.Min((byte)63, (byte)NearestInt(invMin * mins[j]));
        }
        var packed = block.Slice(4, 12);
        PackScaleMinK4(ls, lm, packed);
        WriteHalf(block, 0, maxScale / 63f);
        WriteHalf(block, 2, maxMin / 63f);

        var dAll = ReadHalf(block, 0);
        var dMin = ReadHalf(block, 2);
        for (var j = 0; j < 8; j++)
        {
            GetScaleMinK4(j, packed, out var sc, out var m);
            var d = dAll * sc;
            if (d == 0)
                continue;
            var dm = dMin * m;
            for (var k = 0; k < 32; k++)
                l[32 * j + k] = (byte)Math.Clamp(NearestInt((x[32 * j + k] + dm) / d), 0, nmax);
        }
    }

    /// <summary>Packs 256 two-bit levels as Q2_K/Q3_K store them: level 128·h + 32·j + l at bits 2j of byte 32·h + l.</summary>
    public static void PackTwoBits(ReadOnlySpan<byte> levels, Span<byte> qs)
    {
        for (var half = 0; half < 2; half++)
            for (var l = 0; l < 32; l++)
            {
                var e = 128 * half + l;
                qs[32 * half + l] = (byte)(levels[e] | (levels[e + 32] << 2) | (levels[e + 64] << 4) | (levels[e + 96] << 6));
            }
    }

    /// <summary>
    /// The 6-bit scale and min of sub-block <paramref name="j"/> (0..7) from the 12 packed bytes of Q4_K/Q5_K
    /// (ggml's get_scale_min_k4): sub-blocks 0..3 keep 6 bits in bytes 0..7, 4..7 split 4+2 bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GetScaleMinK4(int j, ReadOnlySpan<byte> q, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = q[j] & 63;
            min = q[j + 4] & 63;
        }
        else
        {
            scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    /// <summary>Packs eight 6-bit scales and mins into the 12 bytes Q4_K/Q5_K store (inverse of <see cref="GetScaleMinK4"/>).</summary>
    public static void PackScaleMinK4(ReadOnlySpan<byte> scales, ReadOnlySpan<byte> mins, Span<byte> q)
    {
        q[..12].Clear();
        for (var j = 0; j < 8; j++)
        {
            var ls = scales[j];
            var lm = mins[j];
            if (j < 4)
            {
                q[j] = ls;
                q[j + 4] = lm;
            }
            else
            {
                q[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                q[j - 4] |= (byte)((ls >> 4) << 6);
                q[j] |= (byte)((lm >> 4) << 6);
            }
        }
    }

    /// <summary>
    /// Unpacks the 12 scale bytes of Q4_K/Q5_K into four words: bytes 0..7 the eight scales, 8..15 the eight mins
    /// (the word shuffle ggml's dot products use; same values as <see cref="GetScaleMinK4"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void UnpackScaleMinK4(ref byte packed, out uint s0, out uint s1, out uint m0, out uint m1)
    {
        const uint Low6 = 0x3f3f3f3f, Low4 = 0x0f0f0f0f, Low2 = 0x03030303;
        var u0 = Unsafe.ReadUnaligned<uint>(ref packed);
        var u1 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref packed, 4));
        var u2 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref packed, 8));
        m1 = ((u2 >> 4) & Low4) | (((u1 >> 6) & Low2) << 4);
        m0 = u1 & Low6;
        s1 = (u2 & Low4) | (((u0 >> 6) & Low2) << 4);
        s0 = u0 & Low6;
    }

    /// <summary>
    /// Unpacks the 12 scale bytes of Q3_K into sixteen 6-bit values (still biased by +32), four per word.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void UnpackScalesQ3K(ref byte packed, out uint a0, out uint a1, out uint a2, out uint a3)
    {
        const uint Low2 = 0x03030303, Low4 = 0x0f0f0f0f;
        var u0 = Unsafe.ReadUnaligned<uint>(ref packed);
        var u1 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref packed, 4));
        var tmp = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref packed, 8));
        a2 = ((u0 >> 4) & Low4) | (((tmp >> 4) & Low2) << 4);
        a3 = ((u1 >> 4) & Low4) | (((tmp >> 6) & Low2) << 4);
        a0 = (u0 & Low4) | (((tmp >> 0) & Low2) << 4);
        a1 = (u1 & Low4) | (((tmp >> 2) & Low2) << 4);
    }

    /// <summary>
    /// Which kernel family runs for a requested path; a path the CPU lacks falls back to the next one it has.
    /// </summary>
    public static KernelKind Kernel(SimdLevel level) => level switch
    {
        >= SimdLevel.Avx512 when Avx512BW.IsSupported && Avx2.IsSupported && Fma.IsSupported => KernelKind.Avx512,
        >= SimdLevel.Avx2 when Avx2.IsSupported && Fma.IsSupported => KernelKind.Avx2,
        >= SimdLevel.Vector256 when Vector256.IsHardwareAccelerated => KernelKind.Vector256,
        >= SimdLevel.Vector128 when Vector128.IsHardwareAccelerated => KernelKind.Vector128,
        _ => KernelKind.Scalar,
    };

    /// <summary>Throws unless the spans hold whole blocks for <paramref name="n"/> elements (inlined: it runs per dot).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CheckDot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n, int weightBlockBytes, string format)
    {
        if (n < 0 || (n & (BlockSize - 1)) != 0
            || weights.Length < (long)(n / BlockSize) * weightBlockBytes || activations.Length < (long)(n / BlockSize) * Q8_K.BlockBytes)
            ThrowBadDot(weights.Length, activations.Length, n, weightBlockBytes, format);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadDot(int weightBytes, int activationBytes, int n, int weightBlockBytes, string format)
    {
        if (n < 0 || n % BlockSize != 0)
            throw new ArgumentException($"{format} dot: length {n} is not a multiple of {BlockSize}.", nameof(n));
        var blocks = n / BlockSize;
        throw new ArgumentException(
            $"{format} dot over {n} elements needs {(long)blocks * weightBlockBytes} weight bytes and {(long)blocks * Q8_K.BlockBytes} Q8_K bytes; got {weightBytes} and {activationBytes}.");
    }

    /// <summary>Throws unless <paramref name="floats"/> and <paramref name="bytes"/> hold the same whole number of blocks.</summary>
    public static int CheckRow(int floats, int bytes, int blockBytes, string format)
    {
        if (floats % BlockSize != 0)
            throw new ArgumentException($"{format}: row length {floats} is not a multiple of {BlockSize}.");
        var blocks = floats / BlockSize;
        if (bytes < (long)blocks * blockBytes)
            throw new ArgumentException($"{format}: {floats} elements need {(long)blocks * blockBytes} bytes, got {bytes}.");
        return blocks;
    }
}

/// <summary>256 bytes on the stack: the per-weight levels of one super-block while quantizing.</summary>
[InlineArray(256)]
internal struct Levels256
{
    private byte _element0;
}

/// <summary>The kernel families a K-quant dot product is written in.</summary>
internal enum KernelKind
{
    Scalar,
    Vector128,
    Vector256,
    Avx2,
    Avx512,
}
