using System.Runtime.InteropServices;

namespace Llamero.Kernels;

/// <summary>
/// <see cref="Attention.Head(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, int, Span{float}, Span{float})"/>
/// over a KV cache whose keys and/or values are F16 (<c>ushort</c> bits; <c>float</c> for an F32 side). It rounds
/// what llama.cpp rounds with such a cache (flash attention off): the query to F16 before K·q when keys are F16, the
/// softmax weights to F16 before the weighted sum when values are F16 (ggml converts a matmul's second operand to
/// the F16 weights' vec_dot_type). Products of two halves are exact in float, so what remains is summation order.
/// </summary>
internal static class HalfCacheAttention
{
    // Query heads up to this size use a stack scratch for the rounded query.
    private const int StackHeadSize = 512;

    /// <summary>One head of one query position; <typeparamref name="TKey"/> and <typeparamref name="TValue"/> are
    /// <c>ushort</c> (F16) or <c>float</c> (F32). Arguments as in <see cref="Attention.Head(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, int, Span{float}, Span{float})"/>.</summary>
    public static void Head<TKey, TValue>(ReadOnlySpan<float> query, ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values,
        int rowStride, int headOffset, int headSize, int length, Span<float> scores, Span<float> output, SimdLevel level)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        if (typeof(TKey) != typeof(ushort) && typeof(TKey) != typeof(float) || typeof(TValue) != typeof(ushort) && typeof(TValue) != typeof(float))
            throw new NotSupportedException($"KV cache elements must be float or ushort (F16), not {typeof(TKey).Name}/{typeof(TValue).Name}.");
        if (typeof(TKey) == typeof(float) && typeof(TValue) == typeof(float))
        {
            Attention.Head(query, MemoryMarshal.Cast<TKey, float>(keys), MemoryMarshal.Cast<TValue, float>(values),
                rowStride, headOffset, headSize, length, scores, output, level);
            return;
        }
        if (length <= 0 || (long)(length - 1) * rowStride + headOffset + headSize > Math.Min(keys.Length, values.Length)
            || scores.Length < length || query.Length < headSize || output.Length < headSize)
            throw new ArgumentException($"Attention: {length} positions of stride {rowStride} (head at {headOffset}, size {headSize}) do not fit the cache or scratch.");

        var scale = 1f / MathF.Sqrt(headSize);
        var s = scores[..length];
        if (typeof(TKey) == typeof(ushort))
        {
            var q = headSize <= StackHeadSize ? stackalloc float[headSize] : new float[headSize];
            query[..headSize].CopyTo(q);
            HalfVectorOps.RoundThroughHalf(q);
            var k = MemoryMarshal.Cast<TKey, ushort>(keys);
            for (var t = 0; t < length; t++)
                s[t] = HalfVectorOps.Dot(q, k.Slice(t * rowStride + headOffset, headSize), level) * scale;
        }
        else
        {
            var k = MemoryMarshal.Cast<TKey, float>(keys);
            for (var t = 0; t < length; t++)
                s[t] = VectorOps.Dot(query[..headSize], k.Slice(t * rowStride + headOffset, headSize), level) * scale;
        }
        Softmax.Apply(s, level);

        var o = output[..headSize];
        o.Clear();
        if (typeof(TValue) == typeof(ushort))
        {
            HalfVectorOps.RoundThroughHalf(s);
            var v = MemoryMarshal.Cast<TValue, ushort>(values);
            for (var t = 0; t < length; t++)
                HalfVectorOps.MultiplyAdd(v.Slice(t * rowStride + headOffset, headSize), s[t], o, level);
        }
        else
        {
            var v = MemoryMarshal.Cast<TValue, float>(values);
            for (var t = 0; t < length; t++)
                VectorOps.MultiplyAdd(v.Slice(t * rowStride + headOffset, headSize), s[t], o, level);
        }
    }
}
