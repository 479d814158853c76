namespace Llamero.Sampling.Grammars;

/// <summary>
/// Finds every token the grammar allows next, walking the byte-sorted vocabulary as a prefix tree: the stacks are
/// advanced once per distinct prefix, and a prefix the grammar refuses drops every token that starts with it.
/// </summary>
internal static class TokenMask
{
    /// <summary>Sets <paramref name="allowed"/>[id] for each allowed token (and clears the rest).</summary>
    public static void Compute(Grammar grammar, GrammarVocabulary vocab, List<GrammarStack?> stacks, Utf8Partial partial, bool[] allowed)
    {
        Array.Clear(allowed);
        if (partial.IsEmpty && StackSet.CanEnd(stacks))
        {
            for (var id = 0; id < vocab.Size; id++)
                allowed[id] |= vocab.EndOfGeneration[id];
        }
        Visit(grammar, vocab, 0, vocab.Sorted.Length, 0, stacks, partial, allowed);
    }

    // Tokens sorted[lo..hi) share their first `depth` bytes, which the stacks have already consumed.
    private static void Visit(Grammar grammar, GrammarVocabulary vocab, int lo, int hi, int depth,
        List<GrammarStack?> stacks, Utf8Partial partial, bool[] allowed)
    {
        var sorted = vocab.Sorted;
        var pieces = vocab.Pieces;
        // Tokens that end here sort first.
        while (lo < hi && pieces[sorted[lo]].Length == depth)
            allowed[sorted[lo++]] = true;
        while (lo < hi)
        {
            var b = pieces[sorted[lo]][depth];
            var end = GroupEnd(vocab, lo, hi, depth, b);
            if (partial.Step(b, out var nextPartial, out var codePoint))
            {
                var nextStacks = stacks;
                if (codePoint >= 0)
                {
                    nextStacks = new List<GrammarStack?>();
                    StackSet.Advance(grammar, stacks, codePoint, nextStacks);
                }
                if (nextStacks.Count > 0 && StackSet.CanContinue(grammar, nextStacks, nextPartial))
                    Visit(grammar, vocab, lo, end, depth + 1, nextStacks, nextPartial, allowed);
            }
            lo = end;
        }
    }

    // First index in [lo, hi) whose byte at `depth` is above b (the range is sorted, all longer than depth).
    private static int GroupEnd(GrammarVocabulary vocab, int lo, int hi, int depth, byte b)
    {
        var sorted = vocab.Sorted;
        var pieces = vocab.Pieces;
        var first = lo + 1;
        var last = hi;
        while (first < last)
        {
            var mid = (first + last) >>> 1;
            if (pieces[sorted[mid]][depth] <= b)
                first = mid + 1;
            else
                last = mid;
        }
        return first;
    }
}
