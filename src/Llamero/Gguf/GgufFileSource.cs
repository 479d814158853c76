namespace Llamero.Gguf;

/// <summary>One complete GGUF file (a single file or the byte-split parts that form it), mapped and header-validated.</summary>
internal sealed class GgufFileSource : IDisposable
{
    private GgufFileSource(string displayPath, GgufByteSpace space, GgufHeader header)
    {
        DisplayPath = displayPath;
        Space = space;
        Header = header;
    }

    /// <summary>The file name (for byte-split parts: the joined name).</summary>
    public string DisplayPath { get; }

    public GgufByteSpace Space { get; }

    public GgufHeader Header { get; }

    /// <summary>Opens <paramref name="path"/>, a plain file or a byte-split part (or joined name), and validates its header and size.</summary>
    public static GgufFileSource Open(string path)
    {
        var joined = GgufSplitNaming.JoinedPathOf(path);
        var parts = joined is null ? [path] : GgufSplitNaming.ExistingParts(joined);
        if (joined is not null && (parts.Count == 0 || (path != joined && !parts.Contains(path))))
        {
            var missing = GgufSplitNaming.PartPath(joined, parts.Count);
            throw new GgufFormatException(path, 0, $"byte-split part {missing} is missing");
        }
        if (joined is null && !File.Exists(path))
            throw new FileNotFoundException($"GGUF file not found: {path}", path);
        var display = joined ?? path;
        var space = GgufByteSpace.Open(parts);
        try
        {
            var header = GgufHeaderReader.Read(space, display);
            CheckSize(display, parts, space, header);
            return new GgufFileSource(display, space, header);
        }
        catch
        {
            space.Dispose();
            throw;
        }
    }

    /// <summary>The data must fit in the file; byte-split parts must reach the end of the tensor data and the last part
    /// must hold some of it, so a missing or extra part is named.</summary>
    private static void CheckSize(string display, List<string> parts, GgufByteSpace space, GgufHeader header)
    {
        var required = header.RequiredLength;
        if (space.Length < required)
        {
            if (parts.Count > 1 || parts[0] != display)
            {
                var next = GgufSplitNaming.PartPath(display, parts.Count);
                throw new GgufFormatException(display, space.Length,
                    $"byte-split part {next} is missing: the parts hold {space.Length} bytes but the tensor table needs {required}");
            }
            var last = header.Tensors.Where(t => t.ByteSize > 0).MaxBy(t => t.Offset + t.ByteSize);
            throw new GgufFormatException(display, space.Length,
                $"truncated: tensor {last?.Name} data ends at byte {required} but the file has {space.Length} bytes");
        }
        if (parts.Count > 1)
        {
            var lastStart = space.Length - space.Parts[^1].Length;
            if (lastStart >= required)
                throw new GgufFormatException(parts[^1], 0,
                    $"extra byte-split part: the tensor table ends at byte {required} of {display} but the parts hold {space.Length} bytes");
        }
    }

    public void Dispose() => Space.Dispose();
}
