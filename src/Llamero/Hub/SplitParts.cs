using System.Text.RegularExpressions;

namespace Llamero.Hub;

/// <summary>
/// Byte-split files as TheBloke publishes models over the hub's 50 GB limit: NAME-split-a, NAME-split-b, ...
/// (plain `split -b` pieces; `cat` joins them). A pattern or a name that picks NAME picks every part.
/// </summary>
public static partial class SplitParts
{
    [GeneratedRegex("^(?<name>.+)-split-(?<part>[a-z]{1,3})$", RegexOptions.CultureInvariant)]
    private static partial Regex PartName();

    /// <summary>When <paramref name="path"/> is a byte-split part, the name of the whole file it belongs to.</summary>
    public static bool TryGetWholeName(string path, out string wholeName)
    {
        var m = PartName().Match(path);
        wholeName = m.Success ? m.Groups["name"].Value : path;
        return m.Success;
    }

    /// <summary>The name a pattern is matched against besides the path itself (the whole file's name for a part).</summary>
    public static string WholeName(string path) => TryGetWholeName(path, out var whole) ? whole : path;

    /// <summary>The parts of <paramref name="wholeName"/> among <paramref name="paths"/>, in order (a, b, ..., z, aa, ...).</summary>
    public static IReadOnlyList<string> PartsOf(string wholeName, IEnumerable<string> paths) =>
        paths.Where(p => TryGetWholeName(p, out var whole) && whole == wholeName)
             .OrderBy(p => p.Length).ThenBy(p => p, StringComparer.Ordinal)
             .ToList();

    /// <summary>Concatenates verified parts into <paramref name="target"/> (through a temporary file, renamed at the end)
    /// and deletes the parts.</summary>
    public static async Task JoinAsync(IReadOnlyList<string> partPaths, string target, CancellationToken cancellationToken = default)
    {
        var temp = target + ".joining";
        await using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
        {
            foreach (var part in partPaths)
            {
                await using var input = new FileStream(part, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
                await input.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            }
        }
        File.Move(temp, target, overwrite: true);
        foreach (var part in partPaths)
            File.Delete(part);
    }
}
