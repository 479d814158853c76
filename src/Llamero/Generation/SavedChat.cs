using System.Text.Json.Serialization;

namespace Llamero.Generation;

/// <summary>A conversation as <see cref="ChatSession.Save"/> writes it.</summary>
internal sealed record SavedChat(
    [property: JsonPropertyName("template")] string? Template,
    [property: JsonPropertyName("system")] string? System,
    [property: JsonPropertyName("messages")] SavedMessage[] Messages);

/// <summary>One saved message.</summary>
internal sealed record SavedMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content);

[JsonSerializable(typeof(SavedChat))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class SavedChatJson : JsonSerializerContext;
