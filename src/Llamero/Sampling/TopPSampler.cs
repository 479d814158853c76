namespace Llamero.Sampling;

/// <summary>Nucleus sampling: keeps the most probable tokens until their probabilities reach <c>p</c>
/// (at least <c>minKeep</c>). p &gt;= 1 disables it.</summary>
public sealed class TopPSampler(float p, int minKeep = 0) : ISampler
{
    // Above this many unsorted candidates, sort only the most likely ones (top-k 0 with a full vocabulary).
    private const int PartialThreshold = 1024;

    /// <inheritdoc/>
    public string Name => "top-p";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (p >= 1f)
            return;
        if (!candidates.Sorted && candidates.Count > PartialThreshold && candidates.TryKeepTopMass(p, minKeep))
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
