using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// Q2_K block (84 bytes, 2.625 bits per weight): 16 groups of 16 weights, each with a 4-bit scale (low nibble)
/// and 4-bit min (high nibble); weight = D·scale·q − DMin·min, q in 0..3. Weight 128·h + 32·j + l is bits 2j
/// of Qs[32·h + l].
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ2_K
{
    /// <summary>Per-group scale (low 4 bits) and min (high 4 bits).</summary>
    public fixed byte Scales[16];
    /// <summary>2-bit quants.</summary>
    public fixed byte Qs[64];
    /// <summary>Super-block scale of the scales.</summary>
    public Half D;
    /// <summary>Super-block scale of the mins.</summary>
    public Half DMin;
}

/// <summary>The Q2_K format: ggml-exact dequantize, reference quantize and dot products with Q8_K.</summary>
public sealed partial class Q2_K : IQuantFormat, IKQuantKernels
{
    /// <summary>Bytes per block of 256.</summary>
    public const int BlockBytes = 84;
    private const int QsOffset = 16;
    private const int DOffset = 80;
    private const int DMinOffset = 82;

    public static GgmlType Type => GgmlType.Q2_K;
    public static GgmlType DotPartner => GgmlType.Q8_K;

    /// <summary>The level (0..3) of weight <paramref name="e"/> of a block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Level(ref byte block, int e) =>
        (Unsafe.Add(ref block, QsOffset + 32 * (e / 128) + e % 32) >> (2 * (e % 128 / 32))) & 3;

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = KQuantHelpers.CheckRow(dst.Length, src.Length, BlockBytes, "Q2_K");
        ref var x = ref MemoryMarshal.GetReference(src);
        for (var i = 0; i < blocks; i++)
        {
            ref var b = ref Unsafe.Add(ref x, i * BlockBytes);
            var d = KQuantHelpers.ReadHalf(ref b, DOffset);
            var min = KQuantHelpers.ReadHalf(ref b, DMinOffset);
            var y = dst.Slice(i * 256, 256);
            for (var g = 0; g < 16; g++)
            {
                var sc = Unsafe.Add(ref b, g);
                var dl = d * (sc & 0xF);
                var ml = min * (sc >> 4);
                for (var k = 0; k < 16; k++)
                    y[16 * g + k] = dl * Level(ref b, 16 * g + k) - ml;
            }
        }
    }

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = KQuantHelpers.CheckRow(src.Length, dst.Length, BlockBytes, "Q2_K");
        Span<byte> levels = stackalloc byte[256];
        Span<byte> scratch = stackalloc byte[16];
        Span<float> weights = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        const float Q4Scale = 15f;
        for (var i = 0; i < blocks; i++)
        {
            var x = src.Slice(i * 256, 256);
            var y = dst.Slice(i * BlockBytes, BlockBytes);
            float maxScale = 0, maxMin = 0;
            for (var g = 0; g < 16; g++)
            {
                var xs = x.Slice(16 * g, 16);
                for (var k = 0; k < 16; k++)
                    weights[k] = MathF.Abs(xs[k]);
                scales[g] = KQuantHelpers.MakeQkx2Quants(xs, 3, weights, levels.Slice(16 * g, 16), out mins[g], scratch, -0.5f, 0.1f, 15, useMad: true);
                if (scales[g] > maxScale) maxScale = scales[g];
                if (mins[g] > maxMin) maxMin = mins[g];
            }
            y.Clear();
            if (maxScale > 0)
            {
                var iscale = Q4Scale / maxScale;
                for (var g = 0; g < 16; g++)
                    y[g] = (byte)KQuantHelpers.NearestInt(iscale * scales[g]);
                KQuantHelpers.WriteHalf(y, DOffset, maxScale / Q4Scale);
            }
            if (maxMin > 0)
            {
                var iscale = Q4Scale / maxMin;
                for (var g = 0; g < 16; g++)
                    y[g] |= (byte)(KQuantHelpers.NearestInt(iscale * mins[g]) << 4);
                KQuantHelpers.WriteHalf(y, DMinOffset, maxMin / Q4Scale);
            }
            var dAll = KQuantHelpers.ReadHalf(y, DOffset);
            var dMin = KQuantHelpers.ReadHalf(y, DMinOffset);
            for (var g = 0; g < 16; g++)
            {
                var d = dAll * (y[g] & 0xF);
                if (d == 0)
                    continue;
                var dm = dMin * (y[g] >> 4);
                for (var k = 0; k < 16; k++)
                    levels[16 * g + k] = (byte)Math.Clamp(KQuantHelpers.NearestInt((x[16 * g + k] + dm) / d), 0, 3);
            }
            KQuantHelpers.PackTwoBits(levels, y.Slice(QsOffset, 64));
        }
    }

    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.With<Q2_K, Avx2Block, PortableBlock>(SimdPath.Current, weights, activations, n);

    /// <summary>The dot product on a given path (tests force each one the CPU supports).</summary>
    internal static float DotWith(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.With<Q2_K, Avx2Block, PortableBlock>(level, weights, activations, n);

    public static void DotBatch(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        KQuantDot.BatchWith<Q2_K, Avx2Block, PortableBlock>(SimdPath.Current, weights, activations, activationStride, count, n, results, resultStride);

    /// <summary>The batch dot product on a given path (tests force each one the CPU supports).</summary>
    internal static void DotBatchWith(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        KQuantDot.BatchWith<Q2_K, Avx2Block, PortableBlock>(level, weights, activations, activationStride, count, n, results, resultStride);

    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.Reference<Q2_K>(weights, activations, n);

    static string IKQuantKernels.Name => "Q2_K";
    static int IKQuantKernels.WeightBlockBytes => BlockBytes;

    /// <summary>ggml_vec_dot_q2_K_q8_K_generic, same operations in the same order (FMA where GCC contracts).</summary>
    static float IKQuantKernels.DotScalar(ref byte x, ref byte y, int blocks)
    {
        float sumf = 0;
        for (var i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            var summs = 0;
            for (var g = 0; g < 16; g++)
                summs += Unsafe.ReadUnaligned<short>(ref Unsafe.Add(ref yb, Q8_K.BSumsOffset + 2 * g)) * (Unsafe.Add(ref xb, g) >> 4);
            var dy = Unsafe.ReadUnaligned<float>(ref yb);
            var dall = dy * KQuantHelpers.ReadHalf(ref xb, DOffset);
            var dmin = dy * KQuantHelpers.ReadHalf(ref xb, DMinOffset);
            var isum = 0;
            for (var g = 0; g < 16; g++)
            {
                var isuml = 0;
                for (var k = 0; k < 16; k++)
                    isuml += (sbyte)Unsafe.Add(ref yb, Q8_K.QsOffset + 16 * g + k) * Level(ref xb, 16 * g + k);
                isum += (Unsafe.Add(ref xb, g) & 0xF) * isuml;
            }
            sumf += MathF.FusedMultiplyAdd(dall, isum, -(dmin * summs));
        }
        return sumf;
    }
}
