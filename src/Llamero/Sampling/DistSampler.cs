namespace Llamero.Sampling;

/// <summary>
/// The seeded picker: softmax over the candidates in their current order, then one uniform draw in [0, 1) picks
/// the first token whose running probability sum reaches it (llama.cpp's dist sampler).
/// </summary>
public sealed class DistSampler : ISampler
{
    private readonly uint _seed;
    private readonly Mt19937 _rng;

    /// <summary>Creates the picker with its own generator seeded by <paramref name="seed"/>.</summary>
    public DistSampler(uint seed)
    {
        _seed = seed;
        _rng = new Mt19937(seed);
    }

    /// <inheritdoc/>
    public string Name => "dist";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        var items = candidates.Items;
        if (items.Length == 0)
        {
            candidates.Selected = -1;
            return;
        }
        candidates.Selected = 0;
        if (items.Length == 1)
        {
            items[0].P = 1f;
            return;
        }

        var max = items[0].Logit;
        if (!candidates.Sorted)
        {
            foreach (var c in items)
                max = Math.Max(max, c.Logit);
        }
        double sum = 0;
        foreach (ref var c in items)
        {
            c.P = MathF.Exp(c.Logit - max);
            sum += c.P;
        }

        var target = sum * _rng.NextCanonical();
        double running = 0;
        var found = false;
        for (var i = 0; i < items.Length; i++)
        {
            if (!found)
            {
                running += items[i].P;
                if (running >= target)
                {
                    candidates.Selected = i;
                    found = true;
                }
            }
            items[i].P = (float)(items[i].P / sum);
        }
        if (!found)
            candidates.Selected = items.Length - 1;
    }

    /// <inheritdoc/>
    public void Reset() => _rng.Seed(_seed);
}
