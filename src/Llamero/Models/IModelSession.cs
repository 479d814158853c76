namespace Llamero.Models;

/// <summary>
/// One sequence being evaluated by a loaded model: owns its KV cache. The generator, perplexity and the server
/// drive models only through this. Not thread-safe: one caller at a time.
/// </summary>
public interface IModelSession : IDisposable
{
    /// <summary>Maximum number of tokens the KV cache holds.</summary>
    int ContextSize { get; }

    /// <summary>Number of tokens already in the KV cache (the position the next token gets).</summary>
    int Position { get; }

    /// <summary>Length of a logits row.</summary>
    int VocabSize { get; }

    /// <summary>
    /// Evaluates <paramref name="tokens"/> at positions <see cref="Position"/>.. (prompt batches as matrix-matrix
    /// products), appends them to the cache and returns the logits of the last one. The span stays valid until
    /// the next call. Throws <see cref="InvalidOperationException"/> with the counts when the context would overflow.
    /// </summary>
    ReadOnlySpan<float> Evaluate(ReadOnlySpan<int> tokens);

    /// <summary>Like <see cref="Evaluate"/> but writes the logits of every token (tokens.Length x VocabSize) into
    /// <paramref name="logits"/>, for perplexity and log-likelihood scoring.</summary>
    void EvaluateAll(ReadOnlySpan<int> tokens, Span<float> logits);

    /// <summary>Forgets every cached token at or after <paramref name="position"/> (0 clears the cache).</summary>
    void Truncate(int position);

    /// <summary>Context shift as llama.cpp does it: keeps the first <paramref name="keep"/> tokens, drops the next
    /// <paramref name="discard"/>, and moves the rest down (re-rotating their cached keys).</summary>
    void Shift(int keep, int discard);
}
