using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// Q3_K block (110 bytes, 3.4375 bits per weight): 16 groups of 16 weights with 6-bit signed scales;
/// weight = D·(scale − 32)·(q − 4), q in 0..7 from 2 low bits (Qs) and a high bit (HMask, set means +4).
/// Weight 128·h + 32·j + l reads bits 2j of Qs[32·h + l] and bit 4h + j of HMask[l].
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ3_K
{
    /// <summary>High bits of the quants.</summary>
    public fixed byte HMask[32];
    /// <summary>Low 2 bits of the quants.</summary>
    public fixed byte Qs[64];
    /// <summary>Sixteen 6-bit scales, packed 4+2 bits.</summary>
    public fixed byte Scales[12];
    /// <summary>Super-block scale.</summary>
    public Half D;
}

/// <summary>The Q3_K format: ggml-exact dequantize, reference quantize and dot products with Q8_K.</summary>
public sealed partial class Q3_K : IQuantFormat, IKQuantKernels
{
    /// <summary>Bytes per block of 256.</summary>
    public const int BlockBytes = 110;
    private const int QsOffset = 32;
    private const int ScalesOffset = 96;
    private const int DOffset = 108;

    public static GgmlType Type => GgmlType.Q3_K;
    public static GgmlType DotPartner => GgmlType.Q8_K;

    /// <summary>The signed level (−4..3) of weight <paramref name="e"/> of a block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Level(ref byte block, int e)
    {
        var half = e / 128;
        var j = e % 128 / 32;
        var l = e % 32;
        var low = (Unsafe.Add(ref block, QsOffset + 32 * half + l) >> (2 * j)) & 3;
        var high = (Unsafe.Add(ref block, l) >> (4 * half + j)) & 1;
        return low - (high != 0 ? 0 : 4);
    }

    /// <summary>The sixteen scales of a block, minus their bias of 32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scales(ref byte block, Span<sbyte> scales)
    {
        KQuantHelpers.UnpackScalesQ3K(ref Unsafe.Add(ref block, ScalesOffset), out var a0, out var a1, out var a2, out var a3);
        var words = MemoryMarshal.Cast<sbyte, uint>(scales);
        words[0] = a0;
        words[1] = a1;
        words[2] = a2;
        words[3] = a3;
        for (var g = 0; g < 16; g++)
            scales[g] -= 32;
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = KQuantHelpers.CheckRow(dst.Length, src.Length, BlockBytes, "Q3_K");
        ref var x = ref MemoryMarshal.GetReference(src);
        Span<sbyte> scales = stackalloc sbyte[16];
        for (var i = 0; i < blocks; i++)
        {
            ref var b = ref Unsafe.Add(ref x, i * BlockBytes);
            var d = KQuantHelpers.ReadHalf(ref b, DOffset);
            Scales(ref b, scales);
            var y = dst.Slice(i * 256, 256);
            for (var g = 0; g < 16; g++)
            {
                var dl = d * scales[g];
                for (var k = 0; k < 16; k++)
                    y[16 * g + k] = dl * Level(ref b, 16 * g + k);
            }
        }
    }

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = KQuantHelpers.CheckRow(src.Length, dst.Length, BlockBytes, "Q3_K");
        Span<sbyte> levels = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        for (var i = 0; i < blocks; i++)
        {
            var x = src.Slice(i * 256, 256);
            var y = dst.Slice(i * BlockBytes, BlockBytes);
            float maxScale = 0, amax = 0;
            for (var g = 0; g < 16; g++)
            {
                scales[g] = KQuantHelpers.MakeQ3Quants(x.Slice(16 * g, 16), 4, levels.Slice(16 * g, 16));
                var abs = MathF.Abs(scales[g]);
                if (abs > amax)
                {
                    amax = abs;
                    maxScale = scales[g];
                }
            }
            y.Clear();
            var packed = y.Slice(ScalesOffset, 12);
            if (maxScale != 0)
            {
                var iscale = -32f / maxScale;
                for (var g = 0; g < 16; g++)
                {
                    var l = Math.Clamp((int)(sbyte)KQuantHelpers.NearestInt(iscale * scales[g]), -32, 31) + 32;
                    if (g < 8)
                        packed[g] = (byte)(l & 0xF);
                    else
                        packed[g - 8] |= (byte)((l & 0xF) << 4);
                    packed[g % 4 + 8] |= (byte)((l >> 4) << (2 * (g / 4)));
                }
                KQuantHelpers.WriteHalf(y, DOffset, 1 / iscale);
            }
            var dAll = KQuantHelpers.ReadHalf(y, DOffset);
            for (var g = 0; g < 16; g++)
            {
                var sc = g < 8 ? packed[g] & 0xF : packed[g - 8] >> 4;
                sc = (sc | (((packed[8 + g % 4] >> (2 * (g / 4))) & 3) << 4)) - 32;
                var d = dAll * sc;
                if (d == 0)
                    continue;
                for (var k = 0; k < 16; k++)
                    levels[16 * g + k] = (sbyte)(Math.Clamp(KQuantHelpers.NearestInt(x[16 * g + k] / d), -4, 3) + 4);
            }
            // High bit of weight e goes to HMask[e % 32], bit e / 32; the low two bits to Qs as in Q2_K.
            for (var e = 0; e < 256; e++)
                if (levels[e] > 3)
                {
                    y[e % 32] |= (byte)(1 << (e / 32));
                    levels[e] -= 4;
                }
            KQuantHelpers.PackTwoBits(MemoryMarshal.AsBytes(levels), y.Slice(QsOffset, 64));
        }
    }

    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.With<Q3_K, Avx2Block, PortableBlock>(SimdPath.Current, weights, activations, n);

    /// <summary>The dot product on a given path (tests force each one the CPU supports).</summary>
    internal static float DotWith(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.With<Q3_K, Avx2Block, PortableBlock>(level, weights, activations, n);

    public static void DotBatch(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        KQuantDot.BatchWith<Q3_K, Avx2Block, PortableBlock>(SimdPath.Current, weights, activations, activationStride, count, n, results, resultStride);

    /// <summary>The batch dot product on a given path (tests force each one the CPU supports).</summary>
    internal static void DotBatchWith(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        KQuantDot.BatchWith<Q3_K, Avx2Block, PortableBlock>(level, weights, activations, activationStride, count, n, results, resultStride);

    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.Reference<Q3_K>(weights, activations, n);

    static string IKQuantKernels.Name => "Q3_K";
    static int IKQuantKernels.WeightBlockBytes => BlockBytes;

    /// <summary>ggml_vec_dot_q3_K_q8_K_generic, same operations in the same order (FMA where GCC contracts).</summary>
    static float IKQuantKernels.DotScalar(ref byte x, ref byte y, int blocks)
    {
        Span<float> sums = stackalloc float[8];
        Span<int> aux32 = stackalloc int[8];
        Span<sbyte> scales = stackalloc sbyte[16];
        sums.Clear();
        for (var i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            Scales(ref xb, scales);
            aux32.Clear();
            for (var e = 0; e < 256; e++)
            {
                var q8 = (sbyte)Unsafe.Add(ref yb, Q8_K.QsOffset + e);
                aux32[e % 8] += scales[e / 16] * (short)(q8 * Level(ref xb, e));
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
