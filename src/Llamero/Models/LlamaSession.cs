using Llamero.Kernels;

namespace Llamero.Models;

/// <summary>
/// One sequence of a <see cref="LlamaModel"/>: its KV cache and position, and (made on first use) the activation
/// buffers of its own forward pass, so evaluating a token allocates nothing. The forward pass itself is in
/// LlamaForward.cs; a <see cref="LlamaBatchDecoder"/> runs several sessions through one pass.
/// </summary>
public sealed partial class LlamaSession : IModelSession
{
    /// <summary>Most tokens evaluated in one forward pass (llama.cpp's default micro-batch).</summary>
    public const int MaxBatch = 512;

    private readonly LlamaModel _model;
    private readonly LlamaConfig _config;
    private readonly LlamaWeights _weights;
    private readonly Rope _rope;
    private readonly KvCache _cache;
    private readonly int _batchCapacity;
    private readonly float[] _logits;     // (vocab) logits of the last token
    private readonly float[] _shiftAngles; // (ropeDims) the rotation of a context shift
    private readonly float[] _shiftRow;    // (kvLength) one cached key row being re-rotated
    private LlamaForward? _forward;        // activation buffers, made on first use (sessions a batch decoder runs need none)

    internal LlamaSession(LlamaModel model, int contextSize, KvCacheOptions? cacheTypes = null)
    {
        if (contextSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(contextSize), contextSize, "The context must hold at least one token.");
        _model = model;
        _config = model.Config;
        _weights = model.Weights;
        _rope = new Rope(_config.Rope);
        _cache = new KvCache(_config.BlockCount, contextSize, _config.KvLength, cacheTypes, _config.KvHeadCount);
        _batchCapacity = Math.Min(MaxBatch, contextSize);
        _logits = new float[_config.VocabSize];
        _shiftAngles = new float[_rope.Dimensions];
        _shiftRow = new float[_config.KvLength];
    }

    /// <inheritdoc/>
    public int ContextSize => _cache.Capacity;

    /// <inheritdoc/>
    public int Position { get; private set; }

    /// <inheritdoc/>
    public int VocabSize => _config.VocabSize;

    /// <summary>Bytes held by the KV cache.</summary>
    public long CacheBytes => _cache.ByteSize;

    /// <summary>How the KV cache stores keys and values.</summary>
    public KvCacheOptions CacheTypes => _cache.Types;

    /// <inheritdoc/>
    public ReadOnlySpan<float> Evaluate(ReadOnlySpan<int> tokens)
    {
        CheckRoom(tokens);
        for (var done = 0; done < tokens.Length; done += _batchCapacity)
        {
            var chunk = tokens.Slice(done, Math.Min(_batchCapacity, tokens.Length - done));
            var last = done + chunk.Length == tokens.Length;
            Forward(chunk, last ? OutputRows.LastOfEachSequence : OutputRows.None, _logits);
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
        var cosSin = _shiftAngles.AsSpan();
        _rope.Fill(-discard, cosSin, applyMagnitude: false);
        for (var l = 0; l < _config.BlockCount; l++)
        {
            for (var p = keep; p < keep + moved; p++)
            {
                // F16 keys are widened, rotated in float and rounded back, as llama.cpp's K-shift on an F16 cache.
                _cache.ReadKeys(l, p, _shiftRow);
                _rope.Rotate(_shiftRow, _config.KvHeadCount, _config.HeadSize, cosSin);
                _cache.WriteKeys(l, p, _shiftRow);
            }
        }
        Position -= discard;
    }

    /// <summary>Nothing to release: the buffers are managed.</summary>
    public void Dispose()
    {
    }

    /// <summary>The weights this session was made for (a batch decoder checks its sessions share them).</summary>
    internal LlamaWeights Weights => _weights;

    /// <summary>The KV cache.</summary>
    internal KvCache Cache => _cache;

    /// <summary>Counts <paramref name="count"/> tokens a forward pass has just stored in the cache.</summary>
    internal void Advance(int count) => Position += count;

    /// <summary>Throws unless <paramref name="tokens"/> is non-empty, in the vocabulary and fits the free context.</summary>
    internal void CheckRoom(ReadOnlySpan<int> tokens)
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

    // One pass of this sequence alone: the one-sequence case of the batched forward pass.
    private void Forward(ReadOnlySpan<int> tokens, OutputRows outputRows, Span<float> logits)
    {
        var forward = _forward ??= new LlamaForward(_config, _weights, _batchCapacity, ContextSize);
        using var reading = _model.BeginForward();
        var rows = new SequenceRows(_cache, Position, tokens.Length);
        forward.Run(tokens, new ReadOnlySpan<SequenceRows>(in rows), outputRows, logits);
        Position += tokens.Length;
    }
}
