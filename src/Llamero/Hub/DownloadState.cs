using System.Text.Json;
using System.Text.Json.Serialization;

namespace Llamero.Hub;

/// <summary>
/// The sidecar of a partial download (FILE.incomplete.json beside FILE.incomplete): which remote object it holds
/// (ETag and size) and, per chunk, how many bytes from the chunk's start are already on disk. Written atomically
/// (temp file + rename) so an interruption at any moment leaves a state that under-claims, never over-claims.
/// </summary>
internal sealed class DownloadState
{
    [JsonPropertyName("etag")] public string ETag { get; set; } = "";
    [JsonPropertyName("size")] public long Size { get; set; }
    [JsonPropertyName("chunkSize")] public long ChunkSize { get; set; }
    /// <summary>Bytes present from the start of each chunk.</summary>
    [JsonPropertyName("filled")] public long[] Filled { get; set; } = [];
    /// <summary>Set when the whole file was present but failed its hash: the next run starts over.</summary>
    [JsonPropertyName("verifyFailed")] public bool VerifyFailed { get; set; }

    /// <summary>A fresh state for an object of <paramref name="size"/> bytes cut in chunks of <paramref name="chunkSize"/>.</summary>
    public static DownloadState Create(string etag, long size, long chunkSize)
    {
        var chunks = size == 0 ? 0 : (int)((size + chunkSize - 1) / chunkSize);
        return new DownloadState { ETag = etag, Size = size, ChunkSize = chunkSize, Filled = new long[chunks] };
    }

    /// <summary>Number of chunks.</summary>
    public int ChunkCount => Filled.Length;

    /// <summary>First byte of chunk <paramref name="index"/>.</summary>
    public long ChunkStart(int index) => index * ChunkSize;

    /// <summary>Length of chunk <paramref name="index"/> (the last one may be short).</summary>
    public long ChunkLength(int index) => Math.Min(ChunkSize, Size - ChunkStart(index));

    /// <summary>Bytes already on disk, summed over every chunk.</summary>
    public long BytesDone()
    {
        long sum = 0;
        for (var i = 0; i < Filled.Length; i++)
            sum += Volatile.Read(ref Filled[i]);
        return sum;
    }

    /// <summary>True when every chunk is full.</summary>
    public bool IsComplete => BytesDone() == Size;

    /// <summary>Loads a sidecar, or null when it is missing, unreadable or inconsistent (then the download starts over).</summary>
    public static DownloadState? TryLoad(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            var state = JsonSerializer.Deserialize(File.ReadAllText(path), HubJsonContext.Default.DownloadState);
            if (state is null || state.Size < 0 || state.ChunkSize <= 0)
                return null;
            var expected = state.Size == 0 ? 0 : (state.Size + state.ChunkSize - 1) / state.ChunkSize;
            if (state.Filled.Length != expected)
                return null;
            for (var i = 0; i < state.Filled.Length; i++)
            {
                if (state.Filled[i] < 0 || state.Filled[i] > state.ChunkLength(i))
                    return null;
            }
            return state;
        }
        catch (Exception e) when (e is JsonException or IOException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>Writes the sidecar atomically. Takes a snapshot of the counters, which workers keep advancing.</summary>
    public void Save(string path)
    {
        var snapshot = new DownloadState
        {
            ETag = ETag, Size = Size, ChunkSize = ChunkSize, VerifyFailed = VerifyFailed,
            Filled = Filled.Select((_, i) => Volatile.Read(ref Filled[i])).ToArray(),
        };
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(snapshot, HubJsonContext.Default.DownloadState));
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>What <see cref="HubDownloader"/> remembers about a finished file (FILE.metadata in the .cache folder),
/// so a later run can skip it without hashing it again.</summary>
internal sealed class DownloadedFileRecord
{
    [JsonPropertyName("etag")] public string ETag { get; set; } = "";
    [JsonPropertyName("size")] public long Size { get; set; }
    [JsonPropertyName("commit")] public string? Commit { get; set; }
    [JsonPropertyName("mtimeUtcTicks")] public long ModifiedUtcTicks { get; set; }
}
