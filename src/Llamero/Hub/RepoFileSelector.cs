namespace Llamero.Hub;

/// <summary>Picks the files of a repo listing that <c>--include</c> patterns name, keeping byte-split parts together.</summary>
public static class RepoFileSelector
{
    /// <summary>
    /// Files whose path (or, for a byte-split part, the whole file's name) matches any pattern; a matched part brings
    /// its sibling parts. No pattern selects everything. Throws <see cref="HubErrorKind.NoMatch"/> when nothing matches.
    /// </summary>
    public static IReadOnlyList<HubFile> Select(string repo, IReadOnlyList<HubFile> listing, IReadOnlyList<string> patterns)
    {
        if (patterns.Count == 0)
            return listing.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        var globs = patterns.Select(p => new Glob(p)).ToList();
        var wholeNames = listing
            .Where(f => globs.Any(g => g.IsMatch(f.Path) || g.IsMatch(SplitParts.WholeName(f.Path))))
            .Select(f => SplitParts.WholeName(f.Path))
            .ToHashSet(StringComparer.Ordinal);
        var selected = listing.Where(f => wholeNames.Contains(SplitParts.WholeName(f.Path)))
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
        if (selected.Count == 0)
        {
            var sample = string.Join(", ", listing.Select(f => f.Path).Where(p => !p.StartsWith('.')).Take(8));
            throw new HubException(HubErrorKind.NoMatch,
                $"no file of {repo} matches {string.Join(" or ", patterns.Select(p => $"'{p}'"))} ({listing.Count} files in the repo{(sample.Length > 0 ? ": " + sample + (listing.Count > 8 ? ", ..." : "") : "")})");
        }
        return selected;
    }
}
