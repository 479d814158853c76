using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Llamero.Gguf;
using Llamero.Kernels;

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

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) => QuantizeWith(SimdPath.Current, src, dst);

    /// <summary><see cref="Quantize"/> on a given path (every path gives the same bytes; tests run each).</summary>
    internal static void QuantizeWith(SimdLevel level, ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = KQuantHelpers.CheckRow(src.Length, dst.Length, BlockBytes, "Q8_K");
        var blockSpan = MemoryMarshal.Cast<byte, BlockQ8_K>(dst[..(blocks * BlockBytes)]);
        var vector = Vector256.IsHardwareAccelerated && level >= SimdLevel.Vector256;
        for (var i = 0; i < blocks; i++)
        {
            if (vector)
                QuantizeBlockVector(src.Slice(i * 256, 256), ref blockSpan[i]);
            else
                QuantizeBlock(src.Slice(i * 256, 256), ref blockSpan[i]);
        }
    }

    /// <summary>
    /// <see cref="QuantizeBlock"/> eight floats at a time, byte-identical (it quantizes every activation row of a
    /// matmul, ~8% of a token when scalar): the same max (first element of largest magnitude; NaN ignored), the
    /// same float multiply and round-to-nearest trick per element, exact integer group sums.
    /// </summary>
    private static void QuantizeBlockVector(ReadOnlySpan<float> x, ref BlockQ8_K y)
    {
        ref var x0 = ref MemoryMarshal.GetReference(x[..256]);
        var largest = Vector256<float>.Zero;
        for (nuint i = 0; i < 256; i += 8)
            largest = Vector256.MaxNumber(Vector256.Abs(Vector256.LoadUnsafe(ref x0, i)), largest);
        var amax = 0f;
        for (var lane = 0; lane < 8; lane++)
            amax = Math.Max(amax, largest.GetElement(lane));
        if (amax == 0)
        {
            y = default;
            return;
        }
        float max = 0;
        for (nuint i = 0; i < 256; i += 8)
        {
            var hits = Vector256.Equals(Vector256.Abs(Vector256.LoadUnsafe(ref x0, i)), Vector256.Create(amax)).ExtractMostSignificantBits();
            if (hits != 0)
            {
                max = Unsafe.Add(ref x0, i + (nuint)BitOperations.TrailingZeroCount(hits));
                break;
            }
        }
        var iscale = -127f / max;
        var scale = Vector256.Create(iscale);
        ref var qs = ref Unsafe.As<sbyte, byte>(ref y.Qs[0]);
        for (var g = 0; g < 16; g++)
        {
            var a = NearestInts(scale * Vector256.LoadUnsafe(ref x0, (nuint)(16 * g)));
            var b = NearestInts(scale * Vector256.LoadUnsafe(ref x0, (nuint)(16 * g + 8)));
            var words = Vector256.Narrow(a, b);
            Vector128.Narrow(words.GetLower(), words.GetUpper()).AsByte().StoreUnsafe(ref qs, (nuint)(16 * g));
            // Sum the stored bytes (sign-extended low 8 bits), as the reference does even for NaN inputs.
            y.BSums[g] = (short)Vector256.Sum(Vector256.ShiftRightArithmetic(Vector256.ShiftLeft(a, 24), 24)
                                             + Vector256.ShiftRightArithmetic(Vector256.ShiftLeft(b, 24), 24));
        }
        y.D = 1 / iscale;
    }

    /// <summary><see cref="KQuantHelpers.NearestInt"/> of eight floats, capped at 127 as the quantizer does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> NearestInts(Vector256<float> v)
    {
        var biased = (v + Vector256.Create(12582912f)).AsInt32();
        return Vector256.Min((biased & Vector256.Create(0x007fffff)) - Vector256.Create(0x00400000), Vector256.Create(127));
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
