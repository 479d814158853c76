using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Llamero.Gguf;

/// <summary>
/// Parses and validates a GGUF header (v1: 32-bit counts and lengths; v2, v3: 64-bit) from a <see cref="GgufByteSpace"/>.
/// Hostile input is the design case: every count is bounded by the bytes left in the file before anything is
/// allocated, so a corrupt length fails with a <see cref="GgufFormatException"/> naming file and offset.
/// </summary>
internal sealed class GgufHeaderReader
{
    /// <summary>ggml's GGML_MAX_DIMS.</summary>
    public const int MaxDimensions = 4;

    /// <summary>Arrays nested deeper than this are rejected (keeps recursion bounded).</summary>
    public const int MaxArrayDepth = 8;

    /// <summary>Most metadata entries or tensors one file may declare.</summary>
    public const int MaxCount = 1 << 24;

    /// <summary>Most encoded bytes of one metadata array (the largest real vocabularies take a few MB).</summary>
    public const int MaxArrayBytes = 1 << 30;

    /// <summary>The alignment of tensor data when <c>general.alignment</c> is absent.</summary>
    public const uint DefaultAlignment = 32;

    private readonly GgufByteSpace _space;
    private readonly string _displayPath;
    private byte[]? _scratch;
    private long _pos;

    /// <summary>What is being read, for truncation messages (set per entry, not per element, to keep parsing cheap).</summary>
    private string _context = "the header";
    private bool _wideCounts;

    private GgufHeaderReader(GgufByteSpace space, string displayPath)
    {
        _space = space;
        _displayPath = displayPath;
    }

    /// <summary>Reads the header of <paramref name="space"/>; <paramref name="displayPath"/> names it in errors.</summary>
    public static GgufHeader Read(GgufByteSpace space, string displayPath) => new GgufHeaderReader(space, displayPath).ReadHeader();

    private long Remaining => _space.Length - _pos;

    private GgufHeader ReadHeader()
    {
        if (_space.Length < 4)
            throw Fail(0, $"truncated: {_space.Length} bytes is too short for a GGUF file");
        var magic = Bytes(4);
        if (!magic.SequenceEqual("GGUF"u8))
            throw Fail(0, $"wrong magic 0x{Convert.ToHexString(magic)} (expected \"GGUF\")");
        var version = U32();
        if (version is 0 || version > 3)
        {
            var swapped = BinaryPrimitives.ReverseEndianness(version);
            throw Fail(4, swapped is >= 1 and <= 3
                ? $"big-endian GGUF (version {swapped}) is not supported"
                : $"unknown GGUF version {version} (Llamero reads 1, 2 and 3)");
        }
        _wideCounts = version >= 2;

        _context = "the tensor and metadata counts";
        var countAt = _pos;
        var tensorCount = Count();
        var kvCount = Count();
        // Smallest possible encodings bound both counts by the bytes left.
        var minKv = LengthSize + 4 + 1;
        var minTensor = LengthSize + 4 + 4 + 8;
        if (kvCount > (ulong)(Remaining / minKv))
            throw Fail(countAt, $"truncated: metadata count {kvCount} cannot fit in the {Remaining} bytes left");
        if (tensorCount > (ulong)((Remaining - (long)kvCount * minKv) / minTensor))
            throw Fail(countAt, $"truncated: tensor count {tensorCount} cannot fit in the bytes left");
        if (kvCount > MaxCount || tensorCount > MaxCount)
            throw Fail(countAt, $"{tensorCount} tensors and {kvCount} metadata entries are more than Llamero reads (at most {MaxCount} each)");

        var metadata = new List<GgufKeyValue>((int)Math.Min(kvCount, 4096));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            var at = _pos;
            _context = $"metadata entry {i}";
            var key = String("metadata key");
            if (!keys.Add(key))
                throw Fail(at, $"duplicate metadata key \"{key}\"");
            _context = $"metadata \"{key}\"";
            var typeAt = _pos;
            var type = ValueType(key);
            if (type is GgufValueType.Array)
                metadata.Add(new GgufKeyValue(key, type, Array(key, 0)));
            else
                metadata.Add(new GgufKeyValue(key, type, Scalar(type, key, typeAt)));
        }

        var alignment = Alignment(metadata);
        var infos = ReadTensorInfos(tensorCount, alignment);
        var headerEnd = _pos;
        var dataStart = AlignUp(headerEnd, alignment);
        var tensors = ValidateLayout(infos, dataStart, out var dataEnd);
        return new GgufHeader(version, metadata, tensors, alignment, headerEnd, dataStart, dataEnd);
    }

    private int LengthSize => _wideCounts ? 8 : 4;

    private uint Alignment(List<GgufKeyValue> metadata)
    {
        var kv = metadata.Find(m => m.Key == GgufKeys.General.Alignment);
        if (kv is null)
            return DefaultAlignment;
        var value = kv.Value switch
        {
            uint u => u,
            int i when i > 0 => (uint)i,
            ulong ul when ul <= uint.MaxValue => (uint)ul,
            long l when l > 0 && l <= uint.MaxValue => (uint)l,
            ushort us => us,
            short s when s > 0 => (uint)s,
            byte b => b,
            _ => 0u,
        };
        if (value == 0 || (value & (value - 1)) != 0)
            throw Fail(0, $"{GgufKeys.General.Alignment} = {kv.Value} ({kv.Type}) is not a power of two");
        return value;
    }

    private List<PendingTensor> ReadTensorInfos(ulong count, uint alignment)
    {
        var infos = new List<PendingTensor>((int)Math.Min(count, 4096));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < count; i++)
        {
            var at = _pos;
            _context = $"tensor info {i}";
            var name = String("tensor name");
            if (!names.Add(name))
                throw Fail(at, $"duplicate tensor name \"{name}\"");
            _context = $"tensor info of {name}";
            var dimsAt = _pos;
            var nDims = U32();
            if (nDims > MaxDimensions)
                throw Fail(dimsAt, $"tensor {name} has {nDims} dimensions (at most {MaxDimensions})");
            var dims = new long[nDims];
            long elements = 1;
            for (var d = 0; d < nDims; d++)
            {
                var dimAt = _pos;
                ulong raw = _wideCounts ? U64() : U32();
                if (raw > long.MaxValue)
                    throw Fail(dimAt, $"tensor {name} dimension {d} = {raw} is out of range");
                dims[d] = (long)raw;
                if (dims[d] != 0 && elements > long.MaxValue / dims[d])
                    throw Fail(dimAt, $"tensor {name} dimensions {string.Join(" x ", dims.Take(d + 1))} overflow a 64-bit element count");
                elements *= dims[d];
            }
            var typeAt = _pos;
            var type = (GgmlType)U32();
            var offsetAt = _pos;
            var offset = U64();
            if (offset > long.MaxValue)
                throw Fail(offsetAt, $"tensor {name} data offset {offset} is out of range");
            if (offset % alignment != 0)
                throw Fail(offsetAt, $"tensor {name} data offset {offset} is not a multiple of the alignment {alignment}");

            long size = -1;
            if (GgmlTypes.IsKnown((uint)type))
            {
                var traits = GgmlTypes.Get(type);
                var rowLength = nDims == 0 ? 1 : dims[0];
                if (rowLength % traits.BlockSize != 0)
                    throw Fail(typeAt, $"tensor {name} row length {rowLength} is not a multiple of the {traits.Name} block size {traits.BlockSize}");
                var blocks = elements / traits.BlockSize;
                if (blocks > long.MaxValue / traits.BytesPerBlock)
                    throw Fail(dimsAt, $"tensor {name} byte size overflows 64 bits");
                size = blocks * traits.BytesPerBlock;
            }
            infos.Add(new PendingTensor(name, type, dims, (long)offset, size, at));
        }
        return infos;
    }

    /// <summary>
    /// No two tensors overlap; unknown types get the room up to the next tensor. Whether the data fits in the file is
    /// checked by the caller (<see cref="GgufHeader.DataEnd"/>), which knows about byte-split parts.
    /// </summary>
    private List<GgufTensorInfo> ValidateLayout(List<PendingTensor> infos, long dataStart, out long dataEnd)
    {
        var dataLength = _space.Length - dataStart;
        var byOffset = infos.OrderBy(t => t.Offset).ThenBy(t => t.Size).ToList();
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        PendingTensor? previous = null;
        long previousEnd = 0;
        for (var i = 0; i < byOffset.Count; i++)
        {
            var t = byOffset[i];
            var size = t.Size >= 0 ? t.Size : Math.Max(0, (i + 1 < byOffset.Count ? byOffset[i + 1].Offset : dataLength) - t.Offset);
            if (previous is not null && t.Offset < previousEnd && size > 0)
                throw Fail(t.InfoAt, $"tensor {t.Name} data [{t.Offset}, {t.Offset + size}) overlaps tensor {previous.Name} [{previous.Offset}, {previousEnd})");
            if (t.Offset > long.MaxValue - dataStart - size)
                throw Fail(t.InfoAt, $"tensor {t.Name} data [{t.Offset}, +{size}) lies beyond any possible file size");
            sizes[t.Name] = size;
            if (size > 0)
            {
                previous = t;
                previousEnd = t.Offset + size;
            }
        }
        dataEnd = byOffset.Count == 0 ? 0 : byOffset.Max(t => t.Offset + sizes[t.Name]);
        return infos.Select(t => new GgufTensorInfo(t.Name, t.Type, t.Dims, t.Offset, sizes[t.Name])).ToList();
    }

    private object Scalar(GgufValueType type, string key, long typeAt) => type switch
    {
        GgufValueType.UInt8 => Bytes(1)[0],
        GgufValueType.Int8 => (sbyte)Bytes(1)[0],
        GgufValueType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2)),
        GgufValueType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(Bytes(2)),
        GgufValueType.UInt32 => U32(),
        GgufValueType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4)),
        GgufValueType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(Bytes(4)),
        GgufValueType.Bool => Bool(key),
        GgufValueType.String => String(key),
        GgufValueType.UInt64 => U64(),
        GgufValueType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8)),
        GgufValueType.Float64 => BinaryPrimitives.ReadDoubleLittleEndian(Bytes(8)),
        _ => throw Fail(typeAt, $"metadata \"{key}\" has unknown value type {(uint)type}"),
    };

    private bool Bool(string key)
    {
        var at = _pos;
        var b = Bytes(1)[0];
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw Fail(at, $"metadata \"{key}\" bool has value {b} (expected 0 or 1)"),
        };
    }

    private GgufArray Array(string key, int depth)
    {
        var at = _pos;
        if (depth >= MaxArrayDepth)
            throw Fail(at, $"metadata \"{key}\" nests arrays deeper than {MaxArrayDepth}");
        var elementType = ValueType(key);
        var countAt = _pos;
        var count = Count();
        long minElement = elementType switch
        {
            GgufValueType.String => LengthSize,
            GgufValueType.Array => 4 + LengthSize,
            _ => GgufValueTypes.FixedSize(elementType),
        };
        if (count > (ulong)(Remaining / minElement))
            throw Fail(countAt, $"metadata \"{key}\" array length {count} runs past the end of the file ({Remaining} bytes left)");
        if (count > (ulong)(MaxArrayBytes / minElement))
            throw Fail(countAt, $"metadata \"{key}\" array length {count} is more than Llamero reads ({MaxArrayBytes} bytes at most)");
        var n = (int)count;
        switch (elementType)
        {
            case GgufValueType.String:
                var strings = new string[n];
                for (var i = 0; i < n; i++)
                    strings[i] = String(key);
                return new GgufArray(elementType, strings);
            case GgufValueType.Array:
                var arrays = new GgufArray[n];
                for (var i = 0; i < n; i++)
                {
                    // An element of an array of arrays is (element type, count, items), with no Array tag of its own (as gguf-py writes it).
                    arrays[i] = Array(key, depth + 1);
                }
                return new GgufArray(elementType, arrays);
            case GgufValueType.Bool:
                var bools = new bool[n];
                for (var i = 0; i < n; i++)
                    bools[i] = Bool(key);
                return new GgufArray(elementType, bools);
            default:
                return new GgufArray(elementType, FixedArray(elementType, n, key));
        }
    }

    private Array FixedArray(GgufValueType type, int n, string key)
    {
        var size = GgufValueTypes.FixedSize(type);
        var bytes = Bytes(n * size);
        Array result = type switch
        {
            GgufValueType.UInt8 => bytes.ToArray(),
            GgufValueType.Int8 => new sbyte[n],
            GgufValueType.UInt16 => new ushort[n],
            GgufValueType.Int16 => new short[n],
            GgufValueType.UInt32 => new uint[n],
            GgufValueType.Int32 => new int[n],
            GgufValueType.Float32 => new float[n],
            GgufValueType.UInt64 => new ulong[n],
            GgufValueType.Int64 => new long[n],
            GgufValueType.Float64 => new double[n],
            _ => throw new InvalidOperationException(type.ToString()),
        };
        // Little-endian machines only (Llamero targets x86-64 and arm64), so the file bytes are the values.
        if (type is not GgufValueType.UInt8)
            CopyInto(result, bytes);
        return result;
    }

    private static void CopyInto(Array destination, ReadOnlySpan<byte> bytes)
    {
        Span<byte> target = destination switch
        {
            sbyte[] a => MemoryMarshal.AsBytes(a.AsSpan()),
            ushort[] a => MemoryMarshal.AsBytes(a.AsSpan()),
            short[] a => MemoryMarshal.AsBytes(a.AsSpan()),
            uint[] a => MemoryMarshal.AsBytes(a.AsSpan()),
            int[] a => MemoryMarshal.AsBytes(a.AsSpan()),
            float[] a => MemoryMarshal.AsBytes(a.AsSpan()),
            ulong[] a => MemoryMarshal.AsBytes(a.AsSpan()),
            long[] a => MemoryMarshal.AsBytes(a.AsSpan()),
            double[] a => MemoryMarshal.AsBytes(a.AsSpan()),
            _ => throw new InvalidOperationException(destination.GetType().Name),
        };
        bytes.CopyTo(target);
    }

    private GgufValueType ValueType(string key)
    {
        var at = _pos;
        var raw = U32();
        if (!GgufValueTypes.IsDefined(raw))
            throw Fail(at, $"metadata \"{key}\" has unknown value type {raw}");
        return (GgufValueType)raw;
    }

    private string String(string what)
    {
        var at = _pos;
        var length = Count();
        if (length > (ulong)Remaining)
            throw Fail(at, $"{what} length {length} runs past the end of the file ({Remaining} bytes left)");
        if (length > int.MaxValue)
            throw Fail(at, $"{what} length {length} is too long");
        return Encoding.UTF8.GetString(Bytes((int)length));
    }

    private ulong Count() => _wideCounts ? U64() : U32();

    private uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));

    private ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8));

    private ReadOnlySpan<byte> Bytes(int n)
    {
        if (n > Remaining)
            throw Fail(_pos, $"truncated: {_context} needs {n} more bytes, {Remaining} left");
        var span = _space.Read(_pos, n, ref _scratch);
        _pos += n;
        return span;
    }

    private static long AlignUp(long value, uint alignment) => (value + alignment - 1) / alignment * alignment;

    private GgufFormatException Fail(long offset, string problem)
    {
        if (_space.Parts.Count <= 1 || offset >= _space.Length)
            return new GgufFormatException(_displayPath, offset, problem);
        var (path, local) = _space.Locate(offset);
        return new GgufFormatException(path, local, problem);
    }

    private sealed record PendingTensor(string Name, GgmlType Type, long[] Dims, long Offset, long Size, long InfoAt);
}
