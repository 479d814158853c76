using System.Globalization;
using System.Text.RegularExpressions;

namespace Llamero.Gguf;

/// <summary>
/// File names of models stored as more than one file:
/// byte-split parts (<c>x.gguf-split-a</c>, <c>x.gguf-split-b</c>, ...: one GGUF cut in pieces, <c>cat</c> joins them) and
/// llama.cpp gguf-split shards (<c>x-00001-of-00003.gguf</c>: each a complete GGUF holding some of the tensors).
/// </summary>
public static partial class GgufSplitNaming
{
    private const string PartMarker = "-split-";

    /// <summary>Name of byte-split part <paramref name="index"/> (0 = a) of the joined file <paramref name="joinedPath"/>.</summary>
    public static string PartPath(string joinedPath, int index) =>
        index is >= 0 and < 26 ? joinedPath + PartMarker + (char)('a' + index) : throw new ArgumentOutOfRangeException(nameof(index), "at most 26 parts (a..z)");

    /// <summary>
    /// When <paramref name="path"/> names a byte-split part (<c>...-split-b</c>), or a joined file that does not exist
    /// but whose part a does, returns the joined path; otherwise null.
    /// </summary>
    public static string? JoinedPathOf(string path)
    {
        var name = Path.GetFileName(path);
        var at = name.LastIndexOf(PartMarker, StringComparison.Ordinal);
        if (at > 0 && name.Length == at + PartMarker.Length + 1 && name[^1] is >= 'a' and <= 'z')
            return path[..^(PartMarker.Length + 1)];
        if (!File.Exists(path) && File.Exists(PartPath(path, 0)))
            return path;
        return null;
    }

    /// <summary>Existing parts a, b, c, ... of <paramref name="joinedPath"/>, in order; stops at the first missing letter.</summary>
    public static List<string> ExistingParts(string joinedPath)
    {
        var parts = new List<string>();
        for (var i = 0; i < 26 && File.Exists(PartPath(joinedPath, i)); i++)
            parts.Add(PartPath(joinedPath, i));
        return parts;
    }

    /// <summary>Name of gguf-split shard <paramref name="number"/> (from 1) of <paramref name="count"/>: <c>PREFIX-00002-of-00003.gguf</c>.</summary>
    public static string ShardPath(string prefix, int number, int count) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}-{number:D5}-of-{count:D5}.gguf");

    /// <summary>Parses a shard file name into its prefix, number (from 1) and count; false when it is not one.</summary>
    public static bool TryParseShardPath(string path, out string prefix, out int number, out int count)
    {
        var m = ShardName().Match(path);
        if (!m.Success)
        {
            prefix = "";
            number = count = 0;
            return false;
        }
        prefix = m.Groups["prefix"].Value;
        number = int.Parse(m.Groups["no"].Value, CultureInfo.InvariantCulture);
        count = int.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture);
        return true;
    }

    [GeneratedRegex(@"^(?<prefix>.+)-(?<no>\d{5})-of-(?<count>\d{5})\.gguf$")]
    private static partial Regex ShardName();
}
