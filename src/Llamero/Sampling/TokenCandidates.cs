namespace Llamero.Sampling;

/// <summary>One candidate token: its id, its (possibly modified) logit and, after a softmax, its probability.</summary>
public struct TokenCandidate
{
    /// <summary>Token id.</summary>
    public int Id;

    /// <summary>Logit (samplers modify it).</summary>
    public float Logit;

    /// <summary>Probability, valid only after <see cref="TokenCandidates.Softmax"/>.</summary>
    public float P;
}

/// <summary>
/// The candidates a sampler chain narrows down, as llama.cpp's <c>llama_token_data_array</c>: an array whose live
/// prefix shrinks as samplers drop tokens, a flag saying whether it is sorted by descending logit, and the index
/// the final picker selected. Allocated once per chain and refilled for every token.
/// </summary>
public sealed class TokenCandidates
{
    private TokenCandidate[] _data;

    /// <summary>Creates an empty list with room for <paramref name="capacity"/> tokens.</summary>
    public TokenCandidates(int capacity = 0) => _data = new TokenCandidate[capacity];

    /// <summary>Number of live candidates.</summary>
    public int Count { get; private set; }

    /// <summary>True when the live candidates are sorted by descending logit.</summary>
    public bool Sorted { get; set; }

    /// <summary>Index (into <see cref="Items"/>) of the picked token, or -1 before a picker ran.</summary>
    public int Selected { get; set; } = -1;

    /// <summary>The live candidates.</summary>
    public Span<TokenCandidate> Items => _data.AsSpan(0, Count);

    /// <summary>The picked token id.</summary>
    public int SelectedId => Selected >= 0 && Selected < Count
        ? _data[Selected].Id
        : throw new InvalidOperationException("No sampler in the chain picked a token (the chain must end in a picker).");

    /// <summary>Refills the list with every token of a logits row, unsorted, nothing selected.</summary>
    public void Load(ReadOnlySpan<float> logits)
    {
        if (_data.Length < logits.Length)
            _data = new TokenCandidate[logits.Length];
        for (var i = 0; i < logits.Length; i++)
            _data[i] = new TokenCandidate { Id = i, Logit = logits[i], P = 0f };
        Count = logits.Length;
        Sorted = false;
        Selected = -1;
    }

    /// <summary>Keeps only the first <paramref name="count"/> candidates.</summary>
    public void Truncate(int count)
    {
        if ((uint)count > (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"cannot keep {count} of {Count} candidates");
        Count = count;
    }

    /// <summary>Replaces the live candidates with <paramref name="items"/>.</summary>
    public void Replace(ReadOnlySpan<TokenCandidate> items)
    {
        items.CopyTo(_data);
        Count = items.Length;
    }

    /// <summary>Sorts the live candidates by descending logit (no-op when already sorted).</summary>
    public void SortDescending()
    {
        if (Sorted)
            return;
        Items.Sort(default(DescendingLogit));
        Sorted = true;
    }

    /// <summary>
    /// Keeps the <paramref name="k"/> highest logits, sorted by descending logit (llama.cpp's partial sort for
    /// top-k): a selection moves them to the front, then only those k are sorted.
    /// </summary>
    public void KeepTop(int k)
    {
        k = Math.Min(k, Count);
        if (!Sorted && k < Count / 2)
        {
            SelectLargest(Items, k);
            Count = k;
            Items.Sort(default(DescendingLogit));
            Sorted = true;
            return;
        }
        SortDescending();
        Count = k;
    }

    /// <summary>
    /// Top-p without sorting everything: probabilities come from a softmax over all candidates, then only the most
    /// likely ones are selected and sorted, widening until their mass reaches <paramref name="p"/>. Keeps the same
    /// prefix a full sort would. Returns false (changing nothing) when that prefix is not much smaller than the list.
    /// </summary>
    public bool TryKeepTopMass(float p, int minKeep)
    {
        var items = Items;
        var max = float.NegativeInfinity;
        foreach (var c in items)
            max = Math.Max(max, c.Logit);
        var sum = 0f;
        foreach (var c in items)
            sum += MathF.Exp(c.Logit - max);
        for (var k = 256; k <= items.Length / 4; k *= 4)
        {
            SelectLargest(items, k);
            items[..k].Sort(default(DescendingLogit));
            var cumulative = 0f;
            for (var i = 0; i < k; i++)
            {
                items[i].P = MathF.Exp(items[i].Logit - max) / sum;
                cumulative += items[i].P;
                if (cumulative >= p && i + 1 >= minKeep)
                {
                    Count = i + 1;
                    Sorted = true;
                    return true;
                }
            }
        }
        return false;
    }

    // Quickselect (Hoare partition, median-of-three pivot): afterwards the first k items are the k largest logits.
    private static void SelectLargest(Span<TokenCandidate> items, int k)
    {
        var lo = 0;
        var hi = items.Length - 1;
        while (lo < hi)
        {
            var mid = lo + (hi - lo) / 2;
            var pivot = Median(items[lo].Logit, items[mid].Logit, items[hi].Logit);
            var i = lo;
            var j = hi;
            while (i <= j)
            {
                while (items[i].Logit > pivot)
                    i++;
                while (items[j].Logit < pivot)
                    j--;
                if (i <= j)
                {
                    (items[i], items[j]) = (items[j], items[i]);
                    i++;
                    j--;
                }
            }
            // [lo, j] >= pivot >= [i, hi]; continue in the part that holds index k - 1.
            if (k - 1 <= j)
                hi = j;
            else if (k - 1 >= i)
                lo = i;
            else
                return;
        }
    }

    private static float Median(float a, float b, float c) => Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));

    private readonly struct DescendingLogit : IComparer<TokenCandidate>
    {
        public int Compare(TokenCandidate x, TokenCandidate y) => y.Logit.CompareTo(x.Logit);
    }

    /// <summary>
    /// llama.cpp's softmax: sorts by descending logit, then sets each P to exp(logit - max) / sum, in single precision.
    /// </summary>
    public void Softmax()
    {
        SortDescending();
        var items = Items;
        if (items.Length == 0)
            return;
        var max = items[0].Logit;
        var sum = 0f;
        for (var i = 0; i < items.Length; i++)
        {
            var p = MathF.Exp(items[i].Logit - max);
            items[i].P = p;
            sum += p;
        }
        for (var i = 0; i < items.Length; i++)
            items[i].P /= sum;
    }
}
