using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>F32: plain IEEE singles. Dotted with F32 activations (ggml_vec_dot_f32).</summary>
public readonly struct F32 : IQuantFormat, ISimdDot, IFloatElements<float>
{
    /// <inheritdoc />
    public static GgmlType Type => GgmlType.F32;

    /// <inheritdoc />
    public static GgmlType DotPartner => GgmlType.F32;

    /// <inheritdoc />
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) =>
        BlockRows.Read<float>(src, dst.Length, 1, Type).CopyTo(dst);

    /// <inheritdoc />
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) =>
        src.CopyTo(BlockRows.Write<float>(dst, src.Length, 1, Type));

    /// <inheritdoc />
    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        DotOn(SimdPath.Current, weights, activations, n);

    /// <inheritdoc />
    static float ISimdDot.DotOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        DotOn(level, weights, activations, n);

    internal static float DotOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        var x = BlockRows.Read<float>(weights, n, 1, Type);
        var y = BlockRows.Read<float>(activations, n, 1, Type);
        return level switch
        {
            SimdLevel.Avx512 => FloatDot.Avx512<F32, float>(x, y),
            SimdLevel.Avx2 => FloatDot.Avx2<F32, float>(x, y),
            SimdLevel.Vector256 => FloatDot.OnVector256<F32, float>(x, y),
            SimdLevel.Vector128 => FloatDot.OnVector128<F32, float>(x, y),
            _ => FloatDot.Reference<F32, float>(x, y),
        };
    }

    /// <inheritdoc />
    public static void DotBatch(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        DotBatchOn(SimdPath.Current, weights, activations, activationStride, count, n, results, resultStride);

    /// <inheritdoc />
    static void ISimdDot.DotBatchOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride,
        int count, int n, Span<float> results, int resultStride) =>
        DotBatchOn(level, weights, activations, activationStride, count, n, results, resultStride);

    internal static void DotBatchOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride,
        int count, int n, Span<float> results, int resultStride) =>
        FloatDot.DotBatch<F32, float>(level, weights, activations, activationStride, count, n, results, resultStride);

    /// <summary>ggml's scalar ggml_vec_dot_f32: float products summed in double.</summary>
    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        FloatDot.Reference<F32, float>(BlockRows.Read<float>(weights, n, 1, Type), BlockRows.Read<float>(activations, n, 1, Type));

    /// <summary>Bit-identical to ggml_vec_dot_f32 of the AVX2 build.</summary>
    static float IFloatElements<float>.FinishAvx2(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int np, in Avx2FloatSums sums)
    {
        var sumf = FloatDot.HaddReduce(sums.S0, sums.S1, sums.S2, sums.S3);
        // The leftovers as GCC compiled them: vectorised products (no FMA) added in order for every whole
        // group of four, then fused multiply-adds for the last one to three elements; the sum stays a float.
        var plainEnd = np + ((x.Length - np) & ~3);
        var i = np;
        for (; i < plainEnd; i++)
        {
            var p = x[i] * y[i];
            sumf += p;
        }
        for (; i < x.Length; i++)
            sumf = MathF.FusedMultiplyAdd(x[i], y[i], sumf);
        return sumf;
    }

    static Vector256<float> IFloatElements<float>.LoadFast256(ref float p, nuint i) => Vector256.LoadUnsafe(ref p, i);
    static bool IFloatElements<float>.MayNeedExactPass => false;
    static Vector256<ushort> IFloatElements<float>.Track(Vector256<ushort> max, ref float p, nuint i) => max;
    static bool IFloatElements<float>.NeedsExactPass(Vector256<ushort> max) => false;

    static float IFloatElements<float>.ToFloat(float v) => v;
    static Vector256<float> IFloatElements<float>.Load256(ref float p, nuint i) => Vector256.LoadUnsafe(ref p, i);
    static Vector128<float> IFloatElements<float>.Load128(ref float p, nuint i) => Vector128.LoadUnsafe(ref p, i);
    static Vector512<float> IFloatElements<float>.Load512(ref float p, nuint i) => Vector512.LoadUnsafe(ref p, i);
}
