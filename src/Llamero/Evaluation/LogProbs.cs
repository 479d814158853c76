namespace Llamero.Evaluation;

/// <summary>Log-softmax of one logits row, computed as llama-perplexity does (max in float, sum of exps in double).</summary>
public static class LogProbs
{
    /// <summary>ln p(<paramref name="token"/>) under the distribution softmax(<paramref name="logits"/>).</summary>
    public static double Of(ReadOnlySpan<float> logits, int token)
    {
        if ((uint)token >= (uint)logits.Length)
            throw new ArgumentOutOfRangeException(nameof(token), $"token {token} is outside the vocabulary of {logits.Length}");
        var max = Max(logits);
        var sum = SumExp(logits, max);
        return logits[token] - max - Math.Log(sum);
    }

    /// <summary>The largest logit.</summary>
    public static float Max(ReadOnlySpan<float> logits)
    {
        var max = logits[0];
        for (var i = 1; i < logits.Length; i++)
            max = MathF.Max(max, logits[i]);
        return max;
    }

    /// <summary>Σ exp(logit - max), accumulated in double.</summary>
    public static double SumExp(ReadOnlySpan<float> logits, float max)
    {
        double sum = 0;
        foreach (var logit in logits)
            sum += MathF.Exp(logit - max);
        return sum;
    }
}
