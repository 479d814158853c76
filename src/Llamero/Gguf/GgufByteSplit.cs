namespace Llamero.Gguf;

/// <summary>
/// Plain byte-split parts (<c>x.gguf-split-a</c>, <c>-split-b</c>, ...), as model cards publish files over 50 GB:
/// one GGUF cut at arbitrary byte positions, only part a carrying the header. <see cref="GgufFile.Open"/> reads them
/// in place; this class joins them into one file, or cuts one.
/// </summary>
public static class GgufByteSplit
{
    private const int CopyBuffer = 1 << 20;

    /// <summary>
    /// Concatenates the parts of <paramref name="anyPartOrJoinedName"/> into <paramref name="output"/> after checking that
    /// the header parses and the parts hold exactly the tensor data it describes (no part missing, none extra). Writes
    /// a temporary file and renames it, so <paramref name="output"/> is never left half written. Returns the parts joined.
    /// </summary>
    public static IReadOnlyList<string> Join(string anyPartOrJoinedName, string output)
    {
        IReadOnlyList<string> parts;
        using (var file = GgufFile.Open(anyPartOrJoinedName))
        {
            parts = file.Files;
            if (file.ShardCount > 1)
                throw new ArgumentException($"{anyPartOrJoinedName} is a gguf-split shard set; use merge, not join.");
        }
        var target = Path.GetFullPath(output);
        if (parts.Any(p => Path.GetFullPath(p) == target))
            throw new ArgumentException($"The output {output} is one of the parts being joined.");
        var temp = target + $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            using (var destination = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBuffer))
            {
                foreach (var part in parts)
                {
                    using var source = new FileStream(part, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBuffer);
                    source.CopyTo(destination, CopyBuffer);
                }
                destination.Flush(flushToDisk: true);
            }
            using (GgufFile.Open(temp)) { } // the joined bytes must parse as the parts did
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
        return parts;
    }

    /// <summary>
    /// Cuts <paramref name="path"/> into parts of at most <paramref name="partBytes"/> bytes named
    /// <c>{outputJoinedName}-split-a</c>, <c>-split-b</c>, ... (the inverse of <see cref="Join"/>). Returns the parts.
    /// </summary>
    public static IReadOnlyList<string> Cut(string path, string outputJoinedName, long partBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partBytes, 1);
        using (GgufFile.Open(path)) { } // only cut what parses
        var parts = new List<string>();
        using var source = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBuffer);
        var buffer = new byte[CopyBuffer];
        for (var index = 0; source.Position < source.Length; index++)
        {
            var part = GgufSplitNaming.PartPath(outputJoinedName, index);
            var temp = part + ".tmp";
            using (var destination = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, CopyBuffer))
            {
                for (var left = Math.Min(partBytes, source.Length - source.Position); left > 0;)
                {
                    var n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                    destination.Write(buffer, 0, n);
                    left -= n;
                }
            }
            File.Move(temp, part, overwrite: true);
            parts.Add(part);
        }
        return parts;
    }
}
