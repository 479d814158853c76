using Llamero.Kernels;
using Llamero.Quants;

namespace Llamero.Models;

/// <summary>
/// The key/value cache of one sequence: per layer, one row of <see cref="RowLength"/> elements (KV heads x head size)
/// per position, for <see cref="Capacity"/> positions, keys and values each in F32 or F16 (<see cref="Types"/>).
/// Keys are stored already rotated. F16 rows are rounded to nearest even on the way in, as ggml's copy into an F16
/// cache rounds them, and attention reads them through <see cref="CacheAttention"/>.
/// </summary>
internal sealed class KvCache
{
    private readonly Side _keys;
    private readonly Side _values;

    public KvCache(int layers, int capacity, int rowLength, KvCacheOptions? types = null)
    {
        var elements = (long)capacity * rowLength;
        if (elements > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity,
                $"A KV cache of {capacity} positions x {rowLength} elements per layer exceeds one array; use a smaller context.");
        Types = types ?? KvCacheOptions.Default;
        Capacity = capacity;
        RowLength = rowLength;
        _keys = new Side(Types.Keys, layers, (int)elements);
        _values = new Side(Types.Values, layers, (int)elements);
    }

    /// <summary>How keys and values are stored.</summary>
    public KvCacheOptions Types { get; }

    /// <summary>Positions held.</summary>
    public int Capacity { get; }

    /// <summary>Elements per position and layer.</summary>
    public int RowLength { get; }

    /// <summary>Bytes held by keys and values together.</summary>
    public long ByteSize => (long)_keys.Layers * Capacity * RowLength *
        (KvCacheOptions.BytesPerElement(Types.Keys) + KvCacheOptions.BytesPerElement(Types.Values));

    /// <summary>Stores <paramref name="keys"/> and <paramref name="values"/> (whole rows, already rotated) at positions
    /// <paramref name="start"/>.. of <paramref name="layer"/>, rounded to the cache's types.</summary>
    public void Store(int layer, int start, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        _keys.Write(layer, start * RowLength, keys);
        _values.Write(layer, start * RowLength, values);
    }

    /// <summary>Reads the key row at <paramref name="position"/> of <paramref name="layer"/> as floats.</summary>
    public void ReadKeys(int layer, int position, Span<float> row) => _keys.Read(layer, position * RowLength, row[..RowLength]);

    /// <summary>Overwrites the key row at <paramref name="position"/> of <paramref name="layer"/> (rounded to the key type).</summary>
    public void WriteKeys(int layer, int position, ReadOnlySpan<float> row) => _keys.Write(layer, position * RowLength, row[..RowLength]);

    /// <summary>Reads the value row at <paramref name="position"/> of <paramref name="layer"/> as floats.</summary>
    public void ReadValues(int layer, int position, Span<float> row) => _values.Read(layer, position * RowLength, row[..RowLength]);

    /// <summary>Moves rows [from, from+count) to [to, to+count) in every layer.</summary>
    public void MoveRows(int from, int to, int count)
    {
        _keys.Move(from * RowLength, to * RowLength, count * RowLength);
        _values.Move(from * RowLength, to * RowLength, count * RowLength);
    }

    /// <summary>
    /// Causal attention of <paramref name="heads"/> consecutive query heads (<paramref name="queries"/>) that share the
    /// KV head starting at <paramref name="headOffset"/> of each row, over positions 0..<paramref name="length"/>-1 of
    /// <paramref name="layer"/> (see <see cref="CacheAttention.Heads"/>; head g's weights go to
    /// <c>scores[g * scoresStride ..]</c>, its output to <c>output[g * headSize ..]</c>).
    /// </summary>
    public void Attend(int layer, ReadOnlySpan<float> queries, int heads, int headOffset, int headSize, int length,
        Span<float> scores, int scoresStride, Span<float> output)
    {
        var level = SimdPath.Current;
        switch (_keys.Floats, _values.Floats)
        {
            case ({ } k, { } v):
                CacheAttention.Heads<float, float>(queries, heads, k[layer], v[layer], RowLength, headOffset, headSize, length, scores, scoresStride, output, level);
                break;
            case ({ } k, null):
                CacheAttention.Heads<float, ushort>(queries, heads, k[layer], _values.Halves![layer], RowLength, headOffset, headSize, length, scores, scoresStride, output, level);
                break;
            case (null, { } v):
                CacheAttention.Heads<ushort, float>(queries, heads, _keys.Halves![layer], v[layer], RowLength, headOffset, headSize, length, scores, scoresStride, output, level);
                break;
            default:
                CacheAttention.Heads<ushort, ushort>(queries, heads, _keys.Halves![layer], _values.Halves![layer], RowLength, headOffset, headSize, length, scores, scoresStride, output, level);
                break;
        }
    }

    // The keys or the values of every layer: float rows for F32, half bits for F16.
    private sealed class Side
    {
        public readonly float[][]? Floats;   // (layer) -> (capacity, rowLength) when F32
        public readonly ushort[][]? Halves;  // (layer) -> (capacity, rowLength) when F16

        public Side(KvCacheType type, int layers, int elements)
        {
            Layers = layers;
            if (type == KvCacheType.F16)
            {
                Halves = new ushort[layers][];
                for (var l = 0; l < layers; l++)
                    Halves[l] = new ushort[elements];
            }
            else
            {
                Floats = new float[layers][];
                for (var l = 0; l < layers; l++)
                    Floats[l] = new float[elements];
            }
        }

        public int Layers { get; }

        public void Write(int layer, int offset, ReadOnlySpan<float> rows)
        {
            if (Floats is not null)
                rows.CopyTo(Floats[layer].AsSpan(offset, rows.Length));
            else
                Fp16.FromSingle(rows, Halves![layer].AsSpan(offset, rows.Length));
        }

        public void Read(int layer, int offset, Span<float> rows)
        {
            if (Floats is not null)
                Floats[layer].AsSpan(offset, rows.Length).CopyTo(rows);
            else
                Fp16.ToSingle(Halves![layer].AsSpan(offset, rows.Length), rows);
        }

        public void Move(int from, int to, int count)
        {
            for (var l = 0; l < Layers; l++)
            {
                if (Floats is not null)
                    Floats[l].AsSpan(from, count).CopyTo(Floats[l].AsSpan(to, count));
                else
                    Halves![l].AsSpan(from, count).CopyTo(Halves[l].AsSpan(to, count));
            }
        }
    }
}
