using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Llamero.Gguf;

namespace Llamero.Quants;

/// <summary>
/// Q8_K block: 256 activations as int8 with one float scale and the sums of each 16 quants (292 bytes). The
/// bsums let K-quant dot products apply per-group mins and offsets without touching the quants again.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_K
{
    /// <summary>Scale: value = D · Qs[i].</summary>
    public float D;
    /// <summary>Quants in [-127, 127].</summary>
    public fixed sbyte Qs[256];
    /// <summary>Sum of Qs[16·j .. 16·j+15].</summary>
    public fixed short BSums[16];
}

/// <summary>
/// Q8_K, the activation type every K-quant is dotted with (8.0 bits per weight plus scale). Quantization follows
/// ggml's quantize_row_q8_K_ref, which the CPU backend also runs for activations.
/// </summary>
public sealed unsafe class Q8_K : IQuantFormat
{
    /// <summary>Bytes per block of 256.</summary>
    public const int BlockBytes = 292;
    internal const int QsOffset = 4;
    internal const int BSumsOffset = 260;

    public static GgmlType Type => GgmlType.Q8_K;

    /// <summary>ggml defines no dot product for Q8_K rows; Llamero pairs it with itself (exact int sums × scales).</summary>
    public static GgmlType DotPartner => GgmlType.Q8_K;

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = KQuantHelpers.CheckRow(dst.Length, src.Length, BlockBytes, "Q8_K");
        var blockSpan = MemoryMarshal.Cast<byte, BlockQ8_K>(src[..(blocks * BlockBytes)]);
        for (var i = 0; i < blocks; i++)
        {
            ref readonly var b = ref blockSpan[i];
            var y = dst.Slice(i * 256, 256);
            for (var j = 0; j < 256; j++)
                y[j] = b.D * b.Qs[j];
        }
    }

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = KQuantHelpers.CheckRow(src.Length, dst.Length, BlockBytes, "Q8_K");
        var blockSpan = MemoryMarshal.Cast<byte, BlockQ8_K>(dst[..(blocks * BlockBytes)]);
        for (var i = 0; i < blocks; i++)
            QuantizeBlock(src.Slice(i * 256, 256), ref blockSpan[i]);
    }

    private static void QuantizeBlock(ReadOnlySpan<float> x, ref BlockQ8_K y)
    {
        var amax = KQuantHelpers.AbsMax(x, out var max);
        if (amax == 0)
        {
            // ggml leaves bsums untouched here; zero them so the block is fully defined.
            y = default;
            return;
        }
        var iscale = -127f / max;
        for (var j = 0; j < 256; j++)
            y.Qs[j] = (sbyte)Math.Min(127, KQuantHelpers.NearestInt(iscale * x[j]));
        for (var j = 0; j < 16; j++)
        {
            var sum = 0;
            for (var k = 0; k < 16; k++)
                sum += y.Qs[j * 16 + k];
            y.BSums[j] = (short)sum;
        }
        y.D = 1 / iscale;
    }

    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) => DotReference(weights, activations, n);

    public static void DotBatch(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        BatchDot.OneByOne<Q8_K>(weights, activations, activationStride, count, n, results, resultStride);

    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        KQuantHelpers.CheckDot(weights, activations, n, BlockBytes, "Q8_K");
        var x = MemoryMarshal.Cast<byte, BlockQ8_K>(weights);
        var y = MemoryMarshal.Cast<byte, BlockQ8_K>(activations);
        float sum = 0;
        for (var i = 0; i < n / 256; i++)
        {
            var isum = 0;
            for (var j = 0; j < 256; j++)
                isum += x[i].Qs[j] * y[i].Qs[j];
            sum += x[i].D * y[i].D * isum;
        }
        return sum;
    }

    /// <summary>Address helper for kernels: the quant bytes of block <paramref name="block"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ref sbyte QsOf(ref byte row, nint block) =>
        ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref row, block * BlockBytes + QsOffset));
}
