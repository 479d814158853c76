namespace Llamero.Gguf;

/// <summary>A GGUF file (or a set of split files) that is malformed: names the file, the byte offset and what is wrong.</summary>
public sealed class GgufFormatException : FormatException
{
    /// <summary>Creates the exception; the message reads "FILE at byte OFFSET: PROBLEM".</summary>
    public GgufFormatException(string path, long offset, string problem)
        : base($"{path} at byte {offset}: {problem}")
    {
        FilePath = path;
        Offset = offset;
        Problem = problem;
    }

    /// <summary>The file that is malformed.</summary>
    public string FilePath { get; }

    /// <summary>Byte offset (in the logical file) where the problem was found.</summary>
    public long Offset { get; }

    /// <summary>What is wrong, without the file and offset.</summary>
    public string Problem { get; }
}
