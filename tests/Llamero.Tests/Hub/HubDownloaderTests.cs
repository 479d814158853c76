using Llamero.Hub;
using Llamero.Tests.Support;

namespace Llamero.Tests.Hub;

/// <summary>The downloader against a fake hub on 127.0.0.1: redirects, ranges, resume, hashes, errors.</summary>
public sealed class HubDownloaderTests : IDisposable
{
    private const string Repo = "acme/Tiny-GGUF";
    private const int ChunkSize = 256 << 10;
    private readonly FakeHub _hub = new();
    private readonly byte[] _q4 = FakeHub.RandomBytes(3 * 1024 * 1024 + 12345, seed: 1);
    private readonly byte[] _q8 = FakeHub.RandomBytes(700_000, seed: 2);
    private readonly byte[] _splitA = FakeHub.RandomBytes(1_000_000, seed: 3);
    private readonly byte[] _splitB = FakeHub.RandomBytes(400_001, seed: 4);
    private readonly byte[] _readme = "# Tiny\nA test repo.\n"u8.ToArray();
    private readonly string _dir = TestPaths.NewTempDir("llamero-hub");

    public HubDownloaderTests()
    {
        _hub.AddRepo(Repo);
        _hub.AddFile(Repo, "README.md", _readme, lfs: false);
        _hub.AddFile(Repo, "tiny.Q4_K_M.gguf", _q4);
        _hub.AddFile(Repo, "tiny.Q8_0.gguf", _q8);
        _hub.AddFile(Repo, "big.Q4_K_M.gguf-split-a", _splitA);
        _hub.AddFile(Repo, "big.Q4_K_M.gguf-split-b", _splitB);
        _hub.AddFile(Repo, "sub/dir/notes.txt", System.Text.Encoding.ASCII.GetBytes("notes"), lfs: false);
    }

    private HubClient Client(string? token = null) => new(new HubSettings { Endpoint = _hub.Endpoint, Token = token, CacheDirectory = _dir });

    private static DownloadOptions Options(int retries = 3) =>
        new() { Connections = 4, ChunkSize = ChunkSize, MaxRetries = retries, RetryDelay = TimeSpan.Zero };

    private string Local(string file) => Path.Combine(_dir, file);

    private string Partial(string file) => Path.Combine(_dir, ".cache", "llamero", file + ".incomplete");

    [Fact]
    public async Task Downloads_an_lfs_file_in_parallel_ranges_through_the_cdn_redirect_and_verifies_it()
    {
        using var client = Client(token: "secret");
        var paths = await new HubDownloader(client).DownloadAsync(Repo, ["tiny.Q4_K_M.gguf"], [], _dir, Options());

        Assert.Equal([Local("tiny.Q4_K_M.gguf")], paths);
        Assert.Equal(_q4, await File.ReadAllBytesAsync(paths[0]));
        Assert.False(File.Exists(Partial("tiny.Q4_K_M.gguf")));
        Assert.False(File.Exists(Partial("tiny.Q4_K_M.gguf") + ".json"));
        var cdn = _hub.Log.Where(l => l.StartsWith("CDN GET", StringComparison.Ordinal)).ToList();
        Assert.Equal((_q4.Length + ChunkSize - 1) / ChunkSize, cdn.Count);          // one ranged GET per chunk
        Assert.All(cdn, l => Assert.Contains("bytes=", l));
        Assert.All(cdn, l => Assert.DoesNotContain("Bearer", l));                      // the token stays on the hub
        Assert.Contains(_hub.Log, l => l.StartsWith("HUB HEAD", StringComparison.Ordinal) && l.EndsWith("Bearer secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_run_skips_a_file_already_in_place()
    {
        using var client = Client();
        var downloader = new HubDownloader(client);
        await downloader.DownloadAsync(Repo, ["tiny.Q8_0.gguf"], [], _dir, Options());
        var served = _hub.CdnBytesSent;
        var reports = new List<DownloadProgress>();
        await downloader.DownloadAsync(Repo, ["tiny.Q8_0.gguf"], [], _dir, Options() with { Progress = new SyncProgress(reports) });
        Assert.Equal(served, _hub.CdnBytesSent);
        Assert.Equal(DownloadPhase.UpToDate, Assert.Single(reports).Phase);
    }

    [Fact]
    public async Task A_git_file_is_verified_against_its_blob_id_and_subfolders_are_kept()
    {
        using var client = Client();
        var paths = await new HubDownloader(client).DownloadAsync(Repo, ["README.md", "sub/dir/notes.txt"], [], _dir, Options());
        Assert.Equal(_readme, await File.ReadAllBytesAsync(paths[0]));
        Assert.Equal("notes", await File.ReadAllTextAsync(Path.Combine(_dir, "sub", "dir", "notes.txt")));
    }

    [Fact]
    public async Task A_connection_dropped_mid_file_is_resumed_from_where_it_stopped()
    {
        _hub.DropNextDownloads = 3;
        _hub.DropAfterBytes = 100_000;
        using var client = Client();
        var paths = await new HubDownloader(client).DownloadAsync(Repo, ["tiny.Q4_K_M.gguf"], [], _dir, Options());

        Assert.Equal(_q4, await File.ReadAllBytesAsync(paths[0]));
        // The retries asked for the rest of a chunk, not the chunk again.
        var starts = _hub.Log.Where(l => l.StartsWith("CDN GET", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split("bytes=")[1].Split('-')[0])).ToList();
        Assert.Contains(starts, s => s % ChunkSize == 100_000);
        Assert.True(_hub.CdnBytesSent < _q4.Length + 3 * 100_000 + 1, $"served {_hub.CdnBytesSent} bytes for a {_q4.Length}-byte file");
    }

    [Fact]
    public async Task An_interrupted_run_leaves_a_partial_file_that_the_next_run_completes()
    {
        _hub.DropNextDownloads = 1000;   // every transfer dies
        using var client = Client();
        var downloader = new HubDownloader(client);
        var error = await Assert.ThrowsAsync<HubException>(() => downloader.DownloadAsync(Repo, ["tiny.Q4_K_M.gguf"], [], _dir, Options(retries: 1)));
        Assert.Equal(HubErrorKind.Network, error.Kind);
        Assert.Contains("resume", error.Message);
        Assert.False(File.Exists(Local("tiny.Q4_K_M.gguf")));
        Assert.True(File.Exists(Partial("tiny.Q4_K_M.gguf")));
        Assert.True(File.Exists(Partial("tiny.Q4_K_M.gguf") + ".json"));

        _hub.DropNextDownloads = 0;
        var before = _hub.CdnBytesSent;
        var paths = await downloader.DownloadAsync(Repo, ["tiny.Q4_K_M.gguf"], [], _dir, Options());
        Assert.Equal(_q4, await File.ReadAllBytesAsync(paths[0]));
        Assert.True(_hub.CdnBytesSent - before < _q4.Length, "the second run fetched only what was missing");
        Assert.False(File.Exists(Partial("tiny.Q4_K_M.gguf")));
    }

    [Fact]
    public async Task A_server_that_ignores_range_requests_still_gives_the_right_file()
    {
        _hub.IgnoreRange = true;
        using var client = Client();
        var paths = await new HubDownloader(client).DownloadAsync(Repo, ["tiny.Q8_0.gguf"], [], _dir, Options());
        Assert.Equal(_q8, await File.ReadAllBytesAsync(paths[0]));
    }

    [Fact]
    public async Task Bytes_with_the_wrong_hash_are_never_renamed_into_place()
    {
        _hub.Corrupt = true;
        using var client = Client();
        var downloader = new HubDownloader(client);
        var error = await Assert.ThrowsAsync<HubException>(() => downloader.DownloadAsync(Repo, ["tiny.Q8_0.gguf"], [], _dir, Options()));
        Assert.Equal(HubErrorKind.IntegrityMismatch, error.Kind);
        Assert.Contains("sha256", error.Message);
        Assert.False(File.Exists(Local("tiny.Q8_0.gguf")));
        Assert.True(File.Exists(Partial("tiny.Q8_0.gguf")));        // kept: the next run starts from the sidecar

        _hub.Corrupt = false;
        var paths = await downloader.DownloadAsync(Repo, ["tiny.Q8_0.gguf"], [], _dir, Options());
        Assert.Equal(_q8, await File.ReadAllBytesAsync(paths[0]));
    }

    [Fact]
    public async Task Missing_file_and_missing_repo_say_not_found()
    {
        using var client = Client();
        var downloader = new HubDownloader(client);
        var file = await Assert.ThrowsAsync<HubException>(() => downloader.DownloadAsync(Repo, ["nope.gguf"], [], _dir, Options()));
        Assert.Equal(HubErrorKind.NotFound, file.Kind);
        Assert.Contains("not found", file.Message);
        Assert.Contains("nope.gguf", file.Message);
        var repo = await Assert.ThrowsAsync<HubException>(() => downloader.DownloadAsync("acme/missing", ["x.gguf"], [], _dir, Options()));
        Assert.Equal(HubErrorKind.NotFound, repo.Kind);
        Assert.Contains("repo not found", repo.Message);
        Assert.Empty(Directory.EnumerateFiles(_dir, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_gated_repo_asks_for_HF_TOKEN_and_opens_with_it()
    {
        _hub.AddRepo("meta/gated", token: "hf_good");
        _hub.AddFile("meta/gated", "m.gguf", _q8);
        using (var anonymous = Client())
        {
            var error = await Assert.ThrowsAsync<HubException>(() => new HubDownloader(anonymous).DownloadAsync("meta/gated", ["m.gguf"], [], _dir, Options()));
            Assert.Equal(HubErrorKind.Unauthorized, error.Kind);
            Assert.Equal(401, error.StatusCode);
            Assert.Contains("gated", error.Message);
            Assert.Contains("HF_TOKEN", error.Message);
        }
        using var authorised = Client(token: "hf_good");
        var paths = await new HubDownloader(authorised).DownloadAsync("meta/gated", ["m.gguf"], [], _dir, Options());
        Assert.Equal(_q8, await File.ReadAllBytesAsync(paths[0]));
    }

    [Fact]
    public async Task An_include_pattern_takes_every_match_and_whole_sets_of_split_parts()
    {
        _hub.PageSize = 2;   // the listing comes in pages
        using var client = Client();
        var paths = await new HubDownloader(client).DownloadAsync(Repo, [], ["*Q4_K*gguf"], _dir, Options());
        Assert.Equal([Local("big.Q4_K_M.gguf-split-a"), Local("big.Q4_K_M.gguf-split-b"), Local("tiny.Q4_K_M.gguf")], paths);
        Assert.Equal(_splitB, await File.ReadAllBytesAsync(paths[1]));
        Assert.False(File.Exists(Local("tiny.Q8_0.gguf")));
    }

    [Fact]
    public async Task A_file_stored_as_split_parts_comes_together_when_asked_for_by_name()
    {
        using var client = Client();
        var paths = await new HubDownloader(client).DownloadAsync(Repo, ["big.Q4_K_M.gguf"], [], _dir, Options() with { JoinSplitParts = true });
        Assert.Equal([Local("big.Q4_K_M.gguf")], paths);
        var joined = await File.ReadAllBytesAsync(paths[0]);
        Assert.Equal(_splitA.Concat(_splitB).ToArray(), joined);
        Assert.False(File.Exists(Local("big.Q4_K_M.gguf-split-a")));
    }

    [Fact]
    public async Task A_pattern_without_a_match_is_a_clear_error()
    {
        using var client = Client();
        var error = await Assert.ThrowsAsync<HubException>(() => new HubDownloader(client).DownloadAsync(Repo, [], ["*Q3_K_S*"], _dir, Options()));
        Assert.Equal(HubErrorKind.NoMatch, error.Kind);
        Assert.Contains("no file of acme/Tiny-GGUF matches '*Q3_K_S*'", error.Message);
        Assert.Contains("tiny.Q8_0.gguf", error.Message);
    }

    [Fact]
    public async Task The_metadata_head_reads_linked_size_and_etag()
    {
        using var client = Client();
        var meta = await client.GetMetadataAsync(Repo, "tiny.Q4_K_M.gguf");
        Assert.Equal(_q4.Length, meta.Size);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(_q4)), meta.Sha256);
        Assert.Equal(FakeHub.Commit, meta.Commit);
        var git = await client.GetMetadataAsync(Repo, "README.md");
        Assert.Null(git.Sha256);
        Assert.NotNull(git.GitBlobId);
    }

    [Fact]
    public async Task A_listing_path_that_escapes_the_folder_is_refused()
    {
        _hub.AddFile(Repo, "../evil.gguf", _readme, lfs: false);
        using var client = Client();
        var error = await Assert.ThrowsAsync<HubException>(() => new HubDownloader(client).DownloadAsync(Repo, [], ["*evil*"], _dir, Options()));
        Assert.Contains("leave the target folder", error.Message);
    }

    public void Dispose()
    {
        _hub.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>IProgress that records synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    internal sealed class SyncProgress(List<DownloadProgress> sink) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value)
        {
            lock (sink)
                sink.Add(value);
        }
    }
}
