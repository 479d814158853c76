using Llamero.Gguf;

namespace Llamero.Chat;

public static partial class ChatTemplates
{
    /// <summary>
    /// The template a GGUF file's <c>tokenizer.chat_template</c> describes, when it is one this engine recognises
    /// (see <see cref="Detect"/>); null when the key is absent (as in Synthia's files) or the template is unknown.
    /// </summary>
    public static ChatTemplate? FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.TryGet<string>(GgufKeys.Tokenizer.ChatTemplate, out var jinja) ? Detect(jinja) : null;
    }
}
