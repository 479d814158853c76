namespace Llamero.Models;

/// <summary>
/// The <see cref="IBatchDecoder"/> of a <see cref="LlamaModel"/>: one forward pass over the rows of every sequence in
/// the step (a prompt chunk of one and the next generated token of others may share it). Owns the activation buffers
/// of <see cref="MaxTokens"/> rows and the logits of <see cref="MaxSequences"/> sequences, so a step allocates nothing.
/// Create with <see cref="LlamaModel.CreateBatchDecoder"/>; its sequences are sessions made by
/// <see cref="LlamaModel.CreateSession"/> of the same model.
/// </summary>
public sealed class LlamaBatchDecoder : IBatchDecoder
{
    private readonly LlamaModel _model;
    private readonly LlamaWeights _weights;
    private readonly LlamaForward _forward;
    private readonly int[] _tokens;              // (MaxTokens) the step's tokens, sequence after sequence
    private readonly SequenceRows[] _sequences;  // (MaxSequences) where each sequence's rows go
    private readonly LlamaSession[] _sessions;   // (MaxSequences) the step's sessions, cleared after it
    private readonly float[] _logits;            // (MaxSequences, vocab)

    internal LlamaBatchDecoder(LlamaModel model, int maxTokens, int maxSequences)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequences, 1);
        _model = model;
        _weights = model.Weights;
        VocabSize = model.Config.VocabSize;
        MaxTokens = maxTokens;
        MaxSequences = maxSequences;
        _forward = new LlamaForward(model.Config, model.Weights, maxTokens, contextSize: 0);
        _tokens = new int[maxTokens];
        _sequences = new SequenceRows[maxSequences];
        _sessions = new LlamaSession[maxSequences];
        _logits = new float[(long)maxSequences * VocabSize];
    }

    /// <inheritdoc/>
    public int MaxTokens { get; }

    /// <inheritdoc/>
    public int MaxSequences { get; }

    /// <inheritdoc/>
    public int VocabSize { get; }

    /// <inheritdoc/>
    public ReadOnlySpan<float> Decode(IReadOnlyList<SequenceTokens> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var count = batch.Count;
        if (count == 0 || count > MaxSequences)
            throw new ArgumentException($"A decode step takes 1 to {MaxSequences} sequences, got {count}.", nameof(batch));
        try
        {
            var rows = Gather(batch);
            using var reading = _model.BeginForward();
            _forward.Run(_tokens.AsSpan(0, rows), _sequences.AsSpan(0, count), OutputRows.LastOfEachSequence, _logits);
            for (var i = 0; i < count; i++)
                _sessions[i].Advance(_sequences[i].Count);
        }
        finally
        {
            Array.Clear(_sessions, 0, count);
            Array.Clear(_sequences, 0, count);
        }
        return _logits.AsSpan(0, count * VocabSize);
    }

    // Checks every entry and lays out the step's rows; returns their number.
    private int Gather(IReadOnlyList<SequenceTokens> batch)
    {
        var rows = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var (sequence, tokens) = batch[i];
            if (sequence is not LlamaSession session || !ReferenceEquals(session.Weights, _weights))
                throw new ArgumentException($"Batch entry {i}: the sequence is not a session of this decoder's model.", nameof(batch));
            for (var j = 0; j < i; j++)
            {
                if (ReferenceEquals(_sessions[j], session))
                    throw new ArgumentException($"Batch entries {j} and {i} are the same sequence: give its tokens in one entry.", nameof(batch));
            }
            if (rows + tokens.Length > MaxTokens)
                throw new ArgumentException($"The step holds more than {MaxTokens} tokens (entry {i} brings it to {rows + tokens.Length}).", nameof(batch));
            session.CheckRoom(tokens.Span);
            tokens.Span.CopyTo(_tokens.AsSpan(rows));
            _sessions[i] = session;
            _sequences[i] = new SequenceRows(session.Cache, session.Position, tokens.Length);
            rows += tokens.Length;
        }
        return rows;
    }
}
