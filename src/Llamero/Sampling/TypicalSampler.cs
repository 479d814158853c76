namespace Llamero.Sampling;

/// <summary>
/// Locally typical sampling (llama.cpp's typical-p): orders tokens by how far their surprise (-log p) is from the
/// distribution's entropy and keeps the closest ones until their probabilities add up to more than <c>p</c>.
/// The survivors stay in that order (unsorted by logit). p &gt;= 1 disables it.
/// </summary>
public sealed class TypicalSampler(float p, int minKeep = 0) : ISampler
{
    /// <inheritdoc/>
    public string Name => "typical";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (p >= 1f)
            return;
        candidates.Softmax();
        var items = candidates.Items;
        var entropy = 0f;
        foreach (var c in items)
            entropy += -c.P * MathF.Log(c.P);

        var shifted = new float[items.Length];
        var order = new int[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            shifted[i] = MathF.Abs(-MathF.Log(items[i].P) - entropy);
            order[i] = i;
        }
        Array.Sort(shifted, order);

        var cumulative = 0f;
        var keep = order.Length;
        for (var i = 0; i < order.Length; i++)
        {
            cumulative += items[order[i]].P;
            if (cumulative > p && (minKeep == 0 || i >= minKeep - 1))
            {
                keep = i + 1;
                break;
            }
        }

        var kept = new TokenCandidate[keep];
        for (var i = 0; i < keep; i++)
            kept[i] = items[order[i]];
        candidates.Replace(kept);
        candidates.Sorted = false;
    }
}
