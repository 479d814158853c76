namespace Llamero.Sampling.Grammars;

/// <summary>
/// The matcher's core, llama.cpp's <c>llama_grammar_advance_stack</c> and <c>llama_grammar_accept</c>, over interned
/// stacks and stack sets: expanding stacks until each one's top is a character element (or the stack is empty), and
/// moving a set of stacks past one code point, with the result cached on the set. Not thread-safe: one space per
/// matcher (clones share it) and sampler.
/// </summary>
internal sealed class StackSpace(Grammar grammar)
{
    // Bounds the parses kept at once: an ambiguous grammar (r ::= "a" r "b" | "a" r "c" | "") doubles them per character.
    private const int MaxStacks = 4096;

    private readonly Dictionary<(int Position, GrammarStack? Next), GrammarStack> _stacks = [];
    private readonly Dictionary<ListKey, StackList> _lists = [];
    private readonly List<GrammarStack?> _scratch = [];
    private StackList? _dead;

    public Grammar Grammar { get; } = grammar;

    /// <summary>Interned stacks and lists so far (a caller may start a fresh space when this grows large).</summary>
    public int Size => _stacks.Count + _lists.Count;

    /// <summary>The stacks at the start of the grammar.</summary>
    public StackList Initial()
    {
        _scratch.Clear();
        foreach (var start in Grammar.Alternatives(Grammar.Root))
            Expand(Grammar.Element(start).Kind == GrammarElementKind.End ? null : Stack(start, null), _scratch);
        return List(_scratch);
    }

    /// <summary>Moves every stack whose top matches <paramref name="codePoint"/> past it; the rest die.</summary>
    public StackList Advance(StackList list, int codePoint)
    {
        if (list.Advanced.TryGetValue(codePoint, out var known))
            return known;
        var into = new List<GrammarStack?>();
        foreach (var stack in list.Stacks)
        {
            if (stack is not null && Grammar.Element(stack.Position).Matches(codePoint))
                Expand(Pop(stack), into);
        }
        var result = List(into);
        list.Advanced[codePoint] = result;
        return result;
    }

    /// <summary>Whether some stack can accept a character that starts with the bytes of <paramref name="partial"/>.</summary>
    public bool CanContinue(StackList list, Utf8Partial partial)
    {
        if (partial.IsEmpty)
            return !list.IsDead;
        var (low, high) = partial.Span();
        foreach (var stack in list.Stacks)
        {
            if (stack is not null && Grammar.Element(stack.Position).MatchesSomeIn(low, high))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Feeds <paramref name="bytes"/> (UTF-8, possibly starting or ending inside a character) to the stacks.
    /// Returns false when they cannot follow; otherwise the resulting stacks and unfinished character.
    /// </summary>
    public bool TryAdvance(StackList list, Utf8Partial partial, ReadOnlySpan<byte> bytes, out StackList result, out Utf8Partial resultPartial)
    {
        result = list;
        resultPartial = partial;
        foreach (var b in bytes)
        {
            if (!resultPartial.Step(b, out resultPartial, out var codePoint))
                return false;
            if (codePoint < 0)
                continue;
            result = Advance(result, codePoint);
            if (result.IsDead)
                return false;
        }
        return CanContinue(result, resultPartial);
    }

    /// <summary>The same stacks as <paramref name="list"/> (from another space) interned here.</summary>
    public StackList Import(StackList list)
    {
        var stacks = new List<GrammarStack?>();
        foreach (var stack in list.Stacks)
            stacks.Add(Import(stack));
        return List(stacks);
    }

    private GrammarStack? Import(GrammarStack? stack) => stack is null ? null : Stack(stack.Position, Import(stack.Next));

    // Replaces rule references on top of `stack` by the rules' alternatives until a character element is on top (left
    // recursion was refused at compile time, so this ends).
    private void Expand(GrammarStack? stack, List<GrammarStack?> into)
    {
        if (stack is null || Grammar.Element(stack.Position) is not { Kind: GrammarElementKind.RuleRef } element)
        {
            if (!into.Contains(stack)) // interned: equal stacks are the same object
                into.Add(stack);
            if (into.Count > MaxStacks)
                throw new GrammarAmbiguityException($"The grammar is too ambiguous: more than {MaxStacks} parses are alive at once.");
            return;
        }
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        var rest = Pop(stack);
        foreach (var start in Grammar.Alternatives(element.Rule))
            Expand(Grammar.Element(start).Kind == GrammarElementKind.End ? rest : Stack(start, rest), into);
    }

    // The stack after its top element: the next element of the same alternative, or the enclosing stack at its end.
    private GrammarStack? Pop(GrammarStack stack) =>
        Grammar.Element(stack.Position + 1).Kind == GrammarElementKind.End ? stack.Next : Stack(stack.Position + 1, stack.Next);

    private GrammarStack Stack(int position, GrammarStack? next)
    {
        if (!_stacks.TryGetValue((position, next), out var stack))
        {
            stack = new GrammarStack(position, next, _stacks.Count);
            _stacks[(position, next)] = stack;
        }
        return stack;
    }

    private StackList List(List<GrammarStack?> stacks)
    {
        if (stacks.Count == 0)
            return _dead ??= new StackList([]);
        GrammarStack?[] array = [.. stacks];
        Array.Sort(array, static (a, b) => (a?.Id ?? -1).CompareTo(b?.Id ?? -1));
        var key = new ListKey(array);
        if (!_lists.TryGetValue(key, out var list))
        {
            list = new StackList(array);
            _lists[key] = list;
        }
        return list;
    }

    // Identity of a stack set: the same interned stacks in canonical order.
    private readonly struct ListKey(GrammarStack?[] stacks) : IEquatable<ListKey>
    {
        private readonly GrammarStack?[] _stacks = stacks;

        public bool Equals(ListKey other) => _stacks.AsSpan().SequenceEqual(other._stacks, ReferenceEqualityComparer.Instance);

        public override bool Equals(object? obj) => obj is ListKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (var stack in _stacks)
                hash.Add(stack?.Id ?? -1);
            return hash.ToHashCode();
        }
    }
}
