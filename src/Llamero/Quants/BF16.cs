using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// BF16: bfloat16 (the top half of a float). Activations are rounded to BF16 too before the dot product
/// (ggml's vec_dot_type of BF16 is BF16); ggml_vec_dot_bf16 sums in float lanes, the tail in double.
/// </summary>
public readonly struct BF16 : IQuantFormat, ISimdDot, IFloatElements<ushort>
{
    /// <inheritdoc />
    public static GgmlType Type => GgmlType.BF16;

    /// <inheritdoc />
    public static GgmlType DotPartner => GgmlType.BF16;

    /// <inheritdoc />
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var h = BlockRows.Read<ushort>(src, dst.Length, 1, Type);
        for (var i = 0; i < h.Length; i++)
            dst[i] = Bf16Bits.ToFloat(h[i]);
    }

    /// <inheritdoc />
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var h = BlockRows.Write<ushort>(dst, src.Length, 1, Type);
        for (var i = 0; i < h.Length; i++)
            h[i] = Bf16Bits.FromFloat(src[i]);
    }

    /// <inheritdoc />
    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        DotOn(SimdPath.Current, weights, activations, n);

    /// <inheritdoc />
    static float ISimdDot.DotOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        DotOn(level, weights, activations, n);

    internal static float DotOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        var x = BlockRows.Read<ushort>(weights, n, 1, Type);
        var y = BlockRows.Read<ushort>(activations, n, 1, Type);
        return level switch
        {
            SimdLevel.Avx512 => FloatDot.Avx512<BF16, ushort>(x, y),
            SimdLevel.Avx2 => FloatDot.Avx2<BF16, ushort>(x, y),
            SimdLevel.Vector256 => FloatDot.OnVector256<BF16, ushort>(x, y),
            SimdLevel.Vector128 => FloatDot.OnVector128<BF16, ushort>(x, y),
            _ => FloatDot.Reference<BF16, ushort>(x, y),
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
        FloatDot.DotBatch<BF16, ushort>(level, weights, activations, activationStride, count, n, results, resultStride);

    /// <summary>ggml's scalar ggml_vec_dot_bf16: float products summed in double.</summary>
    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        FloatDot.Reference<BF16, ushort>(BlockRows.Read<ushort>(weights, n, 1, Type), BlockRows.Read<ushort>(activations, n, 1, Type));

    /// <summary>Bit-identical to ggml_vec_dot_bf16 of the AVX2 build: (c1+c3)+(c2+c4), hsum_float_8, double tail.</summary>
    static float IFloatElements<ushort>.FinishAvx2(ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, int np, in Avx2FloatSums sums) =>
        FloatDot.DoubleTail<BF16, ushort>(x, y, np, Int8Dot.HorizontalSum((sums.S0 + sums.S2) + (sums.S1 + sums.S3)));

    static Vector256<float> IFloatElements<ushort>.LoadFast256(ref ushort p, nuint i) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref p, i)), 16).AsSingle();

    static bool IFloatElements<ushort>.MayNeedExactPass => false;
    static Vector256<ushort> IFloatElements<ushort>.Track(Vector256<ushort> max, ref ushort p, nuint i) => max;
    static bool IFloatElements<ushort>.NeedsExactPass(Vector256<ushort> max) => false;

    static float IFloatElements<ushort>.ToFloat(ushort v) => Bf16Bits.ToFloat(v);

    static Vector256<float> IFloatElements<ushort>.Load256(ref ushort p, nuint i) =>
        Avx2.IsSupported
            ? Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref p, i)), 16).AsSingle()
            : (Vector256.WidenLower(Vector256.Create(Vector128.LoadUnsafe(ref p, i), default)) << 16).AsSingle();

    static Vector128<float> IFloatElements<ushort>.Load128(ref ushort p, nuint i) =>
        (Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(
            ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref p, i)))).AsUInt16()) << 16).AsSingle(); // exactly four, no over-read

    static Vector512<float> IFloatElements<ushort>.Load512(ref ushort p, nuint i) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Vector256.LoadUnsafe(ref p, i)), 16).AsSingle();
}
