using System.Runtime.InteropServices;
using Llamero.Quants;

namespace Llamero.Kernels;

/// <summary>
/// Causal attention of the query heads that share one KV head (grouped-query attention) over a KV cache whose keys and
/// values are each F32 (<c>float</c>) or F16 (<c>ushort</c> bits). The cache is walked in blocks of
/// <see cref="BlockRows"/> positions: every head of the group uses a block while it is in the L1 cache, and an F16
/// block is widened to floats once for the whole group (the widening is exact), so an F16 cache costs about what an
/// F32 one does while reading half the bytes. It rounds what llama.cpp rounds with such a cache (flash attention
/// off): the queries to F16 before K·q when keys are F16, the softmax weights to F16 before the weighted sum when
/// values are F16 (ggml converts a matmul's second operand to the F16 weights' vec_dot_type). Products of two halves
/// are exact in float, so what remains is summation order.
/// </summary>
internal static class CacheAttention
{
    /// <summary>Cached positions per block (a block of 128-float heads is 16 KiB of floats).</summary>
    public const int BlockRows = 32;

    [ThreadStatic] private static float[]? _tile;            // (BlockRows, headSize) one block of F16 rows, widened
    [ThreadStatic] private static float[]? _roundedQueries;  // (heads, headSize) the queries rounded through F16

    /// <summary>
    /// <paramref name="heads"/> consecutive query heads of one query position, all reading the KV head that starts at
    /// <paramref name="headOffset"/> of each cached row, over positions 0..<paramref name="length"/>-1.
    /// </summary>
    /// <param name="queries">The query heads, <paramref name="headSize"/> floats each, one after another (already rotated).</param>
    /// <param name="heads">Query heads in <paramref name="queries"/>.</param>
    /// <param name="keys">The key cache of one layer, one row of <paramref name="rowStride"/> elements per position.</param>
    /// <param name="values">The value cache, laid out as <paramref name="keys"/>.</param>
    /// <param name="rowStride">Elements per cached position (KV heads x head size).</param>
    /// <param name="headOffset">Where the KV head starts inside a cached row.</param>
    /// <param name="headSize">Elements per head.</param>
    /// <param name="length">Positions attended to (the query's position + 1: the causal mask).</param>
    /// <param name="scores">Scratch: head g's weights at <c>g * scoresStride</c>, <paramref name="length"/> floats each.</param>
    /// <param name="scoresStride">Floats between two heads' rows of <paramref name="scores"/> (at least <paramref name="length"/>).</param>
    /// <param name="output">The heads' outputs, <paramref name="headSize"/> floats each, one after another.</param>
    /// <param name="level">The SIMD path.</param>
    /// <param name="finiteHalves">The caller knows no F16 element of the cache is infinite or NaN (KvCache checks what it
    /// stores): F16 blocks then widen by the short path (<see cref="HalfVectorOps.WidenFinite"/>).</param>
    public static void Heads<TKey, TValue>(ReadOnlySpan<float> queries, int heads, ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values,
        int rowStride, int headOffset, int headSize, int length, Span<float> scores, int scoresStride, Span<float> output, SimdLevel level,
        bool finiteHalves = false)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        if (typeof(TKey) != typeof(ushort) && typeof(TKey) != typeof(float) || typeof(TValue) != typeof(ushort) && typeof(TValue) != typeof(float))
            throw new NotSupportedException($"KV cache elements must be float or ushort (F16), not {typeof(TKey).Name}/{typeof(TValue).Name}.");
        var width = heads * headSize;
        if (length <= 0 || heads <= 0 || headSize <= 0 || headOffset < 0
            || (long)(length - 1) * rowStride + headOffset + headSize > Math.Min(keys.Length, values.Length)
            || scoresStride < length || (long)(heads - 1) * scoresStride + length > scores.Length || queries.Length < width || output.Length < width)
            throw new ArgumentException($"Attention: {heads} head(s) over {length} positions of stride {rowStride} (head at {headOffset}, size {headSize}) do not fit the cache, queries, output or scratch.");

        var scale = 1f / MathF.Sqrt(headSize);
        var q = queries[..width];
        if (typeof(TKey) == typeof(ushort))
        {
            var rounded = Scratch(ref _roundedQueries, width);
            q.CopyTo(rounded);
            HalfVectorOps.RoundThroughHalf(rounded);
            q = rounded;
        }
        var tile = typeof(TKey) == typeof(ushort) || typeof(TValue) == typeof(ushort) ? Scratch(ref _tile, BlockRows * headSize) : default;

        // Scores: K·q / sqrt(headSize), block by block, every head per block.
        for (var t0 = 0; t0 < length; t0 += BlockRows)
        {
            var count = Math.Min(BlockRows, length - t0);
            var rows = Block(keys, t0, count, rowStride, headOffset, headSize, tile, finiteHalves, level, out var stride);
            for (var g = 0; g < heads; g++)
                AttentionBlocks.Scores(q.Slice(g * headSize, headSize), rows, stride, count, scale, scores.Slice(g * scoresStride + t0, count), level);
        }
        for (var g = 0; g < heads; g++)
        {
            var s = scores.Slice(g * scoresStride, length);
            Softmax.Apply(s, level);
            if (typeof(TValue) == typeof(ushort))
                HalfVectorOps.RoundThroughHalf(s);
        }

        // Output: Σ weight·V, block by block, every head per block.
        var o = output[..width];
        o.Clear();
        for (var t0 = 0; t0 < length; t0 += BlockRows)
        {
            var count = Math.Min(BlockRows, length - t0);
            var rows = Block(values, t0, count, rowStride, headOffset, headSize, tile, finiteHalves, level, out var stride);
            for (var g = 0; g < heads; g++)
                AttentionBlocks.WeightedSum(scores.Slice(g * scoresStride + t0, count), rows, stride, count, o.Slice(g * headSize, headSize), level);
        }
    }

    /// <summary>The head's rows [t0, t0+count) as floats: the F32 cache itself (stride rowStride), or an F16 block
    /// widened into the tile (stride headSize).</summary>
    internal static ReadOnlySpan<float> Block<T>(ReadOnlySpan<T> cache, int t0, int count, int rowStride, int headOffset, int headSize,
        Span<float> tile, bool finite, SimdLevel level, out int stride)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            stride = rowStride;
            return MemoryMarshal.Cast<T, float>(cache)[(t0 * rowStride + headOffset)..];
        }
        var halves = MemoryMarshal.Cast<T, ushort>(cache);
        if (rowStride == headSize && finite)
            HalfVectorOps.WidenFinite(halves.Slice(t0 * rowStride + headOffset, count * headSize), tile[..(count * headSize)], level);
        else if (rowStride == headSize)
            Fp16.ToSingle(halves.Slice(t0 * rowStride + headOffset, count * headSize), tile[..(count * headSize)]);
        else
        {
            for (var t = 0; t < count; t++)
                Fp16.ToSingle(halves.Slice((t0 + t) * rowStride + headOffset, headSize), tile.Slice(t * headSize, headSize));
        }
        stride = headSize;
        return tile;
    }

    /// <summary>A thread's scratch buffer of at least <paramref name="length"/> elements (grown, never shrunk).</summary>
    internal static Span<T> Scratch<T>(ref T[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length)
            buffer = new T[length];
        return buffer.AsSpan(0, length);
    }
}
