namespace Llamero.Sampling;

/// <summary>
/// llama.cpp's penalties sampler: over the last <c>lastN</c> accepted tokens, a token seen <c>count</c> times has
/// its logit divided by <c>repeat</c> when positive (multiplied when not), then lowered by
/// <c>count * frequency + presence</c>.
/// </summary>
public sealed class PenaltiesSampler : ISampler
{
    private readonly int _lastN;
    private readonly float _repeat;
    private readonly float _frequency;
    private readonly float _presence;
    private readonly Queue<int> _window = new();
    private readonly Dictionary<int, int> _counts = new();

    /// <summary>Creates the sampler; <paramref name="lastN"/> 0 disables it.</summary>
    public PenaltiesSampler(int lastN, float repeat, float frequency, float presence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lastN);
        _lastN = lastN;
        _repeat = repeat;
        _frequency = frequency;
        _presence = presence;
    }

    /// <inheritdoc/>
    public string Name => "penalties";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (_lastN == 0 || (_repeat == 1f && _frequency == 0f && _presence == 0f))
            return;
        var items = candidates.Items;
        foreach (var (token, count) in _counts)
        {
            // Fresh candidates sit at the index of their id (this sampler runs first); otherwise search.
            var at = token < items.Length && items[token].Id == token ? token : IndexOf(items, token);
            if (at >= 0)
                Penalize(ref items[at], count);
        }
        candidates.Sorted = false;
    }

    private void Penalize(ref TokenCandidate c, int count)
    {
        // Dividing a negative logit would make the token more likely: multiply it instead.
        if (c.Logit <= 0)
            c.Logit *= _repeat;
        else
            c.Logit /= _repeat;
        c.Logit -= count * _frequency + (count > 0 ? 1f : 0f) * _presence;
    }

    private static int IndexOf(Span<TokenCandidate> items, int token)
    {
        for (var i = 0; i < items.Length; i++)
        {
            if (items[i].Id == token)
                return i;
        }
        return -1;
    }

    /// <inheritdoc/>
    public void Accept(int token)
    {
        if (_lastN == 0)
            return;
        _counts[token] = _counts.GetValueOrDefault(token) + 1;
        if (_window.Count >= _lastN)
        {
            var old = _window.Dequeue();
            if (--_counts[old] == 0)
                _counts.Remove(old);
        }
        _window.Enqueue(token);
    }

    /// <inheritdoc/>
    public void Reset()
    {
        _window.Clear();
        _counts.Clear();
    }
}
