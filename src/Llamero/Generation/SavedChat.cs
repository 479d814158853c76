using System.Text.Json.Serialization;

namespace Llamero.Generation;

/// <summary>A conversation as <see cref="ChatSession.Save"/> writes it.</summary>
internal sealed record SavedChat(
    [property: JsonPropertyName("template")] string? Template,
    [property: JsonPropertyName("system")] string? System,
    [property: JsonPropertyName("messages")] SavedMessage[] Messages)
{
    /// <summary>The tokens the KV cache held, in order (null when unknown).</summary>
    [JsonPropertyName("tokens")]
    public int[]? Tokens { get; init; }

    /// <summary>The text those tokens stand for (the rendered prompts and the generated text).</summary>
    [JsonPropertyName("text")]
    public string? Text { get; init; }
}

/// <summary>One saved message.</summary>
internal sealed record SavedMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content);

[JsonSerializable(typeof(SavedChat))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class SavedChatJson : JsonSerializerContext;
