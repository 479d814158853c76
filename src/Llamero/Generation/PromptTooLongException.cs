namespace Llamero.Generation;

/// <summary>The prompt does not fit in the context window.</summary>
public sealed class PromptTooLongException : ArgumentException
{
    /// <summary>Creates the error with the counts.</summary>
    public PromptTooLongException(int promptTokens, int available, int contextSize)
        : base(available == contextSize
            ? $"prompt is too long: {promptTokens} tokens, the context holds {contextSize}"
            : $"prompt is too long: {promptTokens} tokens, {available} of the context's {contextSize} are free")
    {
        PromptTokens = promptTokens;
        Available = available;
        ContextSize = contextSize;
    }

    /// <summary>Tokens in the prompt.</summary>
    public int PromptTokens { get; }

    /// <summary>Tokens the context could still take.</summary>
    public int Available { get; }

    /// <summary>The context size.</summary>
    public int ContextSize { get; }
}
