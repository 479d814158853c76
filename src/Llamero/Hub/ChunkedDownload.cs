using Microsoft.Win32.SafeHandles;

namespace Llamero.Hub;

/// <summary>
/// Fetches one remote file into a partial file with parallel ranged GETs. Each chunk records how many of its bytes
/// are on disk in the sidecar, so a dropped connection resumes mid-chunk (in this run, by retrying, or in a later
/// run, from the sidecar). It never verifies or renames: <see cref="HubDownloader"/> does that.
/// </summary>
internal sealed class ChunkedDownload
{
    private const int BufferSize = 256 << 10;
    private static readonly TimeSpan MonitorInterval = TimeSpan.FromMilliseconds(250);

    private readonly HubClient _client;
    private readonly string _repo;
    private readonly HubFileMetadata _meta;
    private readonly DownloadOptions _options;
    private readonly string _partialPath;
    private readonly string _statePath;
    private DownloadState _state = null!;
    private int _nextChunk = -1;

    public ChunkedDownload(HubClient client, string repo, HubFileMetadata meta, DownloadOptions options, string partialPath)
    {
        _client = client;
        _repo = repo;
        _meta = meta;
        _options = options;
        _partialPath = partialPath;
        _statePath = partialPath + ".json";
    }

    /// <summary>The sidecar path (FILE.incomplete.json).</summary>
    public string StatePath => _statePath;

    /// <summary>Downloads whatever the partial file still lacks. On failure the sidecar keeps the progress.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var handle = OpenPartial();
        using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var rate = new TransferRate(TimeSpan.FromSeconds(5));
        var workers = Enumerable.Range(0, Math.Clamp(_options.Connections, 1, Math.Max(1, _state.ChunkCount)))
            .Select(_ => Task.Run(() => WorkAsync(handle, failure), CancellationToken.None))
            .ToArray();
        var all = Task.WhenAll(workers);
        try
        {
            var tick = 0;
            while (await Task.WhenAny(all, Task.Delay(MonitorInterval, CancellationToken.None)).ConfigureAwait(false) != all)
            {
                Report(rate);
                if (++tick % 4 == 0)
                    _state.Save(_statePath);
            }
            await all.ConfigureAwait(false);
            Report(rate);
        }
        finally
        {
            _state.Save(_statePath);
        }
    }

    /// <summary>Marks the partial file as bad (its hash did not match) so the next run starts over, keeping the bytes for inspection.</summary>
    public void MarkVerifyFailed()
    {
        _state.VerifyFailed = true;
        _state.Save(_statePath);
    }

    private SafeFileHandle OpenPartial()
    {
        var state = DownloadState.TryLoad(_statePath);
        var reusable = state is not null && !state.VerifyFailed && state.ETag == _meta.ETag && state.Size == _meta.Size
            && File.Exists(_partialPath) && new FileInfo(_partialPath).Length == _meta.Size;
        _state = reusable ? state! : DownloadState.Create(_meta.ETag, _meta.Size, _options.ChunkSizeFor(_meta.Size));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_partialPath))!);
        var handle = File.OpenHandle(_partialPath, reusable ? FileMode.Open : FileMode.Create, FileAccess.ReadWrite, FileShare.Read, FileOptions.Asynchronous);
        if (!reusable)
        {
            RandomAccess.SetLength(handle, _meta.Size);
            _state.Save(_statePath);
        }
        return handle;
    }

    private void Report(TransferRate rate)
    {
        var done = _state.BytesDone();
        _options.Progress?.Report(new DownloadProgress(_meta.Path, DownloadPhase.Downloading, done, _meta.Size, rate.Sample(done)));
    }

    private async Task WorkAsync(SafeFileHandle handle, CancellationTokenSource failure)
    {
        try
        {
            int index;
            while ((index = Interlocked.Increment(ref _nextChunk)) < _state.ChunkCount)
                await FetchChunkAsync(handle, index, failure.Token).ConfigureAwait(false);
        }
        catch
        {
            await failure.CancelAsync().ConfigureAwait(false);   // stop the other workers; their progress is kept
            throw;
        }
    }

    private async Task FetchChunkAsync(SafeFileHandle handle, int index, CancellationToken cancellationToken)
    {
        var failures = 0;
        while (true)
        {
            var filled = Volatile.Read(ref _state.Filled[index]);
            var length = _state.ChunkLength(index);
            if (filled == length)
                return;
            var before = filled;
            try
            {
                await CopyRangeAsync(handle, index, _state.ChunkStart(index) + filled, _state.ChunkStart(index) + length - 1, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                // Attempts that moved the chunk forward don't count: a flaky but working link still finishes.
                failures = Volatile.Read(ref _state.Filled[index]) > before ? 1 : failures + 1;
                if (failures > _options.MaxRetries)
                {
                    throw new HubException(HubErrorKind.Network,
                        $"downloading {_repo}/{_meta.Path} failed after {_options.MaxRetries} retries ({e.Message}); run the same command again to resume", e);
                }
                var delay = _options.RetryDelay * Math.Pow(2, failures - 1);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task CopyRangeAsync(SafeFileHandle handle, int index, long start, long endInclusive, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(_client.ReadIdleTimeout);
        var (response, body) = await _client.OpenRangeAsync(_repo, _meta.Path, _options.Revision, start, endInclusive, idle.Token).ConfigureAwait(false);
        using (response)
        await using (body)
        {
            var buffer = new byte[BufferSize];
            var position = start;
            while (position <= endInclusive)
            {
                idle.CancelAfter(_client.ReadIdleTimeout);
                var want = (int)Math.Min(buffer.Length, endInclusive + 1 - position);
                var read = await body.ReadAsync(buffer.AsMemory(0, want), idle.Token).ConfigureAwait(false);
                if (read == 0)
                    throw new IOException($"the connection closed at byte {position} of {_meta.Path} (expected up to {endInclusive})");
                await RandomAccess.WriteAsync(handle, buffer.AsMemory(0, read), position, cancellationToken).ConfigureAwait(false);
                position += read;
                Interlocked.Add(ref _state.Filled[index], read);
            }
        }
    }

    private static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        HubException hub => hub.Kind == HubErrorKind.Network,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,   // our idle timeout, not the caller
        IOException or HttpRequestException => true,
        _ => false,
    };
}
