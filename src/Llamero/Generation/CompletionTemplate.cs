using System.Text;
using Llamero.Chat;

namespace Llamero.Generation;

/// <summary>
/// The fallback prompt format for models trained on plain text (such as stories260K): no markup at all. The
/// system text and the first user message open the document, the assistant's answer continues it, and each later
/// user message starts a new line.
/// </summary>
public static class CompletionTemplate
{
    /// <summary>Name of the template.</summary>
    public const string Name = "completion";

    /// <summary>The template instance.</summary>
    public static ChatTemplate Instance { get; } = new(Name, [], Render);

    private static void Render(StringBuilder text, IReadOnlyList<ChatMessage> messages, bool addAssistantPrefix)
    {
        var firstUser = true;
        foreach (var message in messages)
        {
            if (message.Role == "system")
            {
                text.Append(message.Content).Append('\n');
                continue;
            }
            if (message.Role == "user" && !firstUser)
                text.Append('\n');
            firstUser &= message.Role != "user";
            text.Append(message.Content);
        }
    }

    /// <summary>
    /// The template a model should use: <paramref name="name"/> when given (unknown names throw, listing the valid
    /// ones, <c>completion</c> included), else the model's own, else this one.
    /// </summary>
    public static ChatTemplate Resolve(string? name, ChatTemplate? fromModel)
    {
        if (string.IsNullOrEmpty(name))
            return fromModel ?? Instance;
        if (string.Equals(name, Name, StringComparison.OrdinalIgnoreCase))
            return Instance;
        if (ChatTemplates.TryGet(name, out var template))
            return template;
        throw new ArgumentException($"unknown chat template '{name}'; valid names: {string.Join(", ", ChatTemplates.Names.Append(Name).Order(StringComparer.Ordinal))}");
    }
}
