namespace Llamero.Hub;

/// <summary>
/// Models fetched on demand, like llama.cpp's <c>-hf</c>: <c>hf:OWNER/NAME/FILE</c> downloads FILE into
/// CACHE/hub/OWNER--NAME/REVISION/ (CACHE: <c>LLAMERO_CACHE</c>, else ~/.cache/llamero) unless it is already there,
/// and returns its local path. <c>hf:OWNER/NAME:TAG</c> picks the repo's one .gguf file whose name contains TAG
/// (case-insensitive, e.g. <c>:Q4_K_M</c>); <c>hf:OWNER/NAME</c> alone picks the only .gguf, or the Q4_K_M one.
/// A byte-split model resolves to its first part (NAME-split-a), which the GGUF reader opens with its siblings.
/// </summary>
public static class HubCache
{
    /// <summary>The prefix that marks a hub model spec.</summary>
    public const string Prefix = "hf:";

    /// <summary>True when <paramref name="spec"/> names a hub model (starts with <c>hf:</c>).</summary>
    public static bool IsHubSpec(string spec) => spec.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Downloads the model <paramref name="spec"/> names into the cache if needed and returns its local path.</summary>
    public static async Task<string> ResolveAsync(string spec, HubSettings? settings = null, IProgress<DownloadProgress>? progress = null,
        string revision = "main", CancellationToken cancellationToken = default)
    {
        settings ??= HubSettings.FromEnvironment();
        var (repo, file, tag) = Parse(spec);
        var localDir = Path.Combine(settings.CacheDirectory, "hub", repo.Replace("/", "--"), revision);
        if (file is not null && FindComplete(localDir, file) is { } cached)
            return cached;   // offline-friendly: a finished download is used without asking the hub

        using var client = new HubClient(settings);
        var options = new DownloadOptions { Revision = revision, Progress = progress };
        file ??= PickGguf(repo, await client.ListFilesAsync(repo, revision, cancellationToken).ConfigureAwait(false), tag);
        if (FindComplete(localDir, file) is { } present)
            return present;
        var paths = await new HubDownloader(client).DownloadAsync(repo, [file], [], localDir, options, cancellationToken).ConfigureAwait(false);
        return paths[0];
    }

    /// <summary>Splits <c>hf:OWNER/NAME[/FILE | :TAG]</c> into its parts; throws a clear error for anything else.</summary>
    public static (string Repo, string? File, string? Tag) Parse(string spec)
    {
        var body = IsHubSpec(spec) ? spec[Prefix.Length..] : spec;
        var parts = body.Split('/', 3);
        if (parts.Length < 2 || parts[0].Length == 0 || parts[1].Length == 0)
            throw new HubException(HubErrorKind.NotFound, $"'{spec}' is not a hub model: expected hf:OWNER/NAME/FILE.gguf or hf:OWNER/NAME:QUANT");
        string? tag = null;
        var name = parts[1];
        if (parts.Length == 2 && name.IndexOf(':') is var colon and > 0)
        {
            tag = name[(colon + 1)..];
            name = name[..colon];
        }
        var repo = parts[0] + "/" + name;
        RepoId.Validate(repo);
        return (repo, parts.Length == 3 && parts[2].Length > 0 ? parts[2] : null, tag);
    }

    private static string PickGguf(string repo, IReadOnlyList<HubFile> listing, string? tag)
    {
        var ggufs = listing.Select(f => SplitParts.WholeName(f.Path))
            .Where(p => p.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            .Distinct()
            .ToList();
        var wanted = tag ?? (ggufs.Count == 1 ? null : "Q4_K_M");
        var matches = wanted is null ? ggufs : ggufs.Where(p => Path.GetFileName(p).Contains(wanted, StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count == 1)
            return matches[0];
        var choices = ggufs.Count == 0 ? "it holds no .gguf file" : "choose one of: " + string.Join(", ", ggufs);
        throw new HubException(HubErrorKind.NoMatch,
            matches.Count == 0
                ? $"no .gguf file of {repo} matches '{wanted}': {choices}"
                : $"several .gguf files of {repo} match '{wanted}': {string.Join(", ", matches)}; name the file (hf:{repo}/FILE)");
    }

    private static string? FindComplete(string localDir, string file)
    {
        var whole = RepoId.LocalPath(localDir, file);
        var incomplete = RepoId.LocalPath(Path.Combine(localDir, HubDownloader.StateFolder), file);
        if (File.Exists(whole) && !File.Exists(incomplete + ".incomplete"))
            return whole;
        var dir = Path.GetDirectoryName(whole)!;
        if (!Directory.Exists(dir))
            return null;
        var parts = SplitParts.PartsOf(Path.GetFileName(whole), Directory.EnumerateFiles(dir).Select(Path.GetFileName).OfType<string>());
        // Parts are only known complete by the listing; without it, trust them when no part is still downloading.
        if (parts.Count < 2 || Directory.Exists(Path.GetDirectoryName(incomplete)) &&
            Directory.EnumerateFiles(Path.GetDirectoryName(incomplete)!, Path.GetFileName(whole) + "-split-*.incomplete").Any())
            return null;
        return Path.Combine(dir, parts[0]);
    }
}
