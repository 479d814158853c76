using Llamero.Sampling;

namespace Llamero.Generation;

/// <summary>What to generate and when to stop. Defaults follow llama.cpp's <c>main</c>.</summary>
public sealed record GenerationOptions
{
    /// <summary>How tokens are picked.</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Most tokens to generate; -1 runs until an end-of-generation token (or a full context when
    /// <see cref="ContextShift"/> is off). Default -1.</summary>
    public int MaxTokens { get; init; } = -1;

    /// <summary>Texts that end generation; the matched text (and anything after it) is not emitted.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>When the context is full, drop half of the tokens after the first <see cref="Keep"/> (llama.cpp's
    /// context shift) instead of stopping. Default true.</summary>
    public bool ContextShift { get; init; } = true;

    /// <summary>Tokens at the start of the context that a context shift never drops, not counting the BOS token
    /// (always kept); -1 keeps the whole first prompt. Default 0.</summary>
    public int Keep { get; init; }

    /// <summary>Most prompt tokens evaluated in one batch (cancellation is checked between batches). Default 512.</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>Report the log-probability of each generated token under the model (before sampling).</summary>
    public bool LogProbs { get; init; }

    /// <summary>Also report this many most likely alternatives per position (0..20).</summary>
    public int TopLogProbs { get; init; }

    /// <summary>Keep generating past end-of-generation tokens and BOS (they are never sampled: their logits are banned).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Sampling, nameof(Sampling));
        Sampling.Validate();
        if (MaxTokens < -1)
            throw new ArgumentException($"max tokens must be -1 (no limit) or at least 0, got {MaxTokens}");
        if (Keep < -1)
            throw new ArgumentException($"keep must be -1 (the whole prompt) or at least 0, got {Keep}");
        if (BatchSize < 1)
            throw new ArgumentException($"batch size must be positive, got {BatchSize}");
        if (TopLogProbs is < 0 or > 20)
            throw new ArgumentException($"top logprobs must be in 0..20, got {TopLogProbs}");
        ArgumentNullException.ThrowIfNull(StopStrings, nameof(StopStrings));
        if (StopStrings.Any(string.IsNullOrEmpty))
            throw new ArgumentException("stop strings must not be empty");
    }
}
