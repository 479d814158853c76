using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;

namespace Llamero.Models;

/// <summary>
/// The key/value cache of one sequence: per layer, for <see cref="Capacity"/> positions, a row of
/// <see cref="RowLength"/> elements (<see cref="KvHeads"/> heads x head size) per position, keys and values each in F32
/// or F16 or ggml's quantized blocks (<see cref="Types"/>). Rows go in and come out whole, but each KV head is stored apart, its positions one
/// after another (layer → head → position → element): attention reads one head's positions as one contiguous run, which
/// the hardware prefetcher streams and the L1 cache holds without the set conflicts of a 4 KiB row stride.
/// Keys are stored already rotated. F16 rows are rounded to nearest even on the way in, as ggml's copy into an F16
/// cache rounds them, and attention reads them through <see cref="CacheAttention"/>. Block-quantized rows (Q8_0, Q4_0, ...)
/// are each head's elements in whole blocks of 32, the bytes llama.cpp's CPU backend stores (<see cref="KvRowCodec"/>),
/// and attention over them is <see cref="QuantizedCacheAttention"/>.
/// </summary>
internal sealed class KvCache
{
    private readonly Side _keys;
    private readonly Side _values;
    private readonly int _keyRotation;    // Hadamard block of keys and queries (0: none), see KvCacheOptions.HadamardRotation
    private readonly int _valueRotation;  // Hadamard block of values and the attention output (0: none)

    [ThreadStatic] private static float[]? _rotatedRow;      // (rowLength) a row on its way in or out, rotated
    [ThreadStatic] private static float[]? _rotatedQueries;  // (heads, headSize) the queries of one Attend, rotated

    public KvCache(int layers, int capacity, int rowLength, KvCacheOptions? types = null, int kvHeads = 1)
    {
        if (kvHeads < 1 || rowLength % kvHeads != 0)
            throw new ArgumentOutOfRangeException(nameof(kvHeads), kvHeads, $"A KV cache row of {rowLength} elements does not split into {kvHeads} heads.");
        Types = types ?? KvCacheOptions.Default;
        Types.CheckHeadSize(rowLength / kvHeads);
        var elements = (long)capacity * rowLength;
        // Q8_0 rows take more bytes than elements (34 per 32): the byte arrays must fit too.
        if (elements > Array.MaxLength || KvCacheOptions.RowBytes(Types.Keys, elements) > Array.MaxLength
            || KvCacheOptions.RowBytes(Types.Values, elements) > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity,
                $"A KV cache of {capacity} positions x {rowLength} elements per layer exceeds one array; use a smaller context.");
        Capacity = capacity;
        RowLength = rowLength;
        KvHeads = kvHeads;
        HeadSize = rowLength / kvHeads;
        _keys = new Side(Types.Keys, layers, (int)elements);
        _values = new Side(Types.Values, layers, (int)elements);
        if (Types.HadamardRotation)
        {
            _keyRotation = KvCacheOptions.IsQuantized(Types.Keys) ? Hadamard.KeyRotation(HeadSize) : 0;
            _valueRotation = KvCacheOptions.IsQuantized(Types.Values) ? Hadamard.ValueRotation(HeadSize) : 0;
        }
    }

    /// <summary>How keys and values are stored.</summary>
    public KvCacheOptions Types { get; }

    /// <summary>Positions held.</summary>
    public int Capacity { get; }

    /// <summary>Elements per position and layer.</summary>
    public int RowLength { get; }

    /// <summary>KV heads per row.</summary>
    public int KvHeads { get; }

    /// <summary>Elements per head.</summary>
    public int HeadSize { get; }

    /// <summary>Bytes held by keys and values together.</summary>
    public long ByteSize => Capacity * BytesPerPosition;

    /// <summary>Bytes one position takes, keys and values of every layer.</summary>
    public long BytesPerPosition => Types.BytesPerPosition(_keys.Layers, RowLength, RowLength);

    /// <summary>Stores <paramref name="keys"/> and <paramref name="values"/> (whole rows, already rotated) at positions
    /// <paramref name="start"/>.. of <paramref name="layer"/>, rounded to the cache's types.</summary>
    public void Store(int layer, int start, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        for (int p = 0, rows = keys.Length / RowLength; p < rows; p++)
            WriteRow(_keys, _keyRotation, layer, start + p, keys.Slice(p * RowLength, RowLength));
        for (int p = 0, rows = values.Length / RowLength; p < rows; p++)
            WriteRow(_values, _valueRotation, layer, start + p, values.Slice(p * RowLength, RowLength));
    }

    /// <summary>Reads the key row at <paramref name="position"/> of <paramref name="layer"/> as floats.</summary>
    public void ReadKeys(int layer, int position, Span<float> row) => ReadRow(_keys, _keyRotation, layer, position, row);

    /// <summary>Overwrites the key row at <paramref name="position"/> of <paramref name="layer"/> (rounded to the key type).</summary>
    public void WriteKeys(int layer, int position, ReadOnlySpan<float> row) => WriteRow(_keys, _keyRotation, layer, position, row);

    /// <summary>Reads the value row at <paramref name="position"/> of <paramref name="layer"/> as floats.</summary>
    public void ReadValues(int layer, int position, Span<float> row) => ReadRow(_values, _valueRotation, layer, position, row);

    /// <summary>The stored bytes of KV head <paramref name="head"/>'s key (or value) row at <paramref name="position"/>
    /// of <paramref name="layer"/>: F32, F16 bits or the quantized blocks.</summary>
    internal ReadOnlySpan<byte> StoredBytes(bool values, int layer, int head, int position) =>
        (values ? _values : _keys).Bytes(layer, Offset(head, position))[..(int)KvCacheOptions.RowBytes(values ? Types.Values : Types.Keys, HeadSize)];

    /// <summary>Moves rows [from, from+count) to [to, to+count) in every layer.</summary>
    public void MoveRows(int from, int to, int count)
    {
        for (var h = 0; h < KvHeads; h++)
        {
            _keys.Move(Offset(h, from), Offset(h, to), count * HeadSize);
            _values.Move(Offset(h, from), Offset(h, to), count * HeadSize);
        }
    }

    /// <summary>
    /// Causal attention of <paramref name="heads"/> consecutive query heads (<paramref name="queries"/>) that share KV
    /// head <paramref name="kvHead"/>, over positions 0..<paramref name="length"/>-1 of <paramref name="layer"/> (see
    /// <see cref="CacheAttention.Heads"/>; head g's weights go to <c>scores[g * scoresStride ..]</c>, its output to
    /// <c>output[g * HeadSize ..]</c>).
    /// </summary>
    public void Attend(int layer, ReadOnlySpan<float> queries, int heads, int kvHead, int length,
        Span<float> scores, int scoresStride, Span<float> output)
    {
        if ((uint)kvHead >= (uint)KvHeads)
            throw new ArgumentOutOfRangeException(nameof(kvHead), kvHead, $"The cache holds {KvHeads} KV heads.");
        var level = SimdPath.Current;
        int hs = HeadSize, offset = Offset(kvHead, 0);
        var finite = !_keys.SawInfinityOrNaN(layer) && !_values.SawInfinityOrNaN(layer);
        if (_keys.Codec is not null || _values.Codec is not null)
        {
            var width = heads * hs;
            if (_keyRotation > 0 && queries.Length >= width)
            {
                // Queries rotated as the keys were: K·q is unchanged.
                var rotated = CacheAttention.Scratch(ref _rotatedQueries, width);
                queries[..width].CopyTo(rotated);
                Hadamard.Transform(rotated, _keyRotation);
                queries = rotated;
            }
            QuantizedCacheAttention.Heads(queries, heads, _keys.Bytes(layer, offset), _keys.Type, _values.Bytes(layer, offset), _values.Type,
                hs, length, scores, scoresStride, output, level, finite);
            if (_valueRotation > 0)
                Hadamard.Transform(output[..width], _valueRotation); // Σ w·(H v) = H Σ w·v: rotate back
            return;
        }
        switch (_keys.Floats, _values.Floats)
        {
            case ({ } k, { } v):
                CacheAttention.Heads<float, float>(queries, heads, k[layer], v[layer], hs, offset, hs, length, scores, scoresStride, output, level);
                break;
            case ({ } k, null):
                CacheAttention.Heads<float, ushort>(queries, heads, k[layer], _values.Halves![layer], hs, offset, hs, length, scores, scoresStride, output, level, finite);
                break;
            case (null, { } v):
                CacheAttention.Heads<ushort, float>(queries, heads, _keys.Halves![layer], v[layer], hs, offset, hs, length, scores, scoresStride, output, level, finite);
                break;
            default:
                CacheAttention.Heads<ushort, ushort>(queries, heads, _keys.Halves![layer], _values.Halves![layer], hs, offset, hs, length, scores, scoresStride, output, level, finite);
                break;
        }
    }

    // Where head h's element 0 at `position` lives in a layer's array.
    private int Offset(int head, int position) => (head * Capacity + position) * HeadSize;

    // A row goes in rotated when its side rotates (every head's blocks: the rotation divides the head size).
    private void WriteRow(Side side, int rotation, int layer, int position, ReadOnlySpan<float> row)
    {
        if (rotation > 0)
        {
            var rotated = CacheAttention.Scratch(ref _rotatedRow, row.Length);
            row.CopyTo(rotated);
            Hadamard.Transform(rotated, rotation);
            row = rotated;
        }
        for (var h = 0; h < KvHeads; h++)
            side.Write(layer, Offset(h, position), row.Slice(h * HeadSize, HeadSize));
    }

    // ...and comes out rotated back (H is its own inverse), so callers see the rows they stored, rounded.
    private void ReadRow(Side side, int rotation, int layer, int position, Span<float> row)
    {
        for (var h = 0; h < KvHeads; h++)
            side.Read(layer, Offset(h, position), row.Slice(h * HeadSize, HeadSize));
        if (rotation > 0)
            Hadamard.Transform(row[..RowLength], rotation);
    }

    // The keys or the values of every layer: float rows for F32, half bits for F16, quantized blocks otherwise. Offsets
    // count elements; a block type's are whole blocks (head sizes are multiples of 32), turned into bytes here.
    private sealed class Side
    {
        public readonly float[][]? Floats;   // (layer) -> (kvHeads, capacity, headSize) when F32
        public readonly ushort[][]? Halves;  // (layer) -> (kvHeads, capacity, headSize) when F16
        public readonly byte[][]? Blocks;    // (layer) -> (kvHeads, capacity, headSize / 32 blocks) when block-quantized
        public readonly KvRowCodec? Codec;   // the block type's storage and attention operations
        private readonly bool[] _special;    // (layer) an infinite or NaN half was stored (kept until the cache goes)

        public Side(KvCacheType type, int layers, int elements)
        {
            Layers = layers;
            Type = KvCacheOptions.GgmlTypeOf(type);
            _special = new bool[layers];
            Codec = KvRowCodec.For(Type);
            if (Codec is not null)
                Blocks = Allocate<byte>(layers, Codec.RowBytes(elements));
            else if (type == KvCacheType.F16)
                Halves = Allocate<ushort>(layers, elements);
            else
                Floats = Allocate<float>(layers, elements);
        }

        public int Layers { get; }

        public GgmlType Type { get; }

        private static T[][] Allocate<T>(int layers, int length)
        {
            var arrays = new T[layers][];
            for (var l = 0; l < layers; l++)
                arrays[l] = new T[length];
            return arrays;
        }

        /// <summary>Whether an infinite or NaN half was ever stored in <paramref name="layer"/> (an overflowing key or
        /// value: attention then widens F16 blocks by the exact path).</summary>
        public bool SawInfinityOrNaN(int layer) => _special[layer];

        /// <summary>The stored bytes of <paramref name="layer"/> from element <paramref name="offset"/> on.</summary>
        public ReadOnlySpan<byte> Bytes(int layer, int offset) =>
            Blocks is not null ? Blocks[layer].AsSpan(ByteOffset(offset))
            : Halves is not null ? MemoryMarshal.AsBytes(Halves[layer].AsSpan(offset))
            : MemoryMarshal.AsBytes(Floats![layer].AsSpan(offset));

        private int ByteOffset(int elements) => Codec!.RowBytes(elements);

        public void Write(int layer, int offset, ReadOnlySpan<float> elements)
        {
            if (Blocks is not null)
                Codec!.Quantize(elements, Blocks[layer].AsSpan(ByteOffset(offset), Codec.RowBytes(elements.Length)));
            else if (Floats is not null)
                elements.CopyTo(Floats[layer].AsSpan(offset, elements.Length));
            else
            {
                var halves = Halves![layer].AsSpan(offset, elements.Length);
                Fp16.FromSingle(elements, halves);
                _special[layer] |= HalfVectorOps.AnyInfinityOrNaN(halves);
            }
        }

        public void Read(int layer, int offset, Span<float> elements)
        {
            if (Blocks is not null)
                Codec!.Dequantize(Blocks[layer].AsSpan(ByteOffset(offset), Codec.RowBytes(elements.Length)), elements, SimdPath.Current);
            else if (Floats is not null)
                Floats[layer].AsSpan(offset, elements.Length).CopyTo(elements);
            else
                Fp16.ToSingle(Halves![layer].AsSpan(offset, elements.Length), elements);
        }

        public void Move(int from, int to, int count)
        {
            for (var l = 0; l < Layers; l++)
            {
                if (Blocks is not null)
                    Blocks[l].AsSpan(ByteOffset(from), ByteOffset(count)).CopyTo(Blocks[l].AsSpan(ByteOffset(to)));
                else if (Floats is not null)
                    Floats[l].AsSpan(from, count).CopyTo(Floats[l].AsSpan(to, count));
                else
                    Halves![l].AsSpan(from, count).CopyTo(Halves[l].AsSpan(to, count));
            }
        }
    }
}
