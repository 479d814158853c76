using System.Runtime.InteropServices;
using Llamero.Gguf;

namespace Llamero.Kernels;

/// <summary>
/// <see cref="CacheAttention.Heads{TKey, TValue}"/> for a KV cache whose keys or values (or both) are block-quantized
/// (<see cref="KvRowCodec"/>), computed as llama.cpp's CPU flash attention computes it over such a cache: each query head
/// is quantized to the key type's dot partner (Q8_0 or Q8_1) and K·q is the integer block dot product, scaled; value
/// rows are widened to floats and summed with the softmax weights in F32. The cache is walked in blocks of
/// <see cref="CacheAttention.BlockRows"/> positions, every head of the group using a block while it is in the L1
/// cache, so a key block is decoded once for all heads and a value block widened once. An F16 or F32 side is read as
/// <see cref="CacheAttention"/> reads it (queries rounded through F16 for F16 keys, weights for F16 values).
/// llama.cpp's softmax is online (a running maximum, rescaled as it rises); this one takes the maximum first, which
/// differs only in rounding.
/// </summary>
internal static class QuantizedCacheAttention
{
    [ThreadStatic] private static byte[]? _queryBlocks;      // (heads, query row bytes) the queries in the key type's partner
    [ThreadStatic] private static float[]? _tile;            // (BlockRows, headSize) one block of rows widened to floats
    [ThreadStatic] private static float[]? _roundedQueries;  // (heads, headSize) the queries rounded through F16 (F16 keys)

    /// <summary>
    /// <paramref name="heads"/> consecutive query heads (<paramref name="queries"/>, <paramref name="headSize"/> floats
    /// each, already rotated) over positions 0..<paramref name="length"/>-1 of one KV head, whose key and value rows lie
    /// one after another from the start of <paramref name="keys"/> and <paramref name="values"/>, stored as
    /// <paramref name="keyType"/> and <paramref name="valueType"/> (F32, F16 or a type of <see cref="KvRowCodec"/>).
    /// Head g's weights go to <c>scores[g * scoresStride ..]</c>, its output to <c>output[g * headSize ..]</c>.
    /// <paramref name="finiteHalves"/> as in <see cref="CacheAttention.Heads{TKey, TValue}"/>.
    /// </summary>
    public static void Heads(ReadOnlySpan<float> queries, int heads, ReadOnlySpan<byte> keys, GgmlType keyType,
        ReadOnlySpan<byte> values, GgmlType valueType, int headSize, int length, Span<float> scores, int scoresStride, Span<float> output,
        SimdLevel level, bool finiteHalves = false)
    {
        var keyCodec = KvRowCodec.For(keyType);
        var valueCodec = KvRowCodec.For(valueType);
        var width = heads * headSize;
        if (length <= 0 || heads <= 0 || headSize <= 0 || headSize % KvRowCodec.BlockSize != 0
            || (long)length * GgmlTypes.Get(keyType).RowBytes(headSize) > keys.Length
            || (long)length * GgmlTypes.Get(valueType).RowBytes(headSize) > values.Length
            || scoresStride < length || (long)(heads - 1) * scoresStride + length > scores.Length || queries.Length < width || output.Length < width)
            throw new ArgumentException($"Attention: {heads} head(s) of {headSize} over {length} {GgmlTypes.NameOf(keyType)}/{GgmlTypes.NameOf(valueType)} positions do not fit the cache, queries, output or scratch.");

        var scale = 1f / MathF.Sqrt(headSize);
        var tile = CacheAttention.Scratch(ref _tile, CacheAttention.BlockRows * headSize);
        var q = queries[..width];

        // Scores: K·q / sqrt(headSize).
        if (keyCodec is not null)
        {
            var queryBytes = keyCodec.QueryRowBytes(headSize);
            var quantized = CacheAttention.Scratch(ref _queryBlocks, heads * queryBytes);
            keyCodec.QuantizeQueries(q, quantized);
            var rowBytes = keyCodec.RowBytes(headSize);
            for (var t0 = 0; t0 < length; t0 += CacheAttention.BlockRows)
            {
                var count = Math.Min(CacheAttention.BlockRows, length - t0);
                keyCodec.Scores(keys.Slice(t0 * rowBytes, count * rowBytes), count, quantized, heads, headSize, scale, scores[t0..], scoresStride, level);
            }
        }
        else
        {
            if (keyType == GgmlType.F16)
            {
                var rounded = CacheAttention.Scratch(ref _roundedQueries, width);
                q.CopyTo(rounded);
                HalfVectorOps.RoundThroughHalf(rounded);
                q = rounded;
            }
            for (var t0 = 0; t0 < length; t0 += CacheAttention.BlockRows)
            {
                var count = Math.Min(CacheAttention.BlockRows, length - t0);
                var rows = FloatBlock(keys, keyType, t0, count, headSize, tile, finiteHalves, level);
                for (var g = 0; g < heads; g++)
                    AttentionBlocks.Scores(q.Slice(g * headSize, headSize), rows, headSize, count, scale, scores.Slice(g * scoresStride + t0, count), level);
            }
        }
        for (var g = 0; g < heads; g++)
        {
            var s = scores.Slice(g * scoresStride, length);
            Softmax.Apply(s, level);
            if (valueType == GgmlType.F16)
                HalfVectorOps.RoundThroughHalf(s);
        }

        // Output: Σ weight·V, block by block, every head per block.
        var o = output[..width];
        o.Clear();
        for (var t0 = 0; t0 < length; t0 += CacheAttention.BlockRows)
        {
            var count = Math.Min(CacheAttention.BlockRows, length - t0);
            ReadOnlySpan<float> rows;
            if (valueCodec is not null)
            {
                var rowBytes = valueCodec.RowBytes(headSize);
                valueCodec.Dequantize(values.Slice(t0 * rowBytes, count * rowBytes), tile[..(count * headSize)], level);
                rows = tile;
            }
            else
                rows = FloatBlock(values, valueType, t0, count, headSize, tile, finiteHalves, level);
            for (var g = 0; g < heads; g++)
                AttentionBlocks.WeightedSum(scores.Slice(g * scoresStride + t0, count), rows, headSize, count, o.Slice(g * headSize, headSize), level);
        }
    }

    // Rows [t0, t0+count) of an F32 or F16 side as floats, headSize apart.
    private static ReadOnlySpan<float> FloatBlock(ReadOnlySpan<byte> rows, GgmlType type, int t0, int count, int headSize, Span<float> tile,
        bool finite, SimdLevel level) =>
        type == GgmlType.F16
            ? CacheAttention.Block(MemoryMarshal.Cast<byte, ushort>(rows), t0, count, headSize, 0, headSize, tile, finite, level, out _)
            : CacheAttention.Block(MemoryMarshal.Cast<byte, float>(rows), t0, count, headSize, 0, headSize, tile, finite, level, out _);
}
