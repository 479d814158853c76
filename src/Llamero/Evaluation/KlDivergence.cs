using Llamero.Models;

namespace Llamero.Evaluation;

/// <summary>Running sums of llama-perplexity's --kl-divergence, over every scored token so far.</summary>
public sealed class KlDivergenceStats
{
    internal double SumNll, SumNll2, SumNllBase, SumNllBase2, SumNllNllBase, SumKld, SumKld2, SumPDiff, SumPDiff2, SumPDiff4;
    internal float MaxPDiff;

    /// <summary>Tokens compared.</summary>
    public long Count { get; internal set; }

    /// <summary>Tokens whose most likely next token is the same under both models.</summary>
    public long SameTop { get; internal set; }

    /// <summary>Per-token KL divergences (for the percentiles).</summary>
    public List<float> KldValues { get; } = [];

    /// <summary>Per-token p(Q) - p(base) of the actual next token.</summary>
    public List<float> PDiffValues { get; } = [];

    /// <summary>Mean and standard error of a quantity from its sums (zero uncertainty with 10 values or fewer), as llama.cpp.</summary>
    public static (double Mean, double Error) MeanAndUncertainty(double sum, double sum2, long count)
    {
        if (count < 1)
            return (0, 0);
        var mean = sum / count;
        var variance = sum2 / count - mean * mean;
        return (mean, variance > 0 && count > 10 ? Math.Sqrt(variance / (count - 1)) : 0);
    }

    /// <summary>ln PPL of the model under test, with its uncertainty.</summary>
    public (double Mean, double Error) LogPpl => MeanAndUncertainty(SumNll, SumNll2, Count);

    /// <summary>ln PPL of the base model (from the saved log-probabilities).</summary>
    public (double Mean, double Error) LogPplBase => MeanAndUncertainty(SumNllBase, SumNllBase2, Count);

    /// <summary>Covariance of the two ln PPL estimates.</summary>
    public double LogPplCovariance => Count < 10 ? 0 : (SumNllNllBase / Count - SumNll / Count * (SumNllBase / Count)) / (Count - 1);

    /// <summary>ln(PPL(Q)/PPL(base)) and its uncertainty.</summary>
    public (double Mean, double Error) LogPplRatio
    {
        get
        {
            var (q, dq) = LogPpl;
            var (b, db) = LogPplBase;
            return (q - b, Math.Sqrt(dq * dq + db * db - 2 * LogPplCovariance));
        }
    }

    /// <summary>Mean KL divergence (base ‖ Q) per token and its uncertainty.</summary>
    public (double Mean, double Error) Kld => MeanAndUncertainty(SumKld, SumKld2, Count);

    /// <summary>Mean of p(Q) - p(base) for the actual next token.</summary>
    public (double Mean, double Error) PDiff => MeanAndUncertainty(SumPDiff, SumPDiff2, Count);

    /// <summary>RMS of p(Q) - p(base) and its uncertainty.</summary>
    public (double Mean, double Error) PDiffRms
    {
        get
        {
            var (mse, dmse) = MeanAndUncertainty(SumPDiff2, SumPDiff4, Count);
            var rms = Math.Sqrt(mse);
            return (rms, 0.5 / rms * dmse);
        }
    }

    /// <summary>Fraction of tokens whose argmax agrees, and its standard error.</summary>
    public (double Mean, double Error) SameTopP
    {
        get
        {
            var p = (double)SameTop / Count;
            return (p, Math.Sqrt(p * (1 - p) / (Count - 1)));
        }
    }
}

/// <summary>
/// llama-perplexity's --kl-divergence: evaluates the tokens saved in a base logits file chunk by chunk (first token
/// replaced by BOS, second half scored) and compares this model's distribution with the saved one at every scored
/// position: KL divergence, the next token's probability, whether the most likely token is the same.
/// </summary>
public static class KlDivergence
{
    /// <summary>Runs the comparison; <paramref name="onChunk"/> sees the running statistics after each chunk.</summary>
    public static KlDivergenceStats Compute(IModelSession session, LogitsFileReader baseFile, int bosId, int batchSize,
        Action<int, KlDivergenceStats>? onChunk = null)
    {
        var n = baseFile.ContextSize;
        var vocab = session.VocabSize;
        if (baseFile.VocabSize != vocab)
            throw new EvaluationException($"{baseFile.Path} was saved from a model with {baseFile.VocabSize} tokens, this model has {vocab}: inconsistent vocabulary");
        if (session.ContextSize < n)
            throw new EvaluationException($"{baseFile.Path} was computed with a context of {n}, the session holds {session.ContextSize}: increase -c");
        var first = n / 2;
        var rows = new float[(long)(n - first) * vocab];
        var baseRow = new ushort[LogitsFile.RowValues(vocab)];
        var stats = new KlDivergenceStats();
        for (var chunk = 0; chunk < baseFile.Chunks; chunk++)
        {
            var chunkTokens = Perplexity.ChunkTokens(baseFile.Tokens, chunk * n, n, bosId);
            Perplexity.EvaluateSecondHalf(session, chunkTokens, first, batchSize, rows);
            for (var j = first; j < n - 1; j++)
            {
                baseFile.ReadRow(baseRow);
                Accumulate(rows.AsSpan((j - first) * vocab, vocab), baseRow, baseFile.Tokens[chunk * n + j + 1], stats);
            }
            onChunk?.Invoke(chunk + 1, stats);
        }
        return stats;
    }

    /// <summary>One position: llama.cpp's log_softmax against a saved base row.</summary>
    internal static void Accumulate(ReadOnlySpan<float> logits, ReadOnlySpan<ushort> baseRow, int token, KlDivergenceStats kld)
    {
        var max = logits[0];
        var argMax = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > max)
            {
                max = logits[i];
                argMax = i;
            }
        }
        var logSumExp = (float)Math.Log(LogProbs.SumExp(logits, max));
        var scale = LogitsFile.Scale(baseRow);
        var minLogProb = LogitsFile.MinLogProb(baseRow);
        var quantized = baseRow[4..];

        var nll = max + logSumExp - logits[token];
        kld.SumNll += nll;
        kld.SumNll2 += nll * nll;
        var nllBase = -(scale * quantized[token] + minLogProb);
        kld.SumNllBase += nllBase;
        kld.SumNllBase2 += nllBase * nllBase;
        kld.SumNllNllBase += nll * nllBase;

        var logNorm = max + logSumExp;
        double sum = 0;
        var argMaxBase = -1;
        var maxBase = 0f;
        for (var i = 0; i < logits.Length; i++)
        {
            var logBase = scale * quantized[i] + minLogProb;
            if (i == 0 || logBase > maxBase)
            {
                maxBase = logBase;
                argMaxBase = i;
            }
            if (logBase > -16f)
                sum += MathF.Exp(logBase) * (logBase - logits[i] + logNorm);
        }
        kld.SumKld += sum;
        kld.SumKld2 += sum * sum;
        kld.Count++;
        if (argMax == argMaxBase)
            kld.SameTop++;

        var pDiff = MathF.Exp(-nll) - MathF.Exp(-nllBase);
        kld.SumPDiff += pDiff;
        double pDiff2 = pDiff * pDiff;
        kld.SumPDiff2 += pDiff2;
        kld.SumPDiff4 += pDiff2 * pDiff2;
        kld.MaxPDiff = MathF.Max(kld.MaxPDiff, MathF.Abs(pDiff));
        kld.KldValues.Add((float)sum);
        kld.PDiffValues.Add(pDiff);
    }
}
