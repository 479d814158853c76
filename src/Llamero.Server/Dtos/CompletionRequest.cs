using System.Text.Json.Serialization;
using Llamero.Server.Json;

namespace Llamero.Server.Dtos;

/// <summary>Body of <c>POST /v1/completions</c> (legacy text completion).</summary>
public sealed class CompletionRequest : SamplingRequestFields
{
    /// <summary>The prompt: a string, a one-element array of strings, or token ids.</summary>
    [JsonConverter(typeof(PromptInputConverter))]
    public PromptInput? Prompt { get; set; }

    /// <summary>Number of alternatives per position to return with each token (0..5), or null for none.</summary>
    public int? Logprobs { get; set; }

    /// <summary>Prepend the prompt to the returned text.</summary>
    public bool? Echo { get; set; }

    /// <summary>Only 1 (or absent) is supported.</summary>
    public int? BestOf { get; set; }

    /// <summary>Text after the insertion point: not supported (must be absent or empty).</summary>
    public string? Suffix { get; set; }
}

/// <summary>A prompt or embedding input: either texts or token-id lists (one entry per item).</summary>
public sealed record PromptInput(IReadOnlyList<string>? Texts, IReadOnlyList<int[]>? TokenLists)
{
    /// <summary>Number of items.</summary>
    public int Count => Texts?.Count ?? TokenLists!.Count;
}
