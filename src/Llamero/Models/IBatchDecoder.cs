namespace Llamero.Models;

/// <summary>Tokens to append to one sequence in a batched decode step.</summary>
/// <param name="Sequence">The sequence (a session of the decoder's model).</param>
/// <param name="Tokens">Tokens evaluated at the sequence's next positions (at least one).</param>
public readonly record struct SequenceTokens(IModelSession Sequence, ReadOnlyMemory<int> Tokens);

/// <summary>
/// Continuous batching: evaluates the next tokens of several sequences of one model in one forward pass, so every
/// weight is read once per step for all of them. Rows of different sequences never attend to each other; the logits
/// of each sequence equal those of evaluating it alone. Not thread-safe: one step at a time.
/// </summary>
public interface IBatchDecoder
{
    /// <summary>Most tokens (all sequences together) one <see cref="Decode"/> takes.</summary>
    int MaxTokens { get; }

    /// <summary>Most sequences one <see cref="Decode"/> takes.</summary>
    int MaxSequences { get; }

    /// <summary>Length of a logits row.</summary>
    int VocabSize { get; }

    /// <summary>
    /// Appends each entry's tokens to its sequence (advancing its <see cref="IModelSession.Position"/>) and returns
    /// (batch.Count x <see cref="VocabSize"/>) logits: row i belongs to the last token of <c>batch[i]</c>. The span stays
    /// valid until the next call. Validates everything before evaluating anything: a sequence may appear once, every
    /// entry needs at least one token that fits its context, and the totals must fit <see cref="MaxTokens"/> and
    /// <see cref="MaxSequences"/>.
    /// </summary>
    ReadOnlySpan<float> Decode(IReadOnlyList<SequenceTokens> batch);
}
