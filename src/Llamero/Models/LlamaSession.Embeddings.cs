using Llamero.Kernels;

namespace Llamero.Models;

/// <summary>Final hidden states (for embeddings): the forward pass without the classifier.</summary>
public sealed partial class LlamaSession
{
    /// <summary>
    /// Evaluates <paramref name="tokens"/> like <see cref="Evaluate"/> (appending them to the cache) and writes each
    /// token's final hidden state, after the output RMSNorm and before <c>output.weight</c>, to
    /// <paramref name="hidden"/> as (tokens.Length x EmbeddingLength) rows.
    /// </summary>
    public void EvaluateHidden(ReadOnlySpan<int> tokens, Span<float> hidden)
    {
        var dim = _config.EmbeddingLength;
        if (hidden.Length < (long)tokens.Length * dim)
            throw new ArgumentException($"EvaluateHidden: {tokens.Length} tokens need {(long)tokens.Length * dim} floats, the span holds {hidden.Length}.", nameof(hidden));
        CheckRoom(tokens);
        for (var done = 0; done < tokens.Length; done += _batchCapacity)
        {
            var count = Math.Min(_batchCapacity, tokens.Length - done);
            // With no output rows the forward pass leaves the batch's final residual stream in place.
            Forward(tokens.Slice(done, count), OutputRows.None, _logits);
            RmsNorm.Apply(_forward!.Residual(count), _weights.OutputNorm, hidden.Slice(done * dim, count * dim), count, _config.RmsEpsilon);
        }
    }

    /// <summary>
    /// The mean of the final hidden states of <paramref name="tokens"/>, L2-normalised (llama.cpp's pooling
    /// <c>mean</c> with embedding normalisation). Evaluates into this session's cache from its current position.
    /// </summary>
    public float[] EmbedMean(ReadOnlySpan<int> tokens)
    {
        var dim = _config.EmbeddingLength;
        var hidden = new float[tokens.Length * dim];
        EvaluateHidden(tokens, hidden);
        var pooled = new float[dim];
        for (var t = 0; t < tokens.Length; t++)
            VectorOps.Add(hidden.AsSpan(t * dim, dim), pooled, SimdPath.Current);
        double sumSquares = 0;
        foreach (var v in pooled)
            sumSquares += (double)v * v;
        // Mean then normalise equals normalising the sum; the 1/n cancels.
        var scale = sumSquares > 0 ? (float)(1 / Math.Sqrt(sumSquares)) : 0f;
        for (var i = 0; i < dim; i++)
            pooled[i] *= scale;
        return pooled;
    }
}
