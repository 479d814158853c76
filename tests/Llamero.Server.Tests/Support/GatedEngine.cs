using Llamero.Models;
using Llamero.Server.Engine;

namespace Llamero.Server.Tests.Support;

/// <summary>
/// Wraps a real engine so that every model evaluation (a session's own, or a batched decode step) waits for a gate:
/// lets tests hold slots busy deterministically (queue full, disconnects) without timing assumptions.
/// </summary>
internal sealed class GatedEngine(IInferenceEngine inner) : IInferenceEngine
{
    private readonly ManualResetEventSlim _gate = new(false);
    private int _waiting;

    /// <summary>Lets every evaluation through from now on.</summary>
    public void Open() => _gate.Set();

    /// <summary>Number of evaluations currently waiting at the gate.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public string ModelId => inner.ModelId;
    public int TrainedContextSize => inner.TrainedContextSize;
    public int EmbeddingSize => inner.EmbeddingSize;
    public Tokenization.Tokenizer Tokenizer => inner.Tokenizer;
    public Chat.ChatTemplate Template => inner.Template;
    public IModelSession CreateSession(int contextSize) => new GatedSession(inner.CreateSession(contextSize), this);
    public float[] Embed(IReadOnlyList<int> tokens) => inner.Embed(tokens);
    public IBatchDecoder CreateBatchDecoder(int maxTokens, int maxSequences) =>
        new GatedDecoder(inner.CreateBatchDecoder(maxTokens, maxSequences), this);

    public void Dispose()
    {
        _gate.Set();
        inner.Dispose();
    }

    private void Pass()
    {
        Interlocked.Increment(ref _waiting);
        _gate.Wait();
        Interlocked.Decrement(ref _waiting);
    }

    private sealed class GatedDecoder(IBatchDecoder inner, GatedEngine owner) : IBatchDecoder
    {
        private readonly List<SequenceTokens> _unwrapped = [];
        public int MaxTokens => inner.MaxTokens;
        public int MaxSequences => inner.MaxSequences;
        public int VocabSize => inner.VocabSize;

        public ReadOnlySpan<float> Decode(IReadOnlyList<SequenceTokens> batch)
        {
            owner.Pass();
            _unwrapped.Clear();
            foreach (var (sequence, tokens) in batch)
                _unwrapped.Add(new SequenceTokens(((GatedSession)sequence).Inner, tokens));
            return inner.Decode(_unwrapped);
        }
    }

    private sealed class GatedSession(IModelSession inner, GatedEngine owner) : IModelSession
    {
        public IModelSession Inner => inner;
        public int ContextSize => inner.ContextSize;
        public int Position => inner.Position;
        public int VocabSize => inner.VocabSize;

        public ReadOnlySpan<float> Evaluate(ReadOnlySpan<int> tokens)
        {
            owner.Pass();
            return inner.Evaluate(tokens);
        }

        public void EvaluateAll(ReadOnlySpan<int> tokens, Span<float> logits)
        {
            owner.Pass();
            inner.EvaluateAll(tokens, logits);
        }

        public void Truncate(int position) => inner.Truncate(position);
        public void Shift(int keep, int discard) => inner.Shift(keep, discard);
        public void Dispose() => inner.Dispose();
    }
}
