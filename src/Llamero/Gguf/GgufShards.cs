namespace Llamero.Gguf;

/// <summary>
/// llama.cpp's gguf-split format: a model stored as <c>PREFIX-00001-of-00003.gguf</c>, ... Each shard is a complete GGUF
/// holding a run of the tensors; the first shard carries all the metadata, every shard carries <c>split.no</c> (UInt16),
/// <c>split.count</c> (UInt16) and <c>split.tensors.count</c> (Int32), the layout <c>llama-gguf-split --split</c> writes and
/// llama.cpp loads. <see cref="GgufFile.Open"/> reads a set given any shard.
/// </summary>
public static class GgufShards
{
    /// <summary>
    /// Splits <paramref name="input"/> into shards named from <paramref name="outputPrefix"/>. A new shard starts when the
    /// next tensor (padded to 32 bytes) would take the current one past <paramref name="maxBytes"/> of tensor data, or
    /// every <paramref name="maxTensors"/> tensors (gguf-split's rules). Returns the shard paths.
    /// </summary>
    public static IReadOnlyList<string> Split(string input, string outputPrefix, long? maxBytes = null, int? maxTensors = null)
    {
        if (maxBytes is null == maxTensors is null)
            throw new ArgumentException("Give exactly one of a maximum size or a maximum tensor count per shard.");
        if (maxBytes is <= 0 || maxTensors is <= 0)
            throw new ArgumentException("The maximum size or tensor count per shard must be positive.");
        using var source = GgufFile.Open(input);
        if (source.ShardCount > 1)
            throw new ArgumentException($"{input} is already a gguf-split set of {source.ShardCount} shards; merge it first.");
        var groups = Plan(source.Tensors, maxBytes, maxTensors);
        if (groups.Count > ushort.MaxValue)
            throw new ArgumentException($"{groups.Count} shards is more than split.count (UInt16) can hold.");

        var written = new List<string>();
        try
        {
            for (var i = 0; i < groups.Count; i++)
            {
                var path = GgufSplitNaming.ShardPath(outputPrefix, i + 1, groups.Count);
                using var writer = new GgufWriter(path);
                writer.AddMetadata(ShardMetadata(i == 0 ? source.Metadata : [], i, groups.Count, source.Tensors.Count));
                foreach (var t in groups[i])
                    writer.AddTensor(t.Name, t.Type, t.Dimensions, t.ByteSize);
                foreach (var t in groups[i])
                    writer.WriteTensorData(source, t);
                writer.Commit();
                written.Add(path);
            }
        }
        catch
        {
            foreach (var path in written)
                File.Delete(path);
            throw;
        }
        return written;
    }

    /// <summary>
    /// Merges the shard set of <paramref name="anyShard"/> into one GGUF at <paramref name="output"/> (which must not exist):
    /// the first shard's metadata without the <c>split.*</c> keys, then every tensor in shard order. Splitting a file
    /// without split keys and merging it gives back the same bytes. (llama-gguf-split --merge instead keeps the split keys
    /// with split.count = 0.)
    /// </summary>
    public static void Merge(string anyShard, string output)
    {
        if (File.Exists(output))
            throw new IOException($"The output {output} already exists.");
        using var source = GgufFile.Open(anyShard);
        if (source.ShardCount < 2 && !source.ContainsKey(GgufKeys.Split.Count))
            throw new ArgumentException($"{anyShard} is not a gguf-split shard (no {GgufKeys.Split.Count}).");
        using var writer = new GgufWriter(output, source.Version);
        writer.AddMetadata(source.Metadata.Where(kv => !IsSplitKey(kv.Key)));
        foreach (var t in source.Tensors)
            writer.AddTensor(t.Name, t.Type, t.Dimensions, t.ByteSize);
        foreach (var t in source.Tensors)
            writer.WriteTensorData(source, t);
        writer.Commit();
    }

    private static bool IsSplitKey(string key) => key is GgufKeys.Split.No or GgufKeys.Split.Count or GgufKeys.Split.TensorsCount;

    /// <summary>The metadata of shard <paramref name="index"/>: existing split keys replaced in place, missing ones appended.</summary>
    private static List<GgufKeyValue> ShardMetadata(IReadOnlyList<GgufKeyValue> metadata, int index, int count, int tensors)
    {
        GgufKeyValue[] split =
        [
            GgufKeyValue.Of(GgufKeys.Split.No, (ushort)index),
            GgufKeyValue.Of(GgufKeys.Split.Count, (ushort)count),
            GgufKeyValue.Of(GgufKeys.Split.TensorsCount, tensors),
        ];
        var result = metadata.Select(kv => split.FirstOrDefault(s => s.Key == kv.Key) ?? kv).ToList();
        result.AddRange(split.Where(s => !result.Any(kv => kv.Key == s.Key)));
        return result;
    }

    private static List<List<GgufTensorInfo>> Plan(IReadOnlyList<GgufTensorInfo> tensors, long? maxBytes, int? maxTensors)
    {
        var groups = new List<List<GgufTensorInfo>> { new() };
        long size = 0;
        foreach (var t in tensors)
        {
            var padded = (t.ByteSize + 31) / 32 * 32;
            var current = groups[^1];
            var full = maxTensors is { } n ? current.Count >= n : size + padded > maxBytes!.Value;
            if (full && current.Count > 0)
            {
                groups.Add([]);
                size = 0;
            }
            groups[^1].Add(t);
            size += padded;
        }
        return groups;
    }
}
