namespace Llamero.Sampling;

/// <summary>Nucleus sampling: keeps the most probable tokens until their probabilities reach <c>p</c>
/// (at least <c>minKeep</c>). p &gt;= 1 disables it.</summary>
public sealed class TopPSampler(float p, int minKeep = 0) : ISampler
{
    /// <inheritdoc/>
    public string Name => "top-p";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (p >= 1f)
            return;
        candidates.Softmax();
        var items = candidates.Items;
        var cumulative = 0f;
        var keep = items.Length;
        for (var i = 0; i < items.Length; i++)
        {
            cumulative += items[i].P;
            // The token that crosses p is included.
            if (cumulative >= p && i + 1 >= minKeep)
            {
                keep = i + 1;
                break;
            }
        }
        candidates.Truncate(keep);
    }
}
