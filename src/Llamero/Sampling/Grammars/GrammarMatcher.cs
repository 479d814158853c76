using System.Text;

namespace Llamero.Sampling.Grammars;

/// <summary>
/// Walks a <see cref="Grammar"/> one character (or UTF-8 byte run) at a time, keeping every parse that is still
/// possible, as llama.cpp's <c>llama_grammar</c> does. A refused input leaves the matcher unchanged. Not
/// thread-safe, and a matcher shares its caches with its clones: use them from one thread at a time.
/// </summary>
public sealed class GrammarMatcher
{
    // A long generation meets ever new states; past this many cached ones, start a fresh space.
    private readonly int _maxCachedStates;
    private StackSpace _space;
    private StackList _stacks;
    private Utf8Partial _partial;

    internal GrammarMatcher(Grammar grammar, int maxCachedStates = 200_000)
    {
        Grammar = grammar;
        _maxCachedStates = maxCachedStates;
        _space = new StackSpace(grammar);
        _stacks = _space.Initial();
    }

    private GrammarMatcher(Grammar grammar, int maxCachedStates, StackSpace space, StackList stacks, Utf8Partial partial)
    {
        Grammar = grammar;
        _maxCachedStates = maxCachedStates;
        _space = space;
        _stacks = stacks;
        _partial = partial;
    }

    /// <summary>The grammar being matched.</summary>
    public Grammar Grammar { get; }

    /// <summary>Whether the input so far is a whole sentence of the grammar (it may still continue).</summary>
    public bool IsComplete => _partial.IsEmpty && _stacks.CanEnd;

    /// <summary>Whether anything other than the end may follow.</summary>
    public bool CanContinue => _stacks.Stacks.Any(s => s is not null);

    internal StackSpace Space => _space;

    internal StackList Stacks => _stacks;

    internal Utf8Partial Partial => _partial;

    /// <summary>Accepts one code point; false (and no change) when the grammar cannot continue with it.</summary>
    public bool Accept(int codePoint)
    {
        if (!_partial.IsEmpty || !Rune.IsValid(codePoint))
            return false;
        var next = _space.Advance(_stacks, codePoint);
        if (next.IsDead)
            return false;
        Move(next, _partial);
        return true;
    }

    /// <summary>Accepts every character of <paramref name="text"/>; false (and no change) when some cannot follow.</summary>
    public bool Accept(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return AcceptUtf8(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>
    /// Accepts UTF-8 bytes, which may end (and, after an earlier call, begin) inside a character; false (and no
    /// change) on invalid UTF-8 or text the grammar cannot continue with.
    /// </summary>
    public bool AcceptUtf8(ReadOnlySpan<byte> bytes)
    {
        if (!_space.TryAdvance(_stacks, _partial, bytes, out var stacks, out var partial))
            return false;
        Move(stacks, partial);
        return true;
    }

    /// <summary>Whether <see cref="AcceptUtf8"/> would accept <paramref name="bytes"/> (nothing changes).</summary>
    public bool CanAcceptUtf8(ReadOnlySpan<byte> bytes) => _space.TryAdvance(_stacks, _partial, bytes, out _, out _);

    /// <summary>An independent copy at the same point (sharing this matcher's caches).</summary>
    public GrammarMatcher Clone() => new(Grammar, _maxCachedStates, _space, _stacks, _partial);

    private void Move(StackList stacks, Utf8Partial partial)
    {
        _partial = partial;
        if (_space.Size > _maxCachedStates)
        {
            _space = new StackSpace(Grammar);
            stacks = _space.Import(stacks);
        }
        _stacks = stacks;
    }
}
