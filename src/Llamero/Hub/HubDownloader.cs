using System.Text.Json;

namespace Llamero.Hub;

/// <summary>
/// Downloads repo files into a folder the way <c>huggingface-cli download --local-dir</c> does: partial files and
/// their sidecars live in DIR/.cache/llamero/, a file is renamed into place only after its size and hash (sha256 of
/// the LFS object, or the git blob id) check out, and a file already present and verified is skipped.
/// </summary>
public sealed class HubDownloader(HubClient client)
{
    /// <summary>Folder under the target folder that holds partial downloads and the records of finished ones.</summary>
    public const string StateFolder = ".cache/llamero";

    /// <summary>
    /// Downloads <paramref name="files"/> (exact paths; NAME also fetches NAME-split-a, -b, ... when only the parts
    /// exist) and every file matching <paramref name="includes"/>; neither given means the whole repo.
    /// Returns the local paths, in repo order.
    /// </summary>
    public async Task<IReadOnlyList<string>> DownloadAsync(string repo, IReadOnlyList<string> files, IReadOnlyList<string> includes,
        string localDir, DownloadOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DownloadOptions();
        RepoId.Validate(repo);
        IReadOnlyList<HubFile>? listing = null;
        async Task<IReadOnlyList<HubFile>> Listing() =>
            listing ??= await client.ListFilesAsync(repo, options.Revision, cancellationToken).ConfigureAwait(false);

        var targets = new List<HubFileMetadata>();
        foreach (var file in files)
        {
            RepoId.LocalPath(localDir, file);   // refuse a path that would leave the folder before asking the hub
            targets.AddRange(await ExactOrSplitAsync(repo, file, options.Revision, Listing, cancellationToken).ConfigureAwait(false));
        }
        if (includes.Count > 0 || files.Count == 0)
        {
            foreach (var file in RepoFileSelector.Select(repo, await Listing().ConfigureAwait(false), includes))
            {
                RepoId.LocalPath(localDir, file.Path);
                if (!targets.Any(t => t.Path == file.Path))
                    targets.Add(await client.GetMetadataAsync(repo, file.Path, options.Revision, cancellationToken).ConfigureAwait(false));
            }
        }

        var paths = new List<string>();
        foreach (var target in targets)
            paths.Add(await DownloadFileAsync(repo, target, localDir, options, cancellationToken).ConfigureAwait(false));
        return options.JoinSplitParts ? await JoinPartsAsync(paths, cancellationToken).ConfigureAwait(false) : paths;
    }

    /// <summary>Downloads one file whose metadata is known, or finds it already in place. Returns its local path.</summary>
    public async Task<string> DownloadFileAsync(string repo, HubFileMetadata meta, string localDir, DownloadOptions options, CancellationToken cancellationToken = default)
    {
        var target = RepoId.LocalPath(localDir, meta.Path);
        var statePath = RepoId.LocalPath(Path.Combine(localDir, StateFolder), meta.Path);
        var recordPath = statePath + ".metadata";
        if (await IsUpToDateAsync(target, recordPath, meta, options, cancellationToken).ConfigureAwait(false))
        {
            options.Progress?.Report(new DownloadProgress(meta.Path, DownloadPhase.UpToDate, meta.Size, meta.Size, 0));
            return target;
        }

        var partial = statePath + ".incomplete";
        var download = new ChunkedDownload(client, repo, meta, options, partial);
        await download.RunAsync(cancellationToken).ConfigureAwait(false);

        var (ok, actual) = await VerifyAsync(partial, meta, options, cancellationToken).ConfigureAwait(false);
        if (!ok)
        {
            download.MarkVerifyFailed();
            throw new HubException(HubErrorKind.IntegrityMismatch,
                $"{meta.Path} from {repo} does not check out: {actual}, the hub says {meta.ETag}. It was not put in place; " +
                $"the partial file stays at {partial} and the next run downloads it again");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
        File.Move(partial, target, overwrite: true);
        File.Delete(download.StatePath);
        WriteRecord(recordPath, target, meta);
        options.Progress?.Report(new DownloadProgress(meta.Path, DownloadPhase.Done, meta.Size, meta.Size, 0));
        return target;
    }

    private async Task<IReadOnlyList<HubFileMetadata>> ExactOrSplitAsync(string repo, string file, string revision,
        Func<Task<IReadOnlyList<HubFile>>> listing, CancellationToken cancellationToken)
    {
        try
        {
            return [await client.GetMetadataAsync(repo, file, revision, cancellationToken).ConfigureAwait(false)];
        }
        catch (HubException e) when (e.Kind == HubErrorKind.NotFound)
        {
            // Not there as one file: maybe the repo holds it as byte-split parts. A missing repo fails here again.
            var parts = SplitParts.PartsOf(file, (await listing().ConfigureAwait(false)).Select(f => f.Path));
            if (parts.Count == 0)
                throw;
            var metas = new List<HubFileMetadata>();
            foreach (var part in parts)
                metas.Add(await client.GetMetadataAsync(repo, part, revision, cancellationToken).ConfigureAwait(false));
            return metas;
        }
    }

    private static async Task<bool> IsUpToDateAsync(string target, string recordPath, HubFileMetadata meta, DownloadOptions options, CancellationToken cancellationToken)
    {
        var info = new FileInfo(target);
        if (!info.Exists || info.Length != meta.Size)
            return false;
        if (ReadRecord(recordPath) is { } record && record.ETag == meta.ETag && record.Size == meta.Size
            && record.ModifiedUtcTicks == info.LastWriteTimeUtc.Ticks)
            return true;
        // Present but unrecorded (copied in by hand, or an older run): trust it only if it hashes right.
        var (ok, _) = await VerifyAsync(target, meta, options, cancellationToken).ConfigureAwait(false);
        if (ok)
            WriteRecord(recordPath, target, meta);
        return ok;
    }

    private static async Task<(bool Ok, string Actual)> VerifyAsync(string path, HubFileMetadata meta, DownloadOptions options, CancellationToken cancellationToken)
    {
        var length = new FileInfo(path).Length;
        if (length != meta.Size)
            return (false, $"size {length} instead of {meta.Size}");
        var rate = new TransferRate(TimeSpan.FromSeconds(5));
        long hashed = 0;
        var lastReport = 0L;
        void OnBytes(long n)
        {
            hashed += n;
            if (hashed - lastReport < (64 << 20) && hashed != meta.Size)
                return;
            lastReport = hashed;
            options.Progress?.Report(new DownloadProgress(meta.Path, DownloadPhase.Verifying, hashed, meta.Size, rate.Sample(hashed)));
        }
        if (meta.Sha256 is { } sha)
        {
            var actual = await FileHash.HashAsync(path, System.Security.Cryptography.HashAlgorithmName.SHA256, null, OnBytes, cancellationToken).ConfigureAwait(false);
            return (actual == sha, $"its sha256 is {actual}");
        }
        if (meta.GitBlobId is { } blob)
        {
            var header = System.Text.Encoding.ASCII.GetBytes($"blob {meta.Size}\0");
            var actual = await FileHash.HashAsync(path, System.Security.Cryptography.HashAlgorithmName.SHA1, header, OnBytes, cancellationToken).ConfigureAwait(false);
            return (actual == blob, $"its git blob id is {actual}");
        }
        return (true, "size matches (the hub gave no hash)");
    }

    private static async Task<IReadOnlyList<string>> JoinPartsAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        var result = new List<string>();
        foreach (var group in paths.GroupBy(SplitParts.WholeName))
        {
            var parts = SplitParts.PartsOf(group.Key, group);
            if (parts.Count == 0)
            {
                result.AddRange(group);
                continue;
            }
            await SplitParts.JoinAsync(parts, group.Key, cancellationToken).ConfigureAwait(false);
            result.Add(group.Key);
        }
        return result;
    }

    private static DownloadedFileRecord? ReadRecord(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), HubJsonContext.Default.DownloadedFileRecord) : null;
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null;
        }
    }

    private static void WriteRecord(string recordPath, string target, HubFileMetadata meta)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(recordPath))!);
        var record = new DownloadedFileRecord
        {
            ETag = meta.ETag, Size = meta.Size, Commit = meta.Commit,
            ModifiedUtcTicks = File.GetLastWriteTimeUtc(target).Ticks,
        };
        File.WriteAllText(recordPath, JsonSerializer.Serialize(record, HubJsonContext.Default.DownloadedFileRecord));
    }
}
