using System.Text;

namespace Llamero.Sampling.Grammars;

/// <summary>
/// Walks a <see cref="Grammar"/> one character (or UTF-8 byte run) at a time, keeping every parse that is still
/// possible, as llama.cpp's <c>llama_grammar</c> does. A refused input leaves the matcher unchanged. Not thread-safe.
/// </summary>
public sealed class GrammarMatcher
{
    private List<GrammarStack?> _stacks;
    private Utf8Partial _partial;

    internal GrammarMatcher(Grammar grammar)
    {
        Grammar = grammar;
        _stacks = StackSet.Initial(grammar);
    }

    private GrammarMatcher(Grammar grammar, List<GrammarStack?> stacks, Utf8Partial partial)
    {
        Grammar = grammar;
        _stacks = stacks;
        _partial = partial;
    }

    /// <summary>The grammar being matched.</summary>
    public Grammar Grammar { get; }

    /// <summary>Whether the input so far is a whole sentence of the grammar (it may still continue).</summary>
    public bool IsComplete => _partial.IsEmpty && StackSet.CanEnd(_stacks);

    /// <summary>Whether anything other than the end may follow.</summary>
    public bool CanContinue => _stacks.Any(s => s is not null);

    internal List<GrammarStack?> Stacks => _stacks;

    internal Utf8Partial Partial => _partial;

    /// <summary>Accepts one code point; false (and no change) when the grammar cannot continue with it.</summary>
    public bool Accept(int codePoint)
    {
        if (!_partial.IsEmpty || !Rune.IsValid(codePoint))
            return false;
        var next = new List<GrammarStack?>();
        StackSet.Advance(Grammar, _stacks, codePoint, next);
        if (next.Count == 0)
            return false;
        _stacks = next;
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
        if (!StackSet.TryAdvance(Grammar, _stacks, _partial, bytes, out var stacks, out var partial))
            return false;
        _stacks = stacks;
        _partial = partial;
        return true;
    }

    /// <summary>Whether <see cref="AcceptUtf8"/> would accept <paramref name="bytes"/> (nothing changes).</summary>
    public bool CanAcceptUtf8(ReadOnlySpan<byte> bytes) => StackSet.TryAdvance(Grammar, _stacks, _partial, bytes, out _, out _);

    /// <summary>An independent copy at the same point.</summary>
    public GrammarMatcher Clone() => new(Grammar, _stacks, _partial);
}
