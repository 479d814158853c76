using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// Q4_K block (144 bytes, 4.5 bits per weight): 8 sub-blocks of 32 weights, each with a 6-bit scale and 6-bit
/// min; weight = D·scale·q − DMin·min with q in 0..15. Nibbles: byte l of each 32-byte run holds weight l (low)
/// and weight l+32 (high) of a 64-weight chunk.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_K
{
    /// <summary>Super-block scale of the scales.</summary>
    public Half D;
    /// <summary>Super-block scale of the mins.</summary>
    public Half DMin;
    /// <summary>Eight 6-bit scales and eight 6-bit mins (see <see cref="KQuantHelpers.GetScaleMinK4"/>).</summary>
    public fixed byte Scales[12];
    /// <summary>256 4-bit quants.</summary>
    public fixed byte Qs[128];
}

/// <summary>The Q4_K format: ggml-exact dequantize, reference quantize and dot products with Q8_K.</summary>
public sealed partial class Q4_K : IQuantFormat, IKQuantKernels
{
    /// <summary>Bytes per block of 256.</summary>
    public const int BlockBytes = 144;
    private const int ScalesOffset = 4;
    private const int QsOffset = 16;

    public static GgmlType Type => GgmlType.Q4_K;
    public static GgmlType DotPartner => GgmlType.Q8_K;

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = KQuantHelpers.CheckRow(dst.Length, src.Length, BlockBytes, "Q4_K");
        for (var i = 0; i < blocks; i++)
        {
            var b = src.Slice(i * BlockBytes, BlockBytes);
            var y = dst.Slice(i * 256, 256);
            var d = KQuantHelpers.ReadHalf(b, 0);
            var min = KQuantHelpers.ReadHalf(b, 2);
            var scales = b.Slice(ScalesOffset, 12);
            for (var chunk = 0; chunk < 4; chunk++)
            {
                var q = b.Slice(QsOffset + 32 * chunk, 32);
                KQuantHelpers.GetScaleMinK4(2 * chunk, scales, out var sc, out var m);
                var d1 = d * sc;
                var m1 = min * m;
                KQuantHelpers.GetScaleMinK4(2 * chunk + 1, scales, out sc, out m);
                var d2 = d * sc;
                var m2 = min * m;
                var yc = y.Slice(64 * chunk, 64);
                for (var l = 0; l < 32; l++)
                {
                    yc[l] = d1 * (q[l] & 0xF) - m1;
                    yc[l + 32] = d2 * (q[l] >> 4) - m2;
                }
            }
        }
    }

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = KQuantHelpers.CheckRow(src.Length, dst.Length, BlockBytes, "Q4_K");
        for (var i = 0; i < blocks; i++)
        {
            var block = dst.Slice(i * BlockBytes, BlockBytes);
            KQuantHelpers.QuantizeScaleMin(src.Slice(i * 256, 256), block, nmax: 15, rmin: -1f, rdelta: 0.1f, steps: 20, out var levels);
            var q = block.Slice(QsOffset, 128);
            for (var chunk = 0; chunk < 4; chunk++)
                for (var k = 0; k < 32; k++)
                    q[32 * chunk + k] = (byte)(levels[64 * chunk + k] | (levels[64 * chunk + k + 32] << 4));
        }
    }

    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.With<Q4_K, Avx2Block, PortableBlock>(SimdPath.Current, weights, activations, n);

    /// <summary>The dot product on a given path (tests force each one the CPU supports).</summary>
    internal static float DotWith(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.With<Q4_K, Avx2Block, PortableBlock>(level, weights, activations, n);

    public static void DotBatch(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        KQuantDot.BatchWith<Q4_K, Avx2Block, PortableBlock>(SimdPath.Current, weights, activations, activationStride, count, n, results, resultStride);

    /// <summary>The batch dot product on a given path (tests force each one the CPU supports).</summary>
    internal static void DotBatchWith(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        KQuantDot.BatchWith<Q4_K, Avx2Block, PortableBlock>(level, weights, activations, activationStride, count, n, results, resultStride);

    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        KQuantDot.Reference<Q4_K>(weights, activations, n);

    static string IKQuantKernels.Name => "Q4_K";
    static int IKQuantKernels.WeightBlockBytes => BlockBytes;

    /// <summary>ggml_vec_dot_q4_K_q8_K_generic, same operations in the same order (FMA where GCC contracts).</summary>
    static float IKQuantKernels.DotScalar(ref byte x, ref byte y, int blocks) =>
        ScaleMinDotScalar(ref x, ref y, blocks, BlockBytes, static (ref byte b, int e) => Level(ref b, e));

    /// <summary>The level (0..15) of weight <paramref name="e"/> of a block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Level(ref byte block, int e)
    {
        var q = Unsafe.Add(ref block, QsOffset + 32 * (e / 64) + (e % 32));
        return (e % 64) < 32 ? q & 0xF : q >> 4;
    }

    /// <summary>Reads the level of weight e (0..255) of the block at the reference.</summary>
    internal delegate int LevelReader(ref byte block, int e);

    /// <summary>
    /// The scalar dot shared by Q4_K and Q5_K (ggml's two generic functions differ only in how levels are read):
    /// eight int32 lanes of scale·q·a per block, folded into eight float sums with FMA, mins through the bsums.
    /// </summary>
    internal static float ScaleMinDotScalar(ref byte x, ref byte y, int blocks, int blockBytes, LevelReader level)
    {
        Span<float> sums = stackalloc float[8];
        Span<int> aux32 = stackalloc int[8];
        sums.Clear();
        float sumf = 0;
        for (var i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * blockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            KQuantHelpers.UnpackScaleMinK4(ref Unsafe.Add(ref xb, ScalesOffset), out var s0, out var s1, out var m0, out var m1);
            var scales = (ulong)s0 | ((ulong)s1 << 32);
            var mins = (ulong)m0 | ((ulong)m1 << 32);
            var sumi = 0;
            for (var j = 0; j < 16; j++)
                sumi += Unsafe.ReadUnaligned<short>(ref Unsafe.Add(ref yb, Q8_K.BSumsOffset + 2 * j)) * (int)((mins >> (8 * (j / 2))) & 0xFF);
            aux32.Clear();
            for (var e = 0; e < 256; e++)
            {
                var scale = (int)((scales >> (8 * (e / 32))) & 0xFF);
                var q8 = (sbyte)Unsafe.Add(ref yb, Q8_K.QsOffset + e);
                aux32[e % 8] += scale * (short)(q8 * level(ref xb, e));
            }
            var dy = Unsafe.ReadUnaligned<float>(ref yb);
            var d = KQuantHelpers.ReadHalf(ref xb, 0) * dy;
            for (var l = 0; l < 8; l++)
                sums[l] = MathF.FusedMultiplyAdd(d, aux32[l], sums[l]);
            var dmin = KQuantHelpers.ReadHalf(ref xb, 2) * dy;
            sumf = MathF.FusedMultiplyAdd(-dmin, sumi, sumf);
        }
        for (var l = 0; l < 8; l++)
            sumf += sums[l];
        return sumf;
    }
}
