namespace Llamero.Sampling;

/// <summary>
/// Mirostat 2.0 (a picker): drops the tokens whose surprise -log2(p) exceeds mu, draws from the rest, then moves
/// mu toward the target surprise tau by eta times the error. mu starts at 2·tau.
/// </summary>
public sealed class MirostatV2Sampler : ISampler
{
    private readonly uint _seed;
    private readonly float _tau;
    private readonly float _eta;
    private readonly Mt19937 _rng;

    /// <summary>Creates the picker with target surprise <paramref name="tau"/> and learning rate <paramref name="eta"/>.</summary>
    public MirostatV2Sampler(uint seed, float tau, float eta)
    {
        _seed = seed;
        _tau = tau;
        _eta = eta;
        _rng = new Mt19937(seed);
        Mu = 2 * tau;
    }

    /// <summary>The current maximum surprise.</summary>
    public float Mu { get; private set; }

    /// <inheritdoc/>
    public string Name => "mirostat-v2";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        candidates.Softmax();
        var items = candidates.Items;
        var keep = 0;
        while (keep < items.Length && -MathF.Log2(items[keep].P) <= Mu)
            keep++;
        candidates.Truncate(Math.Max(keep, Math.Min(1, items.Length)));
        candidates.Softmax();
        items = candidates.Items;
        if (items.Length == 0)
        {
            candidates.Selected = -1;
            return;
        }

        var index = DiscreteDraw(items);
        candidates.Selected = index;
        var error = -MathF.Log2(items[index].P) - _tau;
        Mu -= _eta * error;
    }

    /// <inheritdoc/>
    public void Reset()
    {
        Mu = 2 * _tau;
        _rng.Seed(_seed);
    }

    // std::discrete_distribution as libstdc++ implements it: normalised cumulative sums in double,
    // the last forced to 1, and the first index whose sum is not below one canonical draw. With a single
    // candidate it returns 0 without consuming the generator.
    private int DiscreteDraw(ReadOnlySpan<TokenCandidate> items)
    {
        if (items.Length < 2)
            return 0;
        double total = 0;
        foreach (var c in items)
            total += c.P;
        var u = _rng.NextCanonical();
        double cumulative = 0;
        for (var i = 0; i < items.Length - 1; i++)
        {
            cumulative += items[i].P / total;
            if (cumulative >= u)
                return i;
        }
        return items.Length - 1;
    }
}
