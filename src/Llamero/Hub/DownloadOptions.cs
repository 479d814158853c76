namespace Llamero.Hub;

/// <summary>How <see cref="HubDownloader"/> fetches files.</summary>
public sealed record DownloadOptions
{
    /// <summary>Git revision: a branch, tag or commit (default main).</summary>
    public string Revision { get; init; } = "main";

    /// <summary>Parallel ranged connections per file.</summary>
    public int Connections { get; init; } = 4;

    /// <summary>Bytes per ranged chunk; 0 picks one from the file size (1 MiB .. 64 MiB, about 4 chunks per connection).</summary>
    public long ChunkSize { get; init; }

    /// <summary>Consecutive failed attempts per chunk (without a byte of progress) before giving up.</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>Pause before the first retry; doubles on each further one.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>After byte-split parts (NAME-split-a, NAME-split-b, ...) check out, concatenate them into NAME and delete them.</summary>
    public bool JoinSplitParts { get; init; }

    /// <summary>Receives progress reports (a few per second per file).</summary>
    public IProgress<DownloadProgress>? Progress { get; init; }

    /// <summary>The chunk size to use for a file of <paramref name="size"/> bytes.</summary>
    internal long ChunkSizeFor(long size)
    {
        if (ChunkSize > 0)
            return ChunkSize;
        var perChunk = size / Math.Max(1, Connections * 4);
        return Math.Clamp(perChunk, 1L << 20, 64L << 20);
    }
}
