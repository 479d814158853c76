namespace Llamero.Sampling;

/// <summary>Adds a fixed bias to the logits of chosen tokens (-infinity bans a token).</summary>
public sealed class LogitBiasSampler : ISampler
{
    private readonly KeyValuePair<int, float>[] _biases;

    /// <summary>Creates the sampler; every token id must be below <paramref name="vocabSize"/>.</summary>
    public LogitBiasSampler(IReadOnlyDictionary<int, float> biases, int vocabSize)
    {
        foreach (var (token, _) in biases)
        {
            if ((uint)token >= (uint)vocabSize)
                throw new ArgumentException($"logit bias names token {token}, but the vocabulary has {vocabSize} tokens (0..{vocabSize - 1})", nameof(biases));
        }
        _biases = [.. biases];
    }

    /// <inheritdoc/>
    public string Name => "logit-bias";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (_biases.Length == 0)
            return;
        var items = candidates.Items;
        foreach (var (token, bias) in _biases)
        {
            // Fresh candidates are indexed by id; after other samplers ran, search.
            if (token < items.Length && items[token].Id == token)
            {
                items[token].Logit += bias;
                continue;
            }
            for (var i = 0; i < items.Length; i++)
            {
                if (items[i].Id == token)
                {
                    items[i].Logit += bias;
                    break;
                }
            }
        }
        candidates.Sorted = false;
    }
}
