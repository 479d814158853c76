namespace Llamero.Generation;

/// <summary>Log-probabilities from a raw logits row (log-softmax), for callers that ask for them.</summary>
internal static class LogProbs
{
    /// <summary>log(sum(exp(logits))), computed stably in double precision.</summary>
    public static float LogSumExp(ReadOnlySpan<float> logits)
    {
        var max = float.NegativeInfinity;
        foreach (var l in logits)
            max = Math.Max(max, l);
        double sum = 0;
        foreach (var l in logits)
            sum += Math.Exp(l - max);
        return (float)(max + Math.Log(sum));
    }

    /// <summary>The <paramref name="count"/> most likely tokens, most likely first.</summary>
    public static TokenLogProb[] Top(ReadOnlySpan<float> logits, float logSum, int count)
    {
        var best = new List<TokenLogProb>(count + 1);
        for (var i = 0; i < logits.Length; i++)
        {
            var logProb = logits[i] - logSum;
            if (best.Count == count && logProb <= best[^1].LogProb)
                continue;
            var at = best.FindIndex(e => e.LogProb < logProb);
            best.Insert(at < 0 ? best.Count : at, new TokenLogProb(i, logProb));
            if (best.Count > count)
                best.RemoveAt(best.Count - 1);
        }
        return [.. best];
    }
}
