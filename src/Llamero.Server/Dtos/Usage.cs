namespace Llamero.Server.Dtos;

/// <summary>Token counts of one request.</summary>
public sealed class Usage
{
    /// <summary>Tokens in the prompt.</summary>
    public required int PromptTokens { get; init; }

    /// <summary>Tokens generated.</summary>
    public required int CompletionTokens { get; init; }

    /// <summary>Sum of both.</summary>
    public int TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>How many prompt tokens came from the slot's cache instead of being evaluated again.</summary>
    public PromptTokensDetails? PromptTokensDetails { get; init; }
}

/// <summary>Breakdown of the prompt tokens.</summary>
public sealed class PromptTokensDetails
{
    /// <summary>Prompt tokens reused from the slot's KV cache (a matching prefix of its previous prompt).</summary>
    public required int CachedTokens { get; init; }
}
