namespace Llamero.Sampling;

/// <summary>The deterministic picker: selects the highest logit (the first one on ties).</summary>
public sealed class GreedySampler : ISampler
{
    /// <inheritdoc/>
    public string Name => "greedy";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        var items = candidates.Items;
        if (items.Length == 0)
        {
            candidates.Selected = -1;
            return;
        }
        var best = 0;
        for (var i = 1; i < items.Length; i++)
        {
            if (items[i].Logit > items[best].Logit)
                best = i;
        }
        candidates.Selected = best;
    }
}
