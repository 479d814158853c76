using System.Text.Json;

namespace Llamero.Cli.Inference;

/// <summary>Appends one <c>{"prompt": ..., "answer": ...}</c> JSON line per chat turn, as the model card's script does.</summary>
internal sealed class ConversationLog(string path)
{
    public string Path { get; } = path;

    public void Append(string prompt, string answer)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("prompt", prompt);
            json.WriteString("answer", answer);
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Checks that the log can be written before the first turn.</summary>
    public static ConversationLog? Open(string? path)
    {
        if (string.IsNullOrEmpty(path))
            return null;
        var full = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir))
            throw new DirectoryNotFoundException($"cannot write the conversation log {path}: folder {dir} does not exist");
        return new ConversationLog(full);
    }
}
