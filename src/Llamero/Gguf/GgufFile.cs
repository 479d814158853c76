namespace Llamero.Gguf;

/// <summary>
/// A GGUF model file opened for reading: metadata, tensor table and memory-mapped tensor data (never copied).
/// Opens GGUF v1, v2 and v3; byte-split parts (<c>x.gguf-split-a</c>, <c>-split-b</c>, given either part or the joined
/// name); and llama.cpp gguf-split shard sets (given any shard). Malformed input throws <see cref="GgufFormatException"/>.
/// Tensor pointers and spans stay valid until the file is disposed.
/// </summary>
public sealed class GgufFile : IDisposable
{
    private readonly GgufFileSource[] _sources;
    private readonly Dictionary<string, GgufKeyValue> _byKey;
    private readonly Dictionary<string, GgufTensorInfo> _byName;
    private bool _disposed;

    private GgufFile(string path, GgufFileSource[] sources, List<GgufTensorInfo> tensors)
    {
        Path = path;
        _sources = sources;
        var first = sources[0].Header;
        Metadata = first.Metadata;
        Tensors = tensors;
        _byKey = first.Metadata.ToDictionary(kv => kv.Key, StringComparer.Ordinal);
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The path the file was opened with.</summary>
    public string Path { get; }

    /// <summary>GGUF version of the (first) file: 1, 2 or 3.</summary>
    public uint Version => _sources[0].Header.Version;

    /// <summary>Alignment of tensor data (<c>general.alignment</c>, default 32).</summary>
    public uint Alignment => _sources[0].Header.Alignment;

    /// <summary>Metadata in file order (of the first shard, which holds all of it).</summary>
    public IReadOnlyList<GgufKeyValue> Metadata { get; }

    /// <summary>Every tensor, in file order (shard by shard).</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Number of gguf-split shards (1 for a single file).</summary>
    public int ShardCount => _sources.Length;

    /// <summary>Every file backing this model (shards, and the byte-split parts of each), in order.</summary>
    public IReadOnlyList<string> Files => _sources.SelectMany(s => s.Space.Parts.Select(p => p.Path)).ToList();

    /// <summary>Total bytes over every backing file.</summary>
    public long TotalFileSize => _sources.Sum(s => s.Space.Length);

    /// <summary>Offset of the data section in shard <paramref name="shard"/> (the header and its padding come before).</summary>
    public long DataOffset(int shard = 0) => _sources[shard].Header.DataStart;

    /// <summary>Opens <paramref name="path"/>: a GGUF file, a byte-split part or joined name, or any gguf-split shard.</summary>
    public static GgufFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var first = GgufFileSource.Open(path);
        try
        {
            var splitCount = ShardCountOf(first);
            if (splitCount <= 1)
                return new GgufFile(path, [first], [.. first.Header.Tensors]);
            return OpenShards(path, first, splitCount);
        }
        catch
        {
            first.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> alone: one GGUF file (or the byte-split parts forming it), without loading the
    /// other shards of a gguf-split set, so its own metadata and tensors can be inspected.
    /// </summary>
    public static GgufFile OpenSingle(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var source = GgufFileSource.Open(path);
        return new GgufFile(path, [source], [.. source.Header.Tensors]);
    }

    private static GgufFile OpenShards(string path, GgufFileSource given, int count)
    {
        if (!GgufSplitNaming.TryParseShardPath(given.DisplayPath, out var prefix, out _, out var countInName))
            throw new GgufFormatException(given.DisplayPath, 0, $"has {GgufKeys.Split.Count} = {count} but its name is not PREFIX-NNNNN-of-NNNNN.gguf, so the other shards cannot be found");
        if (countInName != count)
            throw new GgufFormatException(given.DisplayPath, 0, $"{GgufKeys.Split.Count} = {count} but the file name says {countInName} shards");
        var sources = new GgufFileSource[count];
        var givenNo = ShardNumberOf(given);
        if (givenNo < 0 || givenNo >= count)
            throw new GgufFormatException(given.DisplayPath, 0, $"{GgufKeys.Split.No} = {givenNo} is outside the {count} shards");
        try
        {
            for (var i = 0; i < count; i++)
            {
                if (i == givenNo)
                {
                    sources[i] = given;
                    continue;
                }
                var shardPath = GgufSplitNaming.ShardPath(prefix, i + 1, count);
                if (!File.Exists(shardPath) && GgufSplitNaming.JoinedPathOf(shardPath) is null)
                    throw new GgufFormatException(given.DisplayPath, 0, $"{GgufKeys.Split.Count} = {count} but shard {i + 1} is missing: {shardPath}");
                sources[i] = GgufFileSource.Open(shardPath);
                if (ShardNumberOf(sources[i]) != i || ShardCountOf(sources[i]) != count)
                    throw new GgufFormatException(shardPath, 0, $"expected {GgufKeys.Split.No} = {i} and {GgufKeys.Split.Count} = {count}, found {ShardNumberOf(sources[i])} and {ShardCountOf(sources[i])}");
            }
            var extra = GgufSplitNaming.ShardPath(prefix, count + 1, count);
            if (File.Exists(extra))
                throw new GgufFormatException(extra, 0, $"extra gguf-split shard: the set has {GgufKeys.Split.Count} = {count}");
            var tensors = new List<GgufTensorInfo>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                foreach (var t in sources[i].Header.Tensors)
                {
                    if (!names.Add(t.Name))
                        throw new GgufFormatException(sources[i].DisplayPath, 0, $"tensor {t.Name} appears in more than one shard");
                    tensors.Add(new GgufTensorInfo(t.Name, t.Type, t.Dimensions, t.Offset, t.ByteSize, i));
                }
            }
            var first = sources[0];
            var declared = first.Header.Metadata.FirstOrDefault(kv => kv.Key == GgufKeys.Split.TensorsCount);
            if (declared is not null && GgufValueConversion.TryConvert<long>(declared.Value, out var n) && n != tensors.Count)
                throw new GgufFormatException(first.DisplayPath, 0, $"{GgufKeys.Split.TensorsCount} = {n} but the {count} shards hold {tensors.Count} tensors");
            return new GgufFile(path, sources, tensors);
        }
        catch
        {
            foreach (var s in sources)
            {
                if (s is not null && s != given)
                    s.Dispose();
            }
            throw;
        }
    }

    private static int ShardCountOf(GgufFileSource source) =>
        source.Header.Metadata.FirstOrDefault(kv => kv.Key == GgufKeys.Split.Count) is { } kv && GgufValueConversion.TryConvert<int>(kv.Value, out var n) ? n : 1;

    private static int ShardNumberOf(GgufFileSource source) =>
        source.Header.Metadata.FirstOrDefault(kv => kv.Key == GgufKeys.Split.No) is { } kv && GgufValueConversion.TryConvert<int>(kv.Value, out var n) ? n : 0;

    /// <summary>True when <paramref name="key"/> is present.</summary>
    public bool ContainsKey(string key) => _byKey.ContainsKey(key);

    /// <summary>The entry for <paramref name="key"/>, or null.</summary>
    public GgufKeyValue? Find(string key) => _byKey.GetValueOrDefault(key);

    /// <summary>
    /// Reads <paramref name="key"/> as <typeparamref name="T"/> (string, bool, int, uint, long, ulong, float, double,
    /// and arrays of those; integer types convert when the value fits, Float32 widens to double).
    /// False when the key is absent or its value does not convert losslessly.
    /// </summary>
    public bool TryGet<T>(string key, out T value)
    {
        if (_byKey.TryGetValue(key, out var kv) && GgufValueConversion.TryConvert(kv.Value, out value))
            return true;
        value = default!;
        return false;
    }

    /// <summary>The value of <paramref name="key"/> as <typeparamref name="T"/>, or <paramref name="fallback"/> when absent.
    /// A present value of an incompatible type throws, naming the key.</summary>
    public T GetOrDefault<T>(string key, T fallback) => _byKey.ContainsKey(key) ? Require<T>(key) : fallback;

    /// <summary>The value of <paramref name="key"/> as <typeparamref name="T"/>; throws <see cref="KeyNotFoundException"/>
    /// or <see cref="InvalidCastException"/> naming the file and key.</summary>
    public T Require<T>(string key)
    {
        if (!_byKey.TryGetValue(key, out var kv))
            throw new KeyNotFoundException($"{Path}: metadata key \"{key}\" is missing.");
        if (!GgufValueConversion.TryConvert<T>(kv.Value, out var value))
            throw new InvalidCastException($"{Path}: metadata \"{key}\" is {Describe(kv)}, which does not convert to {typeof(T).Name} without loss.");
        return value;
    }

    private static string Describe(GgufKeyValue kv) => kv.Value is GgufArray a ? $"an array of {a.ElementType}" : $"{kv.Type} {kv.Value}";

    /// <summary>The tensor named <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming it and the file.</summary>
    public GgufTensorInfo GetTensor(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Path}: tensor \"{name}\" not found ({Tensors.Count} tensors in the file).");

    /// <summary>Looks up a tensor by name.</summary>
    public bool TryGetTensor(string name, out GgufTensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <summary>The tensor's bytes, mapped from the file (no copy). Tensors over 2 GiB: use <see cref="GetTensorPointer"/>.</summary>
    public unsafe ReadOnlySpan<byte> GetTensorData(GgufTensorInfo info)
    {
        if (info.ByteSize > int.MaxValue)
            throw new NotSupportedException($"{Path}: tensor {info.Name} is {info.ByteSize} bytes, too big for a span; use GetTensorPointer.");
        if (info.ByteSize == 0)
            return [];
        return new ReadOnlySpan<byte>((void*)GetTensorPointer(info), (int)info.ByteSize);
    }

    /// <summary>Address of the tensor's bytes, valid until this file is disposed. A tensor cut by a byte-split point is
    /// copied once into native memory (every other tensor is read in place).</summary>
    public nint GetTensorPointer(GgufTensorInfo info)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_byName.TryGetValue(info.Name, out var own) || !ReferenceEquals(own, info))
            info = GetTensor(info.Name);
        var source = _sources[info.Shard];
        return source.Space.Pointer(source.Header.DataStart + info.Offset, Math.Max(info.ByteSize, 1));
    }

    /// <summary>
    /// Tells the OS this process no longer needs the tensor's mapped pages resident (a model loader that has copied
    /// the tensor elsewhere calls this so its pages do not count twice). The bytes stay readable: a later read brings
    /// them back from the file. Does nothing off Linux or for a tensor copied out of byte-split parts.
    /// </summary>
    public void ReleaseTensorPages(GgufTensorInfo info) => ReleaseTensorPages(info, 0, info.ByteSize);

    /// <summary>
    /// As <see cref="ReleaseTensorPages(GgufTensorInfo)"/> for bytes [<paramref name="offset"/>, +<paramref name="length"/>)
    /// of the tensor: the pages wholly inside that range (a page the range shares with bytes outside it stays), so a
    /// loader can release a tensor chunk by chunk as it copies it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the tensor.</exception>
    public void ReleaseTensorPages(GgufTensorInfo info, long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_byName.TryGetValue(info.Name, out var own) || !ReferenceEquals(own, info))
            info = GetTensor(info.Name);
        if (offset < 0 || length < 0 || offset > info.ByteSize - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{Path}: bytes [{offset}, +{length}) are not inside tensor {info.Name} ({info.ByteSize} bytes).");
        if (length == 0)
            return;
        var source = _sources[info.Shard];
        source.Space.ReleasePages(source.Header.DataStart + info.Offset + offset, length);
    }

    /// <summary>Unmaps every file. Spans and pointers obtained before become invalid.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        foreach (var s in _sources)
            s.Dispose();
    }
}
