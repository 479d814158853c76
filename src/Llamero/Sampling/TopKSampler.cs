namespace Llamero.Sampling;

/// <summary>Keeps the <c>k</c> highest logits, sorted; k &lt;= 0 keeps everything untouched.</summary>
public sealed class TopKSampler(int k) : ISampler
{
    /// <inheritdoc/>
    public string Name => "top-k";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (k <= 0)
            return;
        candidates.KeepTop(k);
    }
}
