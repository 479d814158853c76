namespace Llamero.Sampling.Grammars;

/// <summary>
/// Finds every token the grammar allows next, walking the byte-sorted vocabulary as a prefix tree: the stacks are
/// advanced once per distinct prefix, and a prefix the grammar refuses drops every token that starts with it.
/// </summary>
internal static class TokenMask
{
    /// <summary>Sets <paramref name="allowed"/>[id] for each allowed token (and clears the rest).</summary>
    public static void Compute(StackSpace space, GrammarVocabulary vocab, StackList stacks, Utf8Partial partial, bool[] allowed)
    {
        Array.Clear(allowed);
        if (partial.IsEmpty && stacks.CanEnd)
        {
            for (var id = 0; id < vocab.Size; id++)
                allowed[id] |= vocab.EndOfGeneration[id];
        }
        Visit(space, vocab, 0, vocab.Sorted.Length, 0, stacks, partial, allowed);
    }

    // Tokens sorted[lo..hi) share their first `depth` bytes, which the stacks have already consumed.
    private static void Visit(StackSpace space, GrammarVocabulary vocab, int lo, int hi, int depth,
        StackList stacks, Utf8Partial partial, bool[] allowed)
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
                var nextStacks = codePoint >= 0 ? space.Advance(stacks, codePoint) : stacks;
                if (space.CanContinue(nextStacks, nextPartial))
                    Visit(space, vocab, lo, end, depth + 1, nextStacks, nextPartial, allowed);
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
