namespace Llamero.Models;

/// <summary>
/// The key/value cache of one sequence, in float: per layer, one row of <see cref="RowLength"/> floats
/// (KV heads x head size) per position, for <see cref="Capacity"/> positions. Keys are stored already rotated.
/// </summary>
internal sealed class KvCache
{
    private readonly float[][] _keys;   // (layer) -> (capacity, kvHeads * headSize)
    private readonly float[][] _values; // (layer) -> (capacity, kvHeads * headSize)

    public KvCache(int layers, int capacity, int rowLength)
    {
        var floats = (long)capacity * rowLength;
        if (floats > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity,
                $"A KV cache of {capacity} positions x {rowLength} floats per layer exceeds one array; use a smaller context.");
        Capacity = capacity;
        RowLength = rowLength;
        _keys = new float[layers][];
        _values = new float[layers][];
        for (var l = 0; l < layers; l++)
        {
            _keys[l] = new float[floats];
            _values[l] = new float[floats];
        }
    }

    /// <summary>Positions held.</summary>
    public int Capacity { get; }

    /// <summary>Floats per position and layer.</summary>
    public int RowLength { get; }

    /// <summary>Bytes held by keys and values together.</summary>
    public long ByteSize => 2L * _keys.Length * Capacity * RowLength * sizeof(float);

    /// <summary>The whole key array of <paramref name="layer"/>.</summary>
    public float[] Keys(int layer) => _keys[layer];

    /// <summary>The whole value array of <paramref name="layer"/>.</summary>
    public float[] Values(int layer) => _values[layer];

    /// <summary>Key rows <paramref name="start"/>.. of <paramref name="layer"/>.</summary>
    public Span<float> KeyRows(int layer, int start, int count) => _keys[layer].AsSpan(start * RowLength, count * RowLength);

    /// <summary>Value rows <paramref name="start"/>.. of <paramref name="layer"/>.</summary>
    public Span<float> ValueRows(int layer, int start, int count) => _values[layer].AsSpan(start * RowLength, count * RowLength);

    /// <summary>Stores <paramref name="keys"/> and <paramref name="values"/> (whole rows, already rotated) at positions
    /// <paramref name="start"/>.. of <paramref name="layer"/>.</summary>
    public void Store(int layer, int start, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        keys.CopyTo(KeyRows(layer, start, keys.Length / RowLength));
        values.CopyTo(ValueRows(layer, start, values.Length / RowLength));
    }

    /// <summary>Moves rows [from, from+count) to [to, to+count) in every layer.</summary>
    public void MoveRows(int from, int to, int count)
    {
        for (var l = 0; l < _keys.Length; l++)
        {
            KeyRows(l, from, count).CopyTo(KeyRows(l, to, count));
            ValueRows(l, from, count).CopyTo(ValueRows(l, to, count));
        }
    }
}
