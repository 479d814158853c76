namespace Llamero.Kernels;

/// <summary>
/// Causal grouped-query attention of one query head over the KV cache: scores = K·q / sqrt(headSize) over positions
/// 0..pos, softmax, output = Σ p[t]·V[t]. Query head h reads KV head h / (heads / kvHeads).
/// </summary>
public static class Attention
{
    /// <summary>
    /// One head of one query position.
    /// </summary>
    /// <param name="query">The query head (<paramref name="headSize"/> floats, already rotated).</param>
    /// <param name="keys">The key cache, one row of <paramref name="rowStride"/> floats per position; the head starts at <paramref name="headOffset"/>.</param>
    /// <param name="values">The value cache, laid out as <paramref name="keys"/>.</param>
    /// <param name="rowStride">Floats per cached position (KV heads x head size).</param>
    /// <param name="headOffset">Where the KV head starts inside a cached row.</param>
    /// <param name="headSize">Floats per head.</param>
    /// <param name="length">Positions attended to (the query's position + 1: the causal mask).</param>
    /// <param name="scores">Scratch of at least <paramref name="length"/> floats.</param>
    /// <param name="output">The head's output (<paramref name="headSize"/> floats).</param>
    public static void Head(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, ReadOnlySpan<float> values,
        int rowStride, int headOffset, int headSize, int length, Span<float> scores, Span<float> output) =>
        Head(query, keys, values, rowStride, headOffset, headSize, length, scores, output, SimdPath.Current);

    internal static void Head(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, ReadOnlySpan<float> values,
        int rowStride, int headOffset, int headSize, int length, Span<float> scores, Span<float> output, SimdLevel level)
    {
        if (scores.Length < length || query.Length < headSize || output.Length < headSize)
            throw new ArgumentException($"Attention: {length} positions of stride {rowStride} (head at {headOffset}, size {headSize}) do not fit the cache or scratch.");
        CacheAttention.Heads(query[..headSize], 1, keys, values, rowStride, headOffset, headSize, length, scores, Math.Max(length, 0), output[..headSize], level);
    }

    /// <summary>The plain specification, in double.</summary>
    internal static void Reference(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, ReadOnlySpan<float> values,
        int rowStride, int headOffset, int headSize, int length, Span<float> output)
    {
        var p = new double[length];
        var max = double.NegativeInfinity;
        for (var t = 0; t < length; t++)
        {
            var dot = 0.0;
            for (var i = 0; i < headSize; i++)
                dot += (double)query[i] * keys[t * rowStride + headOffset + i];
            p[t] = dot / Math.Sqrt(headSize);
            max = Math.Max(max, p[t]);
        }
        var sum = 0.0;
        for (var t = 0; t < length; t++)
            sum += p[t] = Math.Exp(p[t] - max);
        for (var i = 0; i < headSize; i++)
        {
            var acc = 0.0;
            for (var t = 0; t < length; t++)
                acc += p[t] / sum * values[t * rowStride + headOffset + i];
            output[i] = (float)acc;
        }
    }
}
