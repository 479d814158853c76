using Llamero.Gguf;

namespace Llamero.Quants;

/// <summary>
/// One tensor storage format (F32, Q4_K, ...), as a static contract so generic kernels are specialised per
/// type by the JIT (<c>MatMul&lt;Q4_K&gt;</c>). Each implementation lives in one file under Quants/ with its
/// block layout, a scalar reference and its SIMD paths. Spans always hold whole blocks; <c>n</c> counts elements.
/// </summary>
public interface IQuantFormat
{
    /// <summary>The ggml type this format stores.</summary>
    static abstract GgmlType Type { get; }

    /// <summary>The type activations are quantized to before a dot product with a row of this format
    /// (ggml's <c>vec_dot_type</c>: Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for K-quants, itself for floats).</summary>
    static abstract GgmlType DotPartner { get; }

    /// <summary>Bit-exact twin of ggml's <c>dequantize_row_*</c>.</summary>
    static abstract void Dequantize(ReadOnlySpan<byte> src, Span<float> dst);

    /// <summary>Byte-exact twin of ggml's <c>quantize_row_*_ref</c> (no importance matrix).</summary>
    static abstract void Quantize(ReadOnlySpan<float> src, Span<byte> dst);

    /// <summary>Dot product of a row of this format with a row of <see cref="DotPartner"/>, fastest path the CPU
    /// (or <see cref="Kernels.SimdPath.Current"/>) allows.</summary>
    static abstract float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n);

    /// <summary>
    /// One weight row against <paramref name="count"/> activation rows of <see cref="DotPartner"/>: row i starts
    /// <c>i * activationStride</c> bytes into <paramref name="activations"/>, its result goes to
    /// <c>results[i * resultStride]</c>. Every result is bit-identical to <see cref="Dot"/> of the same two rows on
    /// the same path, so a prompt batch and a lone token agree; fast formats decode each weight block once for all
    /// rows (the prompt-processing kernel). <see cref="BatchDot.OneByOne{T}"/> is the plain fallback.
    /// </summary>
    static abstract void DotBatch(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride);

    /// <summary>The scalar specification of <see cref="Dot"/> (ggml's <c>ggml_vec_dot_*_generic</c>).</summary>
    static abstract float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n);
}
