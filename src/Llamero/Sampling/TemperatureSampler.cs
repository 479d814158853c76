namespace Llamero.Sampling;

/// <summary>
/// Divides every logit by the temperature. A temperature &lt;= 0 is greedy: every logit but the (first) highest
/// becomes -infinity, so the draw that follows can only pick the argmax.
/// </summary>
public sealed class TemperatureSampler(float temperature) : ISampler
{
    /// <inheritdoc/>
    public string Name => "temp";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        var items = candidates.Items;
        if (items.Length == 0)
            return;
        if (temperature <= 0f)
        {
            var best = 0;
            for (var i = 1; i < items.Length; i++)
            {
                if (items[i].Logit > items[best].Logit)
                {
                    items[best].Logit = float.NegativeInfinity;
                    best = i;
                }
                else
                {
                    items[i].Logit = float.NegativeInfinity;
                }
            }
            return;
        }
        foreach (ref var c in items)
            c.Logit /= temperature;
    }
}
