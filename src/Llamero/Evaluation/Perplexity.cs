using Llamero.Models;

namespace Llamero.Evaluation;

/// <summary>How <see cref="Perplexity"/> cuts and evaluates the text.</summary>
/// <param name="ContextSize">Tokens per chunk (llama-perplexity's -c).</param>
/// <param name="BatchSize">Tokens per evaluation call (-b); results don't depend on it.</param>
/// <param name="MaxChunks">Stop after this many chunks (--chunks); null: every whole chunk.</param>
public sealed record PerplexityOptions(int ContextSize = 512, int BatchSize = 2048, int? MaxChunks = null);

/// <summary>The outcome: PPL = exp(mean NLL) and its uncertainty, over every scored token.</summary>
/// <param name="Value">The perplexity.</param>
/// <param name="Uncertainty">PPL x the standard error of the mean NLL, as llama-perplexity prints after "+/-".</param>
/// <param name="Chunks">Chunks evaluated.</param>
/// <param name="Tokens">Tokens scored (each chunk's second half, less its last token).</param>
/// <param name="RunningEstimates">The estimate after each chunk, as printed "[1]x,[2]y".</param>
public sealed record PerplexityResult(double Value, double Uncertainty, int Chunks, int Tokens, IReadOnlyList<double> RunningEstimates);

/// <summary>
/// Perplexity exactly as llama-perplexity computes it: the whole text tokenized once (BOS first), cut into
/// non-overlapping chunks of ContextSize tokens, each chunk evaluated from an empty cache with its first token
/// replaced by BOS, and only the second half scored: the logits at positions ContextSize/2 .. ContextSize-2 against
/// the next token. Optionally saves every scored row's log-probabilities for <see cref="KlDivergence"/>.
/// </summary>
public static class Perplexity
{
    /// <summary>Computes the perplexity of <paramref name="tokens"/> (already tokenized, BOS included when the model adds one).</summary>
    /// <param name="session">A session with a context of at least <see cref="PerplexityOptions.ContextSize"/>.</param>
    /// <param name="tokens">The tokenized text.</param>
    /// <param name="bosId">Token that replaces each chunk's first token; negative: none (the model adds no BOS).</param>
    /// <param name="options">Context, batch and chunk limits.</param>
    /// <param name="onChunk">Called after each chunk with its 1-based number and the running estimate.</param>
    /// <param name="saveLogits">When set, receives the header and every scored row (llama.cpp's logits file).</param>
    public static PerplexityResult Compute(IModelSession session, IReadOnlyList<int> tokens, int bosId, PerplexityOptions options,
        Action<int, double>? onChunk = null, LogitsFileWriter? saveLogits = null)
    {
        var n = options.ContextSize;
        Validate(session, tokens.Count, options);
        var chunkCount = tokens.Count / n;
        if (options.MaxChunks is { } max && max > 0)
            chunkCount = Math.Min(chunkCount, max);
        var first = n / 2;
        var vocab = session.VocabSize;
        saveLogits?.WriteHeader(n, vocab, chunkCount, tokens);

        var rows = new float[(long)(n - first) * vocab];
        double nll = 0, nll2 = 0;
        var count = 0;
        var running = new List<double>(chunkCount);
        for (var chunk = 0; chunk < chunkCount; chunk++)
        {
            var chunkTokens = ChunkTokens(tokens, chunk * n, n, bosId);
            EvaluateSecondHalf(session, chunkTokens, first, options.BatchSize, rows);
            for (var j = first; j < n - 1; j++)
            {
                var row = rows.AsSpan((j - first) * vocab, vocab);
                var target = tokens[chunk * n + j + 1];
                var v = -LogProbs.Of(row, target);
                nll += v;
                nll2 += v * v;
                saveLogits?.WriteRow(row);
            }
            count += n - first - 1;
            var estimate = Math.Exp(nll / count);
            running.Add(estimate);
            onChunk?.Invoke(chunk + 1, estimate);
        }
        var mean = nll / count;
        var variance = nll2 / count - mean * mean;
        var ppl = Math.Exp(mean);
        var uncertainty = variance > 0 ? Math.Sqrt(variance / (count - 1)) * ppl : 0;
        return new PerplexityResult(ppl, uncertainty, chunkCount, count, running);
    }

    /// <summary>Throws the llama-perplexity error when the text is shorter than two chunks, or the session too small.</summary>
    public static void Validate(IModelSession session, int tokenCount, PerplexityOptions options)
    {
        var n = options.ContextSize;
        if (n < 4)
            throw new EvaluationException($"the context size must be at least 4 tokens (got {n})");
        if (options.BatchSize < 1)
            throw new EvaluationException($"the batch size must be positive (got {options.BatchSize})");
        if (tokenCount < 2 * n)
            throw new EvaluationException(
                $"you need at least {2 * n} tokens to evaluate perplexity with a context of {n}: the text tokenizes to only {tokenCount} tokens");
        if (session.ContextSize < n)
            throw new EvaluationException($"the session holds {session.ContextSize} tokens, the chunks need {n}");
    }

    /// <summary>The tokens of one chunk, its first replaced by BOS (when the model has one).</summary>
    internal static int[] ChunkTokens(IReadOnlyList<int> tokens, int start, int length, int bosId)
    {
        var chunk = new int[length];
        for (var i = 0; i < length; i++)
            chunk[i] = tokens[start + i];
        if (bosId >= 0)
            chunk[0] = bosId;
        return chunk;
    }

    /// <summary>Evaluates a chunk from an empty cache in batches and keeps the logits of positions first.. (row i = position first+i).</summary>
    internal static void EvaluateSecondHalf(IModelSession session, int[] chunk, int first, int batchSize, float[] rows)
    {
        var vocab = session.VocabSize;
        session.Truncate(0);
        var batch = Math.Min(batchSize, chunk.Length);
        var buffer = new float[(long)batch * vocab];
        for (var start = 0; start < chunk.Length; start += batch)
        {
            var size = Math.Min(batch, chunk.Length - start);
            var logits = buffer.AsSpan(0, size * vocab);
            session.EvaluateAll(chunk.AsSpan(start, size), logits);
            for (var k = 0; k < size; k++)
            {
                var position = start + k;
                if (position >= first)
                    logits.Slice(k * vocab, vocab).CopyTo(rows.AsSpan((position - first) * vocab, vocab));
            }
        }
    }
}
