using Llamero.Gguf;
using Llamero.Tests.Oracle;

namespace Llamero.Tests.Quants;

/// <summary>
/// llama.cpp's row functions for every type, the float types included (ggml names those differently:
/// ggml_fp16_to_fp32_row, ggml_fp32_to_bf16_row_ref, ggml_vec_dot_f16 ...).
/// </summary>
internal static unsafe class OracleRows
{
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (type)
        {
            case GgmlType.F32:
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(src)[..dst.Length].CopyTo(dst);
                break;
            case GgmlType.F16:
            case GgmlType.BF16:
                var fn = (delegate* unmanaged<byte*, float*, long, void>)GgmlNative.Export(
                    type == GgmlType.F16 ? "ggml_fp16_to_fp32_row" : "ggml_bf16_to_fp32_row");
                fixed (byte* s = src)
                fixed (float* d = dst)
                    fn(s, d, dst.Length);
                break;
            default:
                GgmlNative.DequantizeRow(type, src, dst);
                break;
        }
    }

    public static void QuantizeReference(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        switch (type)
        {
            case GgmlType.F32:
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(src).CopyTo(dst);
                break;
            case GgmlType.F16:
            case GgmlType.BF16:
                var fn = (delegate* unmanaged<float*, byte*, long, void>)GgmlNative.Export(
                    type == GgmlType.F16 ? "ggml_fp32_to_fp16_row" : "ggml_fp32_to_bf16_row_ref");
                fixed (float* s = src)
                fixed (byte* d = dst)
                    fn(s, d, src.Length);
                break;
            default:
                GgmlNative.QuantizeRowReference(type, src, dst);
                break;
        }
    }

    /// <summary>ggml's scalar dot (the <c>_generic</c> twin) for block types; for float types ggml has no scalar
    /// export, so this is the SIMD function of the loaded (AVX2) build.</summary>
    public static float Dot(GgmlType type, GgmlType partner, ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n)
    {
        if (type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
            return GgmlNative.VecDot(type, partner, w, a, n, generic: true);
        var fn = (delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void>)GgmlNative.Export(
            "ggml_vec_dot_" + GgmlNative.FunctionSuffix(type));
        float result;
        fixed (byte* x = w)
        fixed (byte* y = a)
            fn(n, &result, 0, x, 0, y, 0, 1);
        return result;
    }
}
