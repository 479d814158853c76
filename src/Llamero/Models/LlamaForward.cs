using Llamero.Kernels;

namespace Llamero.Models;

/// <summary>The consecutive rows of one sequence in a forward pass: its KV cache and the position of its first row.</summary>
internal readonly record struct SequenceRows(KvCache Cache, int Start, int Count);

/// <summary>Which rows of a forward pass get logits.</summary>
internal enum OutputRows
{
    /// <summary>None: the final residual stream stays in <see cref="LlamaForward.Residual"/>.</summary>
    None,

    /// <summary>The last row of each sequence, one logits row per sequence in order.</summary>
    LastOfEachSequence,

    /// <summary>Every row.</summary>
    All,
}

/// <summary>
/// The Llama forward pass, top to bottom, over a batch of B rows that may belong to several sequences: row b is one
/// token at the next position of its sequence, and the rows of a sequence are consecutive. The matrix products run
/// once over all B rows, so each weight is read once per pass however many sequences share it; attention runs per
/// row over its own sequence's KV cache (causal within the sequence). One sequence is the special case a
/// <see cref="LlamaSession"/> runs. The activation buffers for up to <see cref="Capacity"/> rows are allocated here
/// once, so a pass allocates nothing. Not thread-safe: one pass at a time.
/// </summary>
internal sealed class LlamaForward
{
    private const long AttentionParallelThreshold = 1 << 16;

    private readonly LlamaConfig _config;
    private readonly LlamaWeights _weights;
    private readonly Rope _rope;

    // Activations of one batch of B rows, shapes in (rows x cols).
    private readonly float[] _x;       // (B, dim) the residual stream
    private readonly float[] _xb;      // (B, dim) normalised input of a block, then the block's output
    private readonly float[] _q;       // (B, heads * headSize) queries
    private readonly float[] _k;       // (B, kvHeads * headSize) keys, rotated, before they are stored in the caches
    private readonly float[] _v;       // (B, kvHeads * headSize) values, before they are stored in the caches
    private readonly float[] _att;     // (B, heads * headSize) attention output
    private readonly float[] _hb;      // (B, ffn) gate, then silu(gate) * up
    private readonly float[] _hb2;     // (B, ffn) up
    private readonly float[] _cosSin;  // (B, ropeDims) rotation of each row's position
    private float[] _scores;           // (heads, longest cache) attention weights, one row per query head
    private int _scoresLength;         // positions per row of _scores

    // Where each row attends during the pass in flight (read by the attention workers).
    private readonly KvCache?[] _rowCache;  // (B) the row's sequence cache
    private readonly int[] _rowPosition;    // (B) the row's position in its sequence
    private readonly AttentionJob _attentionJob;
    private int _attnLayer, _attnRows, _attnSplit;

    public LlamaForward(LlamaConfig config, LlamaWeights weights, int capacity, int contextSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _config = config;
        _weights = weights;
        _rope = new Rope(config.Rope);
        Capacity = capacity;
        _x = new float[capacity * config.EmbeddingLength];
        _xb = new float[capacity * config.EmbeddingLength];
        _q = new float[capacity * config.QueryLength];
        _k = new float[capacity * config.KvLength];
        _v = new float[capacity * config.KvLength];
        _att = new float[capacity * config.QueryLength];
        _hb = new float[capacity * config.FeedForwardLength];
        _hb2 = new float[capacity * config.FeedForwardLength];
        _cosSin = new float[capacity * _rope.Dimensions];
        _scores = [];
        EnsureScores(contextSize);
        _rowCache = new KvCache?[capacity];
        _rowPosition = new int[capacity];
        _attentionJob = new AttentionJob(this);
    }

    /// <summary>Most rows in one pass.</summary>
    public int Capacity { get; }

    /// <summary>The final residual stream of the first <paramref name="rows"/> rows of the last pass (B, dim).</summary>
    public ReadOnlySpan<float> Residual(int rows) => _x.AsSpan(0, rows * _config.EmbeddingLength);

    /// <summary>
    /// Evaluates <paramref name="tokens"/>, whose rows belong in order to <paramref name="sequences"/>, stores their
    /// keys and values in each sequence's cache at its positions, and writes the logits of
    /// <paramref name="outputRows"/> to <paramref name="logits"/>. The caller has checked that tokens are in the
    /// vocabulary, that rows fit <see cref="Capacity"/> and every cache, and advances the sequences itself.
    /// </summary>
    public void Run(ReadOnlySpan<int> tokens, ReadOnlySpan<SequenceRows> sequences, OutputRows outputRows, Span<float> logits)
    {
        var c = _config;
        var w = _weights;
        int batch = tokens.Length;
        int dim = c.EmbeddingLength, qLen = c.QueryLength, kvLen = c.KvLength, ffn = c.FeedForwardLength, ropeDims = _rope.Dimensions;
        var x = _x.AsSpan(0, batch * dim);          // (B, dim)
        var xb = _xb.AsSpan(0, batch * dim);        // (B, dim)
        var q = _q.AsSpan(0, batch * qLen);         // (B, qLen)
        var k = _k.AsSpan(0, batch * kvLen);        // (B, kvLen)
        var v = _v.AsSpan(0, batch * kvLen);        // (B, kvLen)
        var att = _att.AsSpan(0, batch * qLen);     // (B, qLen)
        var hb = _hb.AsSpan(0, batch * ffn);        // (B, ffn)
        var hb2 = _hb2.AsSpan(0, batch * ffn);      // (B, ffn)

        // Each row's sequence and position, and its rotation, shared by all layers and heads.
        var row = 0;
        long attended = 0; // cached positions the rows attend to, summed: the size of each layer's attention
        foreach (var s in sequences)
        {
            EnsureScores(s.Cache.Capacity);
            for (var i = 0; i < s.Count; i++, row++)
            {
                attended += s.Start + i + 1;
                (_rowCache[row], _rowPosition[row]) = (s.Cache, s.Start + i);
                _rope.Fill(s.Start + i, _cosSin.AsSpan(row * ropeDims, ropeDims));
            }
        }

        // Heads are independent, so sharing them out changes no result; for a short context (two multiply-adds per
        // attended position and query element, a few microseconds in all) the hand-off costs more than the work.
        var attentionParticipants = 2 * attended * qLen < AttentionParallelThreshold ? 1 : Math.Min(c.HeadCount, MatMul.Threads);
        _attnSplit = AttentionSplit(c, attentionParticipants);

        // Token embeddings: x[b] = token_embd[tokens[b]].
        for (var b = 0; b < batch; b++)
            w.Embed(tokens[b], x.Slice(b * dim, dim));

        for (var l = 0; l < c.BlockCount; l++)
        {
            var layer = w.Layers[l];

            // ---- Attention block ----
            RmsNorm.Apply(x, layer.AttentionNorm, xb, batch, c.RmsEpsilon);
            MatMul.Multiply(xb, batch, layer.Query, q, layer.Key, k, layer.Value, v);
            // RoPE on queries and keys.
            for (var b = 0; b < batch; b++)
            {
                var cosSin = _cosSin.AsSpan(b * ropeDims, ropeDims);
                _rope.Rotate(q.Slice(b * qLen, qLen), c.HeadCount, c.HeadSize, cosSin);
                _rope.Rotate(k.Slice(b * kvLen, kvLen), c.KvHeadCount, c.HeadSize, cosSin);
            }
            // Keys and values go into the cache rows of their sequences' positions.
            row = 0;
            foreach (var s in sequences)
            {
                s.Cache.Store(l, s.Start, k.Slice(row * kvLen, s.Count * kvLen), v.Slice(row * kvLen, s.Count * kvLen));
                row += s.Count;
            }
            // Causal grouped-query attention over each row's cache, query heads shared out to the worker pool (AttendHeads below).
            (_attnLayer, _attnRows) = (l, batch);
            MatMul.Run(_attentionJob, attentionParticipants);
            // Output projection and residual.
            MatMul.Multiply(layer.Output, att, xb, batch);
            VectorOps.Add(xb, x, SimdPath.Current);

            // ---- Feed-forward block (SwiGLU) ----
            RmsNorm.Apply(x, layer.FeedForwardNorm, xb, batch, c.RmsEpsilon);
            MatMul.Multiply(xb, batch, layer.Gate, hb, layer.Up, hb2);
            // hb = silu(gate) * up, row by row: the vector tail of a row then falls where it does when the row is
            // alone, so a sequence's logits do not depend on which rows share its pass.
            for (var b = 0; b < batch; b++)
                SwiGlu.Apply(hb.Slice(b * ffn, ffn), hb2.Slice(b * ffn, ffn));
            MatMul.Multiply(layer.Down, hb, xb, batch);
            VectorOps.Add(xb, x, SimdPath.Current);
        }
        // The pass no longer needs the caches: do not keep them alive.
        Array.Clear(_rowCache, 0, batch);

        // ---- Output: final norm and classifier, for the rows asked for ----
        switch (outputRows)
        {
            case OutputRows.All:
                RmsNorm.Apply(x, w.OutputNorm, xb, batch, c.RmsEpsilon);
                MatMul.Multiply(w.Output, xb, logits, batch);
                break;
            case OutputRows.LastOfEachSequence:
                // Gather the last row of each sequence, normalised, into consecutive rows of xb.
                var last = -1;
                for (var i = 0; i < sequences.Length; i++)
                {
                    last += sequences[i].Count;
                    RmsNorm.Apply(x.Slice(last * dim, dim), w.OutputNorm, xb.Slice(i * dim, dim), 1, c.RmsEpsilon);
                }
                MatMul.Multiply(w.Output, xb[..(sequences.Length * dim)], logits, sequences.Length);
                break;
        }
    }

    // Attention scratch for caches of `positions` (grows only when a longer cache first takes part).
    private void EnsureScores(int positions)
    {
        if (positions <= _scoresLength)
            return;
        _scoresLength = positions;
        _scores = new float[_config.HeadCount * positions];
    }

    // Each pool participant takes every workers-th part: a KV head's query heads, or a share of them when there are
    // fewer KV heads than participants (AttentionParts). A part is one participant's alone, rows and all, so its
    // rows of _scores are too.
    private sealed class AttentionJob(LlamaForward forward) : IParallelWork
    {
        public void Execute(int worker, int workers)
        {
            var parts = forward._config.KvHeadCount * forward._attnSplit;
            for (var p = worker; p < parts; p += workers)
                forward.AttendHeads(p);
        }
    }

    // How many parts each KV head's group of query heads is split into: the fewest (a whole group shares each block of
    // the cache it reads) that still give every participant a part.
    private static int AttentionSplit(LlamaConfig c, int participants)
    {
        var group = c.HeadCount / c.KvHeadCount;
        for (var split = 1; split < group; split++)
        {
            if (group % split == 0 && c.KvHeadCount * split >= participants)
                return split;
        }
        return group;
    }

    // The query heads of part p at every row of the batch: softmax(K·q / sqrt(headSize)) · V over positions 0..pos of
    // the row's sequence, for heads sharing one KV head.
    private void AttendHeads(int part)
    {
        var c = _config;
        int hs = c.HeadSize, qLen = c.QueryLength;
        var heads = c.HeadCount / c.KvHeadCount / _attnSplit;
        var first = part * heads;
        var kvHead = first / (c.HeadCount / c.KvHeadCount);
        var scores = _scores.AsSpan(first * _scoresLength, heads * _scoresLength);
        for (var b = 0; b < _attnRows; b++)
        {
            var cache = _rowCache[b]!;
            var offset = b * qLen + first * hs;
            cache.Attend(_attnLayer, _q.AsSpan(offset, heads * hs), heads, kvHead, _rowPosition[b] + 1, scores, _scoresLength,
                _att.AsSpan(offset, heads * hs));
        }
    }
}
