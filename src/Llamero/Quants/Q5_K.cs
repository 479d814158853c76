using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// Q5_K block (176 bytes, 5.5 bits per weight): Q4_K's layout plus one high bit per weight in Qh;
/// weight = D·scale·q − DMin·min with q in 0..31. Bit 2c (low nibbles) and 2c+1 (high nibbles) of Qh[l]
/// belong to 64-weight chunk c.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_K
{
    /// <summary>Super-block scale of the scales.</summary>
    public Half D;
    /// <summary>Super-block scale of the mins.</summary>
    public Half DMin;
    /// <summary>Eight 6-bit scales and eight 6-bit mins, packed as in Q4_K.</summary>
    public fixed byte Scales[12];
    /// <summary>High bits of the quants.</summary>
    public fixed byte Qh[32];
    /// <summary>Low 4 bits of the quants.</summary>
    public fixed byte Qs[128];
}

/// <summary>The Q5_K format: ggml-exact dequantize, reference quantize and dot products with Q8_K.</summary>
public sealed partial class Q5_K : IQuantFormat, IKQuantKernels
{
    /// <summary>Bytes per block of 256.</summary>
    public const int BlockBytes = 176;
    private const int ScalesOffset = 4;
    private const int QhOffset = 16;
    private const int QsOffset = 48;

    public static GgmlType Type => GgmlType.Q5_K;
    public static GgmlType DotPartner => GgmlType.Q8_K;

    /// <summary>The level (0..31) of weight <paramref name="e"/> of a block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Level(ref byte block, int e)
    {
        var chunk = e / 64;
        var l = e % 32;
        var upper = (e % 64) / 32;
        int q = Unsafe.Add(ref block, QsOffset + 32 * chunk + l);
        q = upper == 0 ? q & 0xF : q >> 4;
        var high = (Unsafe.Add(ref block, QhOffset + l) >> (2 * chunk + upper)) & 1;
        return q + 16 * high;
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = KQuantHelpers.CheckRow(dst.Length, src.Length, BlockBytes, "Q5_K");
        ref var x = ref MemoryMarshal.GetReference(src);
        for (var i = 0; i < blocks; i++)
        {
            ref var b = ref Unsafe.Add(ref x, i * BlockBytes);
            var scales = src.Slice(i * BlockBytes + ScalesOffset, 12);
            var d = KQuantHelpers.ReadHalf(ref b, 0);
            var min = KQuantHelpers.ReadHalf(ref b, 2);
            var y = dst.Slice(i * 256, 256);
            for (var sub = 0; sub < 8; sub++)
            {
                KQuantHelpers.GetScaleMinK4(sub, scales, out var sc, out var m);
                var d1 = d * sc;
                var m1 = min * m;
                for (var l = 0; l < 32; l++)
                    y[32 * sub + l] = d1 * Level(ref b, 32 * sub + l) - m1;
            }
        }
    }

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = KQuantHelpers.CheckRow(src.Length, dst.Length, BlockBytes, "Q5_K");
        for (var i = 0; i < blocks; i++)
        {
            var block = dst.Slice(i * BlockBytes, BlockBytes);
            KQuantHelpers.QuantizeScaleMin(src.Slice(i * 256, 256), block, nmax: 31, rmin: -0.5f, rdelta: 0.1f, steps: 15, out var levels);
            var qh = block.Slice(QhOffset, 32);
            var ql = block.Slice(QsOffset, 128);
            qh.Clear();
            for (var chunk = 0; chunk < 4; chunk++)
                for (var l = 0; l < 32; l++)
                {
                    int l1 = levels[64 * chunk + l], l2 = levels[64 * chunk + l + 32];
                    if (l1 > 15) { l1 -= 16; qh[l] |= (byte)(1 << (2 * chunk)); }
                    if (l2 > 15) { l2 -= 16; qh[l] |= (byte)(2 << (2 * chunk)); }
                    ql[32 * chunk + l] = (byte)(l1 | (l2 << 4));
                }
        }
    }

    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.With<Q5_K, Avx2Block, PortableBlock>(SimdPath.Current, weights, activations, n);

    /// <summary>The dot product on a given path (tests force each one the CPU supports).</summary>
    internal static float DotWith(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.With<Q5_K, Avx2Block, PortableBlock>(level, weights, activations, n);

    public static void DotBatch(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        KQuantDot.BatchWith<Q5_K, Avx2Block, PortableBlock>(SimdPath.Current, weights, activations, activationStride, count, n, results, resultStride);

    /// <summary>The batch dot product on a given path (tests force each one the CPU supports).</summary>
    internal static void DotBatchWith(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        KQuantDot.BatchWith<Q5_K, Avx2Block, PortableBlock>(level, weights, activations, activationStride, count, n, results, resultStride);

    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.Reference<Q5_K>(weights, activations, n);

    static string IKQuantKernels.Name => "Q5_K";
    static int IKQuantKernels.WeightBlockBytes => BlockBytes;

    /// <summary>ggml_vec_dot_q5_K_q8_K_generic: Q4_K's loop with 5-bit levels.</summary>
    static float IKQuantKernels.DotScalar(ref byte x, ref byte y, int blocks) =>
        Q4_K.ScaleMinDotScalar(ref x, ref y, blocks, BlockBytes, static (ref byte b, int e) => Level(ref b, e));
}
