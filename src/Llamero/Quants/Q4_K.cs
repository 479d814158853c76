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
public sealed partial class Q4_K : IQuantFormat
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
            QuantizeAsymmetric(src.Slice(i * 256, 256), dst.Slice(i * BlockBytes, BlockBytes), nmax: 15, rmin: -1f, rdelta: 0.1f, steps: 20, out _);
    }

    /// <summary>
    /// The scale/min search and header shared by Q4_K and Q5_K (quantize_row_q4_K_ref / q5_K_ref): writes d, dmin
    /// and the packed scales into <paramref name="block"/> and returns the final levels (0..nmax) in <paramref name="levels"/>.
    /// </summary>
    internal static void QuantizeAsymmetric(ReadOnlySpan<float> x, Span<byte> block, int nmax, float rmin, float rdelta, int steps, out Levels256 levels)
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
            scales[j] = KQuantHelpers.MakeQkx2Quants(xs, nmax, weights, l.Slice(32 * j, 32), out mins[j], scratch, rmin, rdelta, steps, useMad: false);
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
            ls[j] = Math.Min((byte)63, (byte)KQuantHelpers.NearestInt(invScale * scales[j]));
            lm[j] = Math.Min((byte)63, (byte)KQuantHelpers.NearestInt(invMin * mins[j]));
        }
        var packed = block.Slice(ScalesOffset, 12);
        KQuantHelpers.PackScaleMinK4(ls, lm, packed);
        KQuantHelpers.WriteHalf(block, 0, maxScale / 63f);
        KQuantHelpers.WriteHalf(block, 2, maxMin / 63f);

        var dAll = KQuantHelpers.ReadHalf(block, 0);
        var dMin = KQuantHelpers.ReadHalf(block, 2);
        for (var j = 0; j < 8; j++)
        {
            KQuantHelpers.GetScaleMinK4(j, packed, out var sc, out var m);
            var d = dAll * sc;
            if (d == 0)
                continue;
            var dm = dMin * m;
            for (var k = 0; k < 32; k++)
                l[32 * j + k] = (byte)Math.Clamp(KQuantHelpers.NearestInt((x[32 * j + k] + dm) / d), 0, nmax);
        }
        if (nmax == 15)
        {
            var q = block.Slice(QsOffset, 128);
            for (var chunk = 0; chunk < 4; chunk++)
                for (var k = 0; k < 32; k++)
                    q[32 * chunk + k] = (byte)(l[64 * chunk + k] | (l[64 * chunk + k + 32] << 4));
        }
    }

    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        DotWith(SimdPath.Current, weights, activations, n);

    /// <summary>The dot product on a given path (tests force each one the CPU supports).</summary>
    internal static float DotWith(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        KQuantHelpers.CheckDot(weights, activations, n, BlockBytes, "Q4_K");
        ref var x = ref MemoryMarshal.GetReference(weights);
        ref var y = ref MemoryMarshal.GetReference(activations);
        var blocks = n / 256;
        return KQuantHelpers.Kernel(level) switch
        {
            KernelKind.Avx2 => DotAvx2(ref x, ref y, blocks),
            KernelKind.Vector256 => DotPortable(true, ref x, ref y, blocks),
            KernelKind.Vector128 => DotPortable(false, ref x, ref y, blocks),
            _ => DotScalar(ref x, ref y, blocks),
        };
    }

    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        KQuantHelpers.CheckDot(weights, activations, n, BlockBytes, "Q4_K");
        return DotScalar(ref MemoryMarshal.GetReference(weights), ref MemoryMarshal.GetReference(activations), n / 256);
    }

    /// <summary>ggml_vec_dot_q4_K_q8_K_generic, same operations in the same order (FMA where GCC contracts).</summary>
    private static float DotScalar(ref byte x, ref byte y, int blocks)
    {
        Span<float> sums = stackalloc float[8];
        Span<int> aux32 = stackalloc int[8];
        sums.Clear();
        float sumf = 0;
        for (var i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            KQuantHelpers.UnpackScaleMinK4(ref Unsafe.Add(ref xb, ScalesOffset), out var s0, out var s1, out var m0, out var m1);
            var scales = (ulong)s0 | ((ulong)s1 << 32);
            var mins = (ulong)m0 | ((ulong)m1 << 32);
            var sumi = 0;
            for (var j = 0; j < 16; j++)
                sumi += Unsafe.ReadUnaligned<short>(ref Unsafe.Add(ref yb, Q8_K.BSumsOffset + 2 * j)) * (int)((mins >> (8 * (j / 2))) & 0xFF);
            aux32.Clear();
            for (var j = 0; j < 8; j++)
            {
                var scale = (int)((scales >> (8 * j)) & 0xFF);
                for (var k = 0; k < 32; k++)
                {
                    var e = 32 * j + k;
                    var qbyte = Unsafe.Add(ref xb, QsOffset + 32 * (e / 64) + (e % 32));
                    var a = (e % 64) < 32 ? qbyte & 0xF : qbyte >> 4;
                    var q8 = (sbyte)Unsafe.Add(ref yb, Q8_K.QsOffset + e);
                    aux32[k % 8] += scale * (short)(q8 * a);
                }
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
