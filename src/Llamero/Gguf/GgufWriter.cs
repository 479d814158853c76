using System.Buffers.Binary;
using System.Text;

namespace Llamero.Gguf;

/// <summary>
/// Writes a GGUF file (v3 by default; v2 and v1 on request) in one pass, streaming tensor data straight to disk.
/// Declare all metadata and tensors first (the header holds every tensor's offset), then write each tensor's bytes
/// in declaration order, in as many chunks as you like, then <see cref="Commit"/>. The output goes to a temporary
/// file beside the target and is renamed over it only on commit, so a failure never leaves a half-written model.
/// Layout is llama.cpp's: header, tensor infos, padding to the alignment, then each tensor padded to the alignment
/// (a file without tensors is not padded at its end).
/// </summary>
public sealed class GgufWriter : IDisposable
{
    private readonly string _path;
    private readonly string _tempPath;
    private readonly uint _version;
    private readonly List<GgufKeyValue> _metadata = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<GgufTensorInfo> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private FileStream? _stream;
    private bool _headerWritten;
    private bool _committed;
    private int _current;
    private long _currentWritten;
    private long _nextOffset;

    /// <summary>Starts writing <paramref name="path"/> (through a temporary file beside it).</summary>
    public GgufWriter(string path, uint version = 3)
    {
        if (version is < 1 or > 3)
            throw new ArgumentOutOfRangeException(nameof(version), version, "GGUF versions 1, 2 and 3 can be written.");
        _path = System.IO.Path.GetFullPath(path);
        _version = version;
        _tempPath = _path + $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
    }

    /// <summary>Alignment of tensor data: <c>general.alignment</c> when added, else 32.</summary>
    public uint Alignment { get; private set; } = GgufHeaderReader.DefaultAlignment;

    /// <summary>Tensors declared so far, with the offsets they will have.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;

    /// <summary>Adds one metadata entry (before any tensor data is written).</summary>
    public void AddMetadata(GgufKeyValue kv)
    {
        ArgumentNullException.ThrowIfNull(kv);
        EnsureDeclaring();
        if (kv.Type != GgufValueType.Array && kv.Value.GetType() != GgufValueTypes.ClrType(kv.Type)
            || kv.Type == GgufValueType.Array && kv.Value is not GgufArray)
            throw new ArgumentException($"Metadata \"{kv.Key}\": a {kv.Type} value cannot be a {kv.Value.GetType().Name}.", nameof(kv));
        if (!_keys.Add(kv.Key))
            throw new ArgumentException($"Duplicate metadata key \"{kv.Key}\".", nameof(kv));
        if (kv.Key == GgufKeys.General.Alignment)
        {
            if (_tensors.Count > 0)
                throw new InvalidOperationException($"Add {GgufKeys.General.Alignment} before declaring tensors.");
            if (!GgufValueConversion.TryConvert<uint>(kv.Value, out var a) || a == 0 || (a & (a - 1)) != 0)
                throw new ArgumentException($"{GgufKeys.General.Alignment} must be a power of two, not {kv.Value}.", nameof(kv));
            Alignment = a;
        }
        _metadata.Add(kv);
    }

    /// <summary>Adds every entry of <paramref name="metadata"/> in order.</summary>
    public void AddMetadata(IEnumerable<GgufKeyValue> metadata)
    {
        foreach (var kv in metadata)
            AddMetadata(kv);
    }

    /// <summary>Declares a tensor of a known type; its size follows from type and shape (ne0 first).</summary>
    public GgufTensorInfo AddTensor(string name, GgmlType type, ReadOnlySpan<long> dimensions)
    {
        var traits = GgmlTypes.Get(type);
        long elements = 1;
        foreach (var d in dimensions)
            elements = checked(elements * d);
        if ((dimensions.Length == 0 ? 1 : dimensions[0]) % traits.BlockSize != 0)
            throw new ArgumentException($"Tensor {name}: row length {dimensions[0]} is not a multiple of the {traits.Name} block size {traits.BlockSize}.");
        return AddTensor(name, type, dimensions, checked(elements / traits.BlockSize * traits.BytesPerBlock));
    }

    /// <summary>Declares a tensor with an explicit byte size (for a type Llamero does not know).</summary>
    public GgufTensorInfo AddTensor(string name, GgmlType type, ReadOnlySpan<long> dimensions, long byteSize)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        EnsureDeclaring();
        if (dimensions.Length > GgufHeaderReader.MaxDimensions)
            throw new ArgumentException($"Tensor {name}: {dimensions.Length} dimensions (at most {GgufHeaderReader.MaxDimensions}).");
        foreach (var d in dimensions)
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(dimensions));
        ArgumentOutOfRangeException.ThrowIfNegative(byteSize);
        if (!_names.Add(name))
            throw new ArgumentException($"Duplicate tensor name \"{name}\".", nameof(name));
        var info = new GgufTensorInfo(name, type, dimensions.ToArray(), _nextOffset, byteSize);
        _tensors.Add(info);
        _nextOffset = AlignUp(_nextOffset + byteSize, Alignment);
        return info;
    }

    /// <summary>
    /// Appends bytes of the tensor data, in declaration order: a chunk may complete one tensor and continue into
    /// the next. The header is written on the first call.
    /// </summary>
    public void WriteTensorData(ReadOnlySpan<byte> bytes)
    {
        var stream = Stream();
        WriteHeaderOnce();
        while (bytes.Length > 0)
        {
            SkipEmptyTensors();
            if (_current >= _tensors.Count)
                throw new InvalidOperationException($"More tensor data than the {_tensors.Count} declared tensors hold.");
            var tensor = _tensors[_current];
            var n = (int)Math.Min(bytes.Length, tensor.ByteSize - _currentWritten);
            stream.Write(bytes[..n]);
            bytes = bytes[n..];
            _currentWritten += n;
            if (_currentWritten == tensor.ByteSize)
                FinishTensor();
        }
    }

    /// <summary>Copies one tensor's bytes from an open file (no size limit; read straight from the mapping).</summary>
    public unsafe void WriteTensorData(GgufFile source, GgufTensorInfo tensor)
    {
        var p = (byte*)source.GetTensorPointer(tensor);
        for (long done = 0; done < tensor.ByteSize;)
        {
            var n = (int)Math.Min(tensor.ByteSize - done, 1 << 24);
            WriteTensorData(new ReadOnlySpan<byte>(p + done, n));
            done += n;
        }
    }

    /// <summary>Checks every tensor got all its bytes, flushes to disk and renames the temporary file over the target.</summary>
    public void Commit()
    {
        var stream = Stream();
        WriteHeaderOnce();
        SkipEmptyTensors();
        if (_current < _tensors.Count)
            throw new InvalidOperationException($"Tensor {_tensors[_current].Name} has {_currentWritten} of its {_tensors[_current].ByteSize} bytes; {_tensors.Count - _current} tensor(s) incomplete.");
        stream.Flush(flushToDisk: true);
        stream.Dispose();
        _stream = null;
        File.Move(_tempPath, _path, overwrite: true);
        _committed = true;
    }

    /// <summary>Abandons an uncommitted file (the temporary file is deleted, the target untouched).</summary>
    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
        if (!_committed)
        {
            try { File.Delete(_tempPath); }
            catch (IOException) { /* best effort: the temp file has a unique name */ }
        }
    }

    private void SkipEmptyTensors()
    {
        while (_current < _tensors.Count && _tensors[_current].ByteSize == _currentWritten && _currentWritten == 0)
            FinishTensor();
    }

    private void FinishTensor()
    {
        var tensor = _tensors[_current];
        Pad(tensor.Offset + tensor.ByteSize);
        _current++;
        _currentWritten = 0;
    }

    private void Pad(long dataPosition)
    {
        var padding = (int)(AlignUp(dataPosition, Alignment) - dataPosition);
        if (padding > 0)
            Stream().Write(new byte[padding]);
    }

    private void WriteHeaderOnce()
    {
        if (_headerWritten)
            return;
        _headerWritten = true;
        var stream = Stream();
        var w = new HeaderBuffer(_version >= 2);
        w.Raw("GGUF"u8);
        w.U32(_version);
        w.Count((ulong)_tensors.Count);
        w.Count((ulong)_metadata.Count);
        foreach (var kv in _metadata)
        {
            w.String(kv.Key);
            w.U32((uint)kv.Type);
            w.Value(kv.Type, kv.Value);
        }
        foreach (var t in _tensors)
        {
            w.String(t.Name);
            w.U32((uint)t.Dimensions.Length);
            foreach (var d in t.Dimensions)
            {
                if (_version >= 2) w.U64((ulong)d);
                else w.U32(checked((uint)d));
            }
            w.U32((uint)t.Type);
            w.U64((ulong)t.Offset);
        }
        var length = w.Length;
        if (_tensors.Count > 0)
            w.Raw(new byte[AlignUp(length, Alignment) - length]);
        w.CopyTo(stream);
    }

    private FileStream Stream() => _stream ?? throw new ObjectDisposedException(nameof(GgufWriter), "The writer was committed or disposed.");

    private void EnsureDeclaring()
    {
        Stream();
        if (_headerWritten)
            throw new InvalidOperationException("Metadata and tensors must be declared before tensor data is written.");
    }

    private static long AlignUp(long value, uint alignment) => (value + alignment - 1) / alignment * alignment;

    /// <summary>Little-endian encoder of the header into memory (headers are small next to tensor data).</summary>
    private sealed class HeaderBuffer(bool wide)
    {
        private readonly MemoryStream _buffer = new();
        private readonly byte[] _scratch = new byte[8];

        public long Length => _buffer.Length;

        public void CopyTo(Stream s) => _buffer.WriteTo(s);

        public void Raw(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

        public void U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(_scratch, v); Raw(_scratch.AsSpan(0, 4)); }

        public void U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(_scratch, v); Raw(_scratch); }

        public void Count(ulong n)
        {
            if (wide) U64(n);
            else U32(checked((uint)n));
        }

        public void String(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            Count((ulong)bytes.Length);
            Raw(bytes);
        }

        public void Value(GgufValueType type, object value)
        {
            switch (type)
            {
                case GgufValueType.UInt8: Raw([(byte)value]); break;
                case GgufValueType.Int8: Raw([(byte)(sbyte)value]); break;
                case GgufValueType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(_scratch, (ushort)value); Raw(_scratch.AsSpan(0, 2)); break;
                case GgufValueType.Int16: BinaryPrimitives.WriteInt16LittleEndian(_scratch, (short)value); Raw(_scratch.AsSpan(0, 2)); break;
                case GgufValueType.UInt32: U32((uint)value); break;
                case GgufValueType.Int32: U32((uint)(int)value); break;
                case GgufValueType.Float32: U32(BitConverter.SingleToUInt32Bits((float)value)); break;
                case GgufValueType.Bool: Raw([(bool)value ? (byte)1 : (byte)0]); break;
                case GgufValueType.String: String((string)value); break;
                case GgufValueType.UInt64: U64((ulong)value); break;
                case GgufValueType.Int64: U64((ulong)(long)value); break;
                case GgufValueType.Float64: U64(BitConverter.DoubleToUInt64Bits((double)value)); break;
                case GgufValueType.Array: Array((GgufArray)value); break;
                default: throw new ArgumentOutOfRangeException(nameof(type), type, "Not a GGUF value type.");
            }
        }

        /// <summary>Element type, count, elements; an element that is itself an array is written without its own type tag.</summary>
        private void Array(GgufArray array)
        {
            U32((uint)array.ElementType);
            Count((ulong)array.Count);
            for (var i = 0; i < array.Count; i++)
                Value(array.ElementType, array.Values.GetValue(i)!);
        }
    }
}
