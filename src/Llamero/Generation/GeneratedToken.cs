namespace Llamero.Generation;

/// <summary>Why generation ended.</summary>
public enum FinishReason
{
    /// <summary>The model produced an end-of-generation token (EOS, end of turn) or a BOS that starts a new document.</summary>
    EndOfGeneration,

    /// <summary>A stop string appeared in the text.</summary>
    StopString,

    /// <summary><see cref="GenerationOptions.MaxTokens"/> tokens were generated.</summary>
    MaxTokens,

    /// <summary>The context is full and context shift is disabled.</summary>
    ContextFull,
}

/// <summary>A likely token at one position and its log-probability.</summary>
public readonly record struct TokenLogProb(int Id, float LogProb);

/// <summary>
/// One step of a generation stream. Every generated token comes as one item whose <see cref="Text"/> holds the
/// characters it completes (possibly empty: half a UTF-8 character, or text held back while it may start a stop
/// string). The stream always ends with one last item carrying <see cref="FinishReason"/> and
/// <see cref="Timings"/>: its <see cref="Id"/> is the end-of-generation token when that ended it, else -1, and its
/// text is whatever was still held back.
/// </summary>
/// <param name="Id">Token id, or -1 on a last item that stands for no token.</param>
/// <param name="Text">Text to append to the output.</param>
public sealed record GeneratedToken(int Id, string Text)
{
    /// <summary>Log-probability of <see cref="Id"/> under the model, when asked for.</summary>
    public float? LogProb { get; init; }

    /// <summary>The most likely tokens at this position, when asked for.</summary>
    public IReadOnlyList<TokenLogProb>? TopLogProbs { get; init; }

    /// <summary>Set on the last item only.</summary>
    public FinishReason? FinishReason { get; init; }

    /// <summary>Set on the last item only.</summary>
    public GenerationTimings? Timings { get; init; }

    /// <summary>True on the last item of the stream.</summary>
    public bool IsLast => FinishReason is not null;
}
