namespace Llamero.Sampling.Grammars;

/// <summary>
/// The matcher's core, llama.cpp's <c>llama_grammar_advance_stack</c> and <c>llama_grammar_accept</c>: expanding
/// stacks until each one's top is a character element (or the stack is empty), and moving a set of stacks past one
/// code point. A stack set is a list without duplicates; an empty list means nothing can follow.
/// </summary>
internal static class StackSet
{
    /// <summary>The stacks at the start of <paramref name="grammar"/>.</summary>
    public static List<GrammarStack?> Initial(Grammar grammar)
    {
        var stacks = new List<GrammarStack?>();
        foreach (var start in grammar.Alternatives(grammar.Root))
            Expand(grammar, grammar.Element(start).Kind == GrammarElementKind.End ? null : new GrammarStack(start, null), stacks);
        return stacks;
    }

    /// <summary>
    /// Adds to <paramref name="into"/> the stacks <paramref name="stack"/> becomes once every rule reference on
    /// its top is replaced by the rule's alternatives (left recursion was refused at compile time, so this ends).
    /// </summary>
    public static void Expand(Grammar grammar, GrammarStack? stack, List<GrammarStack?> into)
    {
        if (stack is null)
        {
            AddDistinct(into, null);
            return;
        }
        var element = grammar.Element(stack.Position);
        if (element.Kind != GrammarElementKind.RuleRef)
        {
            AddDistinct(into, stack);
            return;
        }
        var rest = Pop(grammar, stack);
        foreach (var start in grammar.Alternatives(element.Rule))
            Expand(grammar, grammar.Element(start).Kind == GrammarElementKind.End ? rest : new GrammarStack(start, rest), into);
    }

    /// <summary>Moves every stack whose top matches <paramref name="codePoint"/> past it; the rest die.</summary>
    public static void Advance(Grammar grammar, List<GrammarStack?> stacks, int codePoint, List<GrammarStack?> into)
    {
        foreach (var stack in stacks)
        {
            if (stack is not null && grammar.Element(stack.Position).Matches(codePoint))
                Expand(grammar, Pop(grammar, stack), into);
        }
    }

    /// <summary>Whether some stack can accept a character that starts with the bytes of <paramref name="partial"/>.</summary>
    public static bool CanContinue(Grammar grammar, List<GrammarStack?> stacks, Utf8Partial partial)
    {
        if (partial.IsEmpty)
            return stacks.Count > 0;
        var (low, high) = partial.Span();
        foreach (var stack in stacks)
        {
            if (stack is not null && grammar.Element(stack.Position).MatchesSomeIn(low, high))
                return true;
        }
        return false;
    }

    /// <summary>Whether some stack is empty (the grammar may end here).</summary>
    public static bool CanEnd(List<GrammarStack?> stacks) => stacks.Contains(null);

    /// <summary>
    /// Feeds <paramref name="bytes"/> (UTF-8, possibly starting or ending inside a character) to the stacks.
    /// Returns false when they cannot follow; otherwise the resulting stacks and unfinished character.
    /// </summary>
    public static bool TryAdvance(Grammar grammar, List<GrammarStack?> stacks, Utf8Partial partial, ReadOnlySpan<byte> bytes,
        out List<GrammarStack?> result, out Utf8Partial resultPartial)
    {
        result = stacks;
        resultPartial = partial;
        foreach (var b in bytes)
        {
            if (!resultPartial.Step(b, out resultPartial, out var codePoint))
                return false;
            if (codePoint < 0)
                continue;
            var next = new List<GrammarStack?>();
            Advance(grammar, result, codePoint, next);
            if (next.Count == 0)
                return false;
            result = next;
        }
        return CanContinue(grammar, result, resultPartial);
    }

    // The stack after its top element: the next element of the same alternative, or the enclosing stack at its end.
    private static GrammarStack? Pop(Grammar grammar, GrammarStack stack) =>
        grammar.Element(stack.Position + 1).Kind == GrammarElementKind.End ? stack.Next : new GrammarStack(stack.Position + 1, stack.Next);

    private static void AddDistinct(List<GrammarStack?> stacks, GrammarStack? stack)
    {
        foreach (var existing in stacks)
        {
            if (GrammarStack.Same(existing, stack))
                return;
        }
        stacks.Add(stack);
    }
}
