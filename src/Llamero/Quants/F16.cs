using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// F16: IEEE half precision. Activations are rounded to F16 too before the dot product (ggml's vec_dot_type
/// of F16 is F16), products summed in float lanes, the tail in double (ggml_vec_dot_f16).
/// </summary>
public readonly struct F16 : IQuantFormat, ISimdDot, IFloatElements<ushort>
{
    /// <inheritdoc />
    public static GgmlType Type => GgmlType.F16;

    /// <inheritdoc />
    public static GgmlType DotPartner => GgmlType.F16;

    /// <inheritdoc />
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) =>
        Fp16.ToSingle(BlockRows.Read<ushort>(src, dst.Length, 1, Type), dst);

    /// <inheritdoc />
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) =>
        Fp16.FromSingle(src, BlockRows.Write<ushort>(dst, src.Length, 1, Type));

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
            SimdLevel.Avx512 => FloatDot.Avx512<F16, ushort>(x, y),
            SimdLevel.Avx2 => FloatDot.Avx2<F16, ushort>(x, y),
            SimdLevel.Vector256 => FloatDot.OnVector256<F16, ushort>(x, y),
            SimdLevel.Vector128 => FloatDot.OnVector128<F16, ushort>(x, y),
            _ => FloatDot.Reference<F16, ushort>(x, y),
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
        FloatDot.DotBatch<F16, ushort>(level, weights, activations, activationStride, count, n, results, resultStride);

    /// <summary>ggml's scalar ggml_vec_dot_f16: float products summed in double.</summary>
    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        FloatDot.Reference<F16, ushort>(BlockRows.Read<ushort>(weights, n, 1, Type), BlockRows.Read<ushort>(activations, n, 1, Type));

    /// <summary>Bit-identical to ggml_vec_dot_f16 of the AVX2 build.</summary>
    static float IFloatElements<ushort>.FinishAvx2(ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> y, int np, in Avx2FloatSums sums) =>
        FloatDot.DoubleTail<F16, ushort>(x, y, np, FloatDot.HaddReduce(sums.S0, sums.S1, sums.S2, sums.S3));

    static Vector256<float> IFloatElements<ushort>.LoadFast256(ref ushort p, nuint i) =>
        Fp16.ToFloatFinite(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.As<ushort, short>(ref p), i)));

    static bool IFloatElements<ushort>.MayNeedExactPass => true;
    static Vector256<ushort> IFloatElements<ushort>.Track(Vector256<ushort> max, ref ushort p, nuint i) =>
        Fp16.MaxMagnitude(max, Vector256.LoadUnsafe(ref p, i));
    static bool IFloatElements<ushort>.NeedsExactPass(Vector256<ushort> max) => Fp16.SawInfinityOrNaN(max);

    static float IFloatElements<ushort>.ToFloat(ushort v) => Fp16.ToFloat(v);

    static Vector256<float> IFloatElements<ushort>.Load256(ref ushort p, nuint i) =>
        Avx2.IsSupported
            ? Fp16.ToFloat(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref p, i)).AsUInt32())
            : Fp16.ToFloat(Vector256.WidenLower(Vector256.Create(Vector128.LoadUnsafe(ref p, i), default)));

    static Vector128<float> IFloatElements<ushort>.Load128(ref ushort p, nuint i) =>
        Fp16.ToFloat(Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(
            ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref p, i)))).AsUInt16())); // exactly four halves, no over-read

    static Vector512<float> IFloatElements<ushort>.Load512(ref ushort p, nuint i) =>
        Vector512.Create(Fp16.ToFloat(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref p, i)).AsUInt32()),
            Fp16.ToFloat(Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref p, i + 8)).AsUInt32()));
}
