using Llamero.Kernels;

namespace Llamero.Models;

/// <summary>
/// One sequence of a <see cref="LlamaModel"/>: its KV cache and the activation buffers of the forward pass, all
/// allocated here once, so evaluating a token allocates nothing. The forward pass itself is in LlamaForward.cs.
/// </summary>
public sealed partial class LlamaSession : IModelSession
{
    /// <summary>Most tokens evaluated in one forward pass (llama.cpp's default micro-batch).</summary>
    public const int MaxBatch = 512;

    private readonly LlamaConfig _config;
    private readonly LlamaWeights _weights;
    private readonly Rope _rope;
    private readonly KvCache _cache;
    private readonly int _batchCapacity;

    // Activations of one batch of B tokens, shapes in (rows x cols).
    private readonly float[] _x;       // (B, dim) the residual stream
    private readonly float[] _xb;      // (B, dim) normalised input of a block, then the block's output
    private readonly float[] _q;       // (B, heads * headSize) queries
    private readonly float[] _att;     // (B, heads * headSize) attention output
    private readonly float[] _hb;      // (B, ffn) gate, then silu(gate) * up
    private readonly float[] _hb2;     // (B, ffn) up
    private readonly float[] _cosSin;  // (B, ropeDims) rotation of each position
    private readonly float[] _scores;  // (heads, context) attention weights, one row per query head
    private readonly float[] _logits;  // (vocab) logits of the last token
    private readonly AttentionJob _attentionJob;

    internal LlamaSession(LlamaModel model, int contextSize)
    {
        if (contextSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(contextSize), contextSize, "The context must hold at least one token.");
        _config = model.Config;
        _weights = model.Weights;
        _rope = new Rope(_config.Rope);
        _cache = new KvCache(_config.BlockCount, contextSize, _config.KvLength);
        _batchCapacity = Math.Min(MaxBatch, contextSize);
        var b = _batchCapacity;
        _x = new float[b * _config.EmbeddingLength];
        _xb = new float[b * _config.EmbeddingLength];
        _q = new float[b * _config.QueryLength];
        _att = new float[b * _config.QueryLength];
        _hb = new float[b * _config.FeedForwardLength];
        _hb2 = new float[b * _config.FeedForwardLength];
        _cosSin = new float[b * _rope.Dimensions];
        _scores = new float[_config.HeadCount * contextSize];
        _logits = new float[_config.VocabSize];
        _attentionJob = new AttentionJob(this);
    }

    /// <inheritdoc/>
    public int ContextSize => _cache.Capacity;

    /// <inheritdoc/>
    public int Position { get; private set; }

    /// <inheritdoc/>
    public int VocabSize => _config.VocabSize;

    /// <summary>Bytes held by the KV cache.</summary>
    public long CacheBytes => _cache.ByteSize;

    /// <inheritdoc/>
    public ReadOnlySpan<float> Evaluate(ReadOnlySpan<int> tokens)
    {
        CheckRoom(tokens);
        for (var done = 0; done < tokens.Length; done += _batchCapacity)
        {
            var chunk = tokens.Slice(done, Math.Min(_batchCapacity, tokens.Length - done));
            var last = done + chunk.Length == tokens.Length;
            Forward(chunk, last ? OutputRows.Last : OutputRows.None, _logits);
        }
        return _logits;
    }

    /// <inheritdoc/>
    public void EvaluateAll(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        var vocab = _config.VocabSize;
        if (logits.Length < (long)tokens.Length * vocab)
            throw new ArgumentException($"EvaluateAll: {tokens.Length} tokens need {(long)tokens.Length * vocab} logits, the span holds {logits.Length}.", nameof(logits));
        CheckRoom(tokens);
        for (var done = 0; done < tokens.Length; done += _batchCapacity)
        {
            var count = Math.Min(_batchCapacity, tokens.Length - done);
            Forward(tokens.Slice(done, count), OutputRows.All, logits.Slice(done * vocab, count * vocab));
        }
        if (tokens.Length > 0)
            logits.Slice((tokens.Length - 1) * vocab, vocab).CopyTo(_logits);
    }

    /// <inheritdoc/>
    public void Truncate(int position)
    {
        if (position < 0 || position > Position)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"Truncate: the cache holds {Position} tokens.");
        Position = position;
    }

    /// <inheritdoc/>
    public void Shift(int keep, int discard)
    {
        if (keep < 0 || discard < 0 || keep + discard > Position)
            throw new ArgumentOutOfRangeException(nameof(discard),
                $"Shift: keeping {keep} and discarding {discard} does not fit the {Position} cached tokens.");
        if (discard == 0)
            return;
        var moved = Position - keep - discard;
        _cache.MoveRows(keep + discard, keep, moved);
        // RoPE angles are linear in the position, so moving a key back by `discard` positions is one more rotation
        // by −discard (llama.cpp's K-shift). It is a pure rotation: YaRN's magnitude is already in the cached keys.
        var cosSin = _cosSin.AsSpan(0, _rope.Dimensions);
        _rope.Fill(-discard, cosSin, applyMagnitude: false);
        for (var l = 0; l < _config.BlockCount; l++)
        {
            for (var p = keep; p < keep + moved; p++)
                _rope.Rotate(_cache.KeyRows(l, p, 1), _config.KvHeadCount, _config.HeadSize, cosSin);
        }
        Position -= discard;
    }

    /// <summary>Nothing to release: the buffers are managed.</summary>
    public void Dispose()
    {
    }

    private void CheckRoom(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty)
            throw new ArgumentException("No tokens to evaluate.", nameof(tokens));
        if ((long)Position + tokens.Length > ContextSize)
            throw new InvalidOperationException(
                $"{tokens.Length} tokens do not fit the context: {Position} of {ContextSize} positions are used, {ContextSize - Position} are free.");
        foreach (var t in tokens)
        {
            if ((uint)t >= (uint)_config.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), t, $"Token id {t} is outside the vocabulary (0..{_config.VocabSize - 1}).");
        }
    }

    private enum OutputRows
    {
        None,
        Last,
        All,
    }
}
