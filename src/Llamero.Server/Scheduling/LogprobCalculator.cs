using Llamero.Server.Engine;

namespace Llamero.Server.Scheduling;

/// <summary>Log-softmax of a logits row and its best entries, for the <c>logprobs</c> options.</summary>
internal static class LogprobCalculator
{
    /// <summary>The chosen token's log probability under the raw model distribution, and the top alternatives.</summary>
    public static TokenLogprob Compute(IInferenceEngine engine, ReadOnlySpan<float> logits, int chosen, int top)
    {
        var max = float.NegativeInfinity;
        foreach (var l in logits)
            max = Math.Max(max, l);
        double sum = 0;
        foreach (var l in logits)
            sum += Math.Exp(l - max);
        var logZ = max + (float)Math.Log(sum);

        var best = new List<(string, float)>(top);
        if (top > 0)
        {
            // Partial selection: top is at most 20, so repeated scans beat sorting a 32k-entry row.
            var taken = new HashSet<int>();
            for (var k = 0; k < top && k < logits.Length; k++)
            {
                var bestId = -1;
                for (var i = 0; i < logits.Length; i++)
                {
                    if (!taken.Contains(i) && (bestId < 0 || logits[i] > logits[bestId]))
                        bestId = i;
                }
                taken.Add(bestId);
                best.Add((engine.TokenText(bestId), logits[bestId] - logZ));
            }
        }
        return new TokenLogprob(engine.TokenText(chosen), logits[chosen] - logZ, best);
    }
}
