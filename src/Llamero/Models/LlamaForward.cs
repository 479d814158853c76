using Llamero.Kernels;

namespace Llamero.Models;

/// <summary>The Llama forward pass, top to bottom, over a batch of B tokens at positions Position..Position+B−1.</summary>
public sealed partial class LlamaSession
{
    private int _attnLayer, _attnBatch, _attnStart;

    private void Forward(ReadOnlySpan<int> tokens, OutputRows outputRows, Span<float> logits)
    {
        var c = _config;
        var w = _weights;
        int batch = tokens.Length, start = Position;
        int dim = c.EmbeddingLength, qLen = c.QueryLength, kvLen = c.KvLength, ffn = c.FeedForwardLength, ropeDims = _rope.Dimensions;
        var x = _x.AsSpan(0, batch * dim);          // (B, dim)
        var xb = _xb.AsSpan(0, batch * dim);        // (B, dim)
        var q = _q.AsSpan(0, batch * qLen);         // (B, qLen)
        var att = _att.AsSpan(0, batch * qLen);     // (B, qLen)
        var hb = _hb.AsSpan(0, batch * ffn);        // (B, ffn)
        var hb2 = _hb2.AsSpan(0, batch * ffn);      // (B, ffn)

        // Token embeddings: x[b] = token_embd[tokens[b]].
        for (var b = 0; b < batch; b++)
            w.Embed(tokens[b], x.Slice(b * dim, dim));

        // The rotation of every position in the batch, shared by all layers and heads.
        for (var b = 0; b < batch; b++)
            _rope.Fill(start + b, _cosSin.AsSpan(b * ropeDims, ropeDims));

        for (var l = 0; l < c.BlockCount; l++)
        {
            var layer = w.Layers[l];

            // ---- Attention block ----
            RmsNorm.Apply(x, layer.AttentionNorm, xb, batch, c.RmsEpsilon);
            // Projections; keys and values go straight into the cache rows of their positions.
            var k = _cache.KeyRows(l, start, batch);    // (B, kvLen)
            var v = _cache.ValueRows(l, start, batch);  // (B, kvLen)
            MatMul.Multiply(xb, batch, layer.Query, q, layer.Key, k, layer.Value, v);
            // RoPE on queries and keys.
            for (var b = 0; b < batch; b++)
            {
                var cosSin = _cosSin.AsSpan(b * ropeDims, ropeDims);
                _rope.Rotate(q.Slice(b * qLen, qLen), c.HeadCount, c.HeadSize, cosSin);
                _rope.Rotate(k.Slice(b * kvLen, kvLen), c.KvHeadCount, c.HeadSize, cosSin);
            }
            // Causal grouped-query attention over the cache, query heads shared out to the worker pool (AttendHead below).
            (_attnLayer, _attnBatch, _attnStart) = (l, batch, start);
            MatMul.Run(_attentionJob, Math.Min(c.HeadCount, MatMul.Threads));
            // Output projection and residual.
            MatMul.Multiply(layer.Output, att, xb, batch);
            VectorOps.Add(xb, x, SimdPath.Current);

            // ---- Feed-forward block (SwiGLU) ----
            RmsNorm.Apply(x, layer.FeedForwardNorm, xb, batch, c.RmsEpsilon);
            MatMul.Multiply(xb, batch, layer.Gate, hb, layer.Up, hb2);
            SwiGlu.Apply(hb, hb2);                      // hb = silu(gate) * up
            MatMul.Multiply(layer.Down, hb, xb, batch);
            VectorOps.Add(xb, x, SimdPath.Current);
        }

        Position += batch;

        // ---- Output: final norm and classifier, for the rows asked for ----
        switch (outputRows)
        {
            case OutputRows.All:
                RmsNorm.Apply(x, w.OutputNorm, xb, batch, c.RmsEpsilon);
                MatMul.Multiply(w.Output, xb, logits, batch);
                break;
            case OutputRows.Last:
                RmsNorm.Apply(x.Slice((batch - 1) * dim, dim), w.OutputNorm, xb, 1, c.RmsEpsilon);
                MatMul.Multiply(w.Output, xb[..dim], logits, 1);
                break;
        }
    }

    // Each pool participant takes every workers-th query head.
    private sealed class AttentionJob(LlamaSession session) : IParallelWork
    {
        public void Execute(int worker, int workers)
        {
            for (var h = worker; h < session._config.HeadCount; h += workers)
                session.AttendHead(h);
        }
    }

    // Query head h at every position of the batch: softmax(K·q / sqrt(headSize)) · V over positions 0..pos.
    private void AttendHead(int h)
    {
        var c = _config;
        int hs = c.HeadSize, qLen = c.QueryLength, ctx = _cache.Capacity;
        var kvHead = h / (c.HeadCount / c.KvHeadCount);
        var keys = _cache.Keys(_attnLayer);
        var values = _cache.Values(_attnLayer);
        var scores = _scores.AsSpan(h * ctx, ctx);
        for (var b = 0; b < _attnBatch; b++)
        {
            var offset = b * qLen + h * hs;
            Attention.Head(_q.AsSpan(offset, hs), keys, values, c.KvLength, kvHead * hs, hs, _attnStart + b + 1, scores, _att.AsSpan(offset, hs));
        }
    }
}
