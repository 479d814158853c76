using System.Text;

namespace Llamero.Chat;

/// <summary>
/// A prompt format: renders a conversation into the text a model was trained on, exactly as llama.cpp's
/// <c>llama_chat_apply_template</c> does for the template of the same name, and knows the strings that end
/// the assistant's turn.
/// </summary>
public sealed class ChatTemplate
{
    private readonly Action<StringBuilder, IReadOnlyList<ChatMessage>, bool> _render;

    internal ChatTemplate(string name, IReadOnlyList<string> stopStrings, Action<StringBuilder, IReadOnlyList<ChatMessage>, bool> render)
    {
        Name = name;
        StopStrings = stopStrings;
        _render = render;
    }

    /// <summary>The template's name (llama.cpp's, e.g. <c>vicuna-orca</c>, <c>chatml</c>, <c>llama2-sys</c>).</summary>
    public string Name { get; }

    /// <summary>
    /// Text that marks the end of the assistant's turn (or the start of the next one): generation should stop when
    /// it appears, e.g. <c>USER:</c> for Vicuna or <c>&lt;|im_end|&gt;</c> for ChatML.
    /// </summary>
    public IReadOnlyList<string> StopStrings { get; }

    /// <summary>Renders <paramref name="messages"/>.</summary>
    /// <param name="messages">The conversation so far.</param>
    /// <param name="addAssistantPrefix">End with the text that opens the assistant's turn (to generate the answer).</param>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addAssistantPrefix)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is null || messages[i].Role is null || messages[i].Content is null)
                throw new ArgumentException($"Message {i} has no role or content.", nameof(messages));
        }
        var sb = new StringBuilder();
        _render(sb, messages, addAssistantPrefix);
        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
