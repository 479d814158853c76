namespace Llamero.Sampling;

/// <summary>
/// Min-p: keeps the tokens whose probability is at least <c>p</c> times the most probable one's, i.e. whose logit
/// is at least max + ln(p). Keeps the candidates' order when unsorted, as llama.cpp does. p &lt;= 0 disables it.
/// </summary>
public sealed class MinPSampler(float p, int minKeep = 0) : ISampler
{
    /// <inheritdoc/>
    public string Name => "min-p";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (p <= 0f || candidates.Count == 0)
            return;
        var items = candidates.Items;
        if (!candidates.Sorted)
        {
            var max = float.MinValue;
            foreach (var c in items)
                max = Math.Max(max, c.Logit);
            var threshold = max + MathF.Log(p);
            var kept = 0;
            foreach (var c in items)
                kept += c.Logit >= threshold ? 1 : 0;
            if (kept > 0 && kept >= minKeep)
            {
                var write = 0;
                for (var i = 0; i < items.Length; i++)
                {
                    if (items[i].Logit >= threshold)
                        items[write++] = items[i];
                }
                candidates.Truncate(write);
                return;
            }
        }

        candidates.SortDescending();
        items = candidates.Items;
        var minLogit = items[0].Logit + MathF.Log(p);
        var keep = 1; // the first token always qualifies
        for (; keep < items.Length; keep++)
        {
            if (items[keep].Logit < minLogit && keep >= minKeep)
                break;
        }
        candidates.Truncate(keep);
    }
}
