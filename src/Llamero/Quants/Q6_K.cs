using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// Q6_K block (210 bytes, 6.5625 bits per weight): 16 groups of 16 weights, each with a signed 8-bit scale;
/// weight = D·scale·(q − 32) with q in 0..63 split into 4 low bits (Ql) and 2 high bits (Qh).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ6_K
{
    /// <summary>Low 4 bits of the quants.</summary>
    public fixed byte Ql[128];
    /// <summary>High 2 bits of the quants.</summary>
    public fixed byte Qh[64];
    /// <summary>Per-group scales.</summary>
    public fixed sbyte Scales[16];
    /// <summary>Super-block scale.</summary>
    public Half D;
}

/// <summary>The Q6_K format: ggml-exact dequantize, reference quantize and dot products with Q8_K.</summary>
public sealed partial class Q6_K : IQuantFormat, IKQuantKernels
{
    /// <summary>Bytes per block of 256.</summary>
    public const int BlockBytes = 210;
    private const int QhOffset = 128;
    private const int ScalesOffset = 192;
    private const int DOffset = 208;

    public static GgmlType Type => GgmlType.Q6_K;
    public static GgmlType DotPartner => GgmlType.Q8_K;

    /// <summary>The level (0..63) of weight <paramref name="e"/> of a block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Level(ref byte block, int e)
    {
        var half = e / 128;
        var quarter = e % 128 / 32;
        var l = e % 32;
        int low = Unsafe.Add(ref block, 64 * half + l + (quarter & 1) * 32);
        low = quarter < 2 ? low & 0xF : low >> 4;
        var high = (Unsafe.Add(ref block, QhOffset + 32 * half + l) >> (2 * quarter)) & 3;
        return low | (high << 4);
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = KQuantHelpers.CheckRow(dst.Length, src.Length, BlockBytes, "Q6_K");
        ref var x = ref MemoryMarshal.GetReference(src);
        for (var i = 0; i < blocks; i++)
        {
            ref var b = ref Unsafe.Add(ref x, i * BlockBytes);
            var d = KQuantHelpers.ReadHalf(ref b, DOffset);
            var y = dst.Slice(i * 256, 256);
            for (var e = 0; e < 256; e++)
                y[e] = d * (sbyte)Unsafe.Add(ref b, ScalesOffset + e / 16) * (Level(ref b, e) - 32);
        }
    }

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = KQuantHelpers.CheckRow(src.Length, dst.Length, BlockBytes, "Q6_K");
        Span<sbyte> levels = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        for (var i = 0; i < blocks; i++)
        {
            var x = src.Slice(i * 256, 256);
            var y = dst.Slice(i * BlockBytes, BlockBytes);
            float maxScale = 0, maxAbsScale = 0;
            for (var g = 0; g < 16; g++)
            {
                scales[g] = KQuantHelpers.MakeQxQuants(x.Slice(16 * g, 16), 32, levels.Slice(16 * g, 16));
                var abs = MathF.Abs(scales[g]);
                if (abs > maxAbsScale)
                {
                    maxAbsScale = abs;
                    maxScale = scales[g];
                }
            }
            y.Clear();
            if (maxAbsScale < KQuantHelpers.GroupMaxEps)
                continue;

            var iscale = -128f / maxScale;
            KQuantHelpers.WriteHalf(y, DOffset, 1 / iscale);
            for (var g = 0; g < 16; g++)
                y[ScalesOffset + g] = (byte)(sbyte)Math.Min(127, KQuantHelpers.NearestInt(iscale * scales[g]));
            var dAll = KQuantHelpers.ReadHalf(y, DOffset);
            for (var g = 0; g < 16; g++)
            {
                var d = dAll * (sbyte)y[ScalesOffset + g];
                if (d == 0)
                    continue;
                for (var k = 0; k < 16; k++)
                    levels[16 * g + k] = (sbyte)(Math.Clamp(KQuantHelpers.NearestInt(x[16 * g + k] / d), -32, 31) + 32);
            }
            for (var half = 0; half < 2; half++)
            {
                var l0 = 128 * half;
                for (var l = 0; l < 32; l++)
                {
                    int q1 = levels[l0 + l], q2 = levels[l0 + l + 32], q3 = levels[l0 + l + 64], q4 = levels[l0 + l + 96];
                    y[64 * half + l] = (byte)((q1 & 0xF) | ((q3 & 0xF) << 4));
                    y[64 * half + l + 32] = (byte)((q2 & 0xF) | ((q4 & 0xF) << 4));
                    y[QhOffset + 32 * half + l] = (byte)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
                }
            }
        }
    }

    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.With<Q6_K, Avx2Block, PortableBlock>(SimdPath.Current, weights, activations, n);

    /// <summary>The dot product on a given path (tests force each one the CPU supports).</summary>
    internal static float DotWith(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.With<Q6_K, Avx2Block, PortableBlock>(level, weights, activations, n);

    public static void DotBatch(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        KQuantDot.BatchWith<Q6_K, Avx2Block, PortableBlock>(SimdPath.Current, weights, activations, activationStride, count, n, results, resultStride);

    /// <summary>The batch dot product on a given path (tests force each one the CPU supports).</summary>
    internal static void DotBatchWith(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        KQuantDot.BatchWith<Q6_K, Avx2Block, PortableBlock>(level, weights, activations, activationStride, count, n, results, resultStride);

    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.Reference<Q6_K>(weights, activations, n);

    static string IKQuantKernels.Name => "Q6_K";
    static int IKQuantKernels.WeightBlockBytes => BlockBytes;

    /// <summary>ggml_vec_dot_q6_K_q8_K_generic, same operations in the same order (FMA where GCC contracts).</summary>
    static float IKQuantKernels.DotScalar(ref byte x, ref byte y, int blocks)
    {
        Span<float> sums = stackalloc float[8];
        Span<int> aux32 = stackalloc int[8];
        sums.Clear();
        for (var i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            aux32.Clear();
            for (var e = 0; e < 256; e++)
            {
                int scale = (sbyte)Unsafe.Add(ref xb, ScalesOffset + e / 16);
                var q8 = (sbyte)Unsafe.Add(ref yb, Q8_K.QsOffset + e);
                aux32[e % 8] += scale * (short)(q8 * (Level(ref xb, e) - 32));
            }
            var d = KQuantHelpers.ReadHalf(ref xb, DOffset) * Unsafe.ReadUnaligned<float>(ref yb);
            for (var l = 0; l < 8; l++)
                sums[l] = MathF.FusedMultiplyAdd(d, aux32[l], sums[l]);
        }
        float sumf = 0;
        for (var l = 0; l < 8; l++)
            sumf += sums[l];
        return sumf;
    }
}
