namespace Llamero.Sampling.Grammars;

/// <summary>What one element of a compiled grammar alternative is.</summary>
internal enum GrammarElementKind : byte
{
    /// <summary>Ends an alternative.</summary>
    End,

    /// <summary>A reference to another rule (<see cref="GrammarElement.Rule"/>).</summary>
    RuleRef,

    /// <summary>One code point inside any of <see cref="GrammarElement.Ranges"/>.</summary>
    Char,

    /// <summary>One code point outside all of <see cref="GrammarElement.Ranges"/> (<c>[^...]</c>).</summary>
    CharNot,

    /// <summary>Any code point (<c>.</c>).</summary>
    Any,
}

/// <summary>
/// One element of a compiled alternative, as llama.cpp's <c>llama_grammar_element</c> but with a character class
/// held as one element: <see cref="Ranges"/> is a flat list of inclusive (low, high) code point pairs.
/// </summary>
internal readonly record struct GrammarElement(GrammarElementKind Kind, int Rule = -1, int[]? Ranges = null)
{
    public static GrammarElement End { get; } = new(GrammarElementKind.End);

    public bool IsChar => Kind is GrammarElementKind.Char or GrammarElementKind.CharNot or GrammarElementKind.Any;

    /// <summary>Whether code point <paramref name="c"/> matches this character element.</summary>
    public bool Matches(int c)
    {
        switch (Kind)
        {
            case GrammarElementKind.Any:
                return true;
            case GrammarElementKind.Char:
                return InRanges(c);
            case GrammarElementKind.CharNot:
                return !InRanges(c);
            default:
                return false;
        }
    }

    /// <summary>
    /// Whether some code point in [<paramref name="low"/>, <paramref name="high"/>] could match: used for a token
    /// that ends inside a multi-byte UTF-8 character, whose code point is known only to lie in that interval.
    /// </summary>
    public bool MatchesSomeIn(int low, int high)
    {
        var ranges = Ranges!;
        switch (Kind)
        {
            case GrammarElementKind.Any:
                return true;
            case GrammarElementKind.Char:
                for (var i = 0; i < ranges.Length; i += 2)
                {
                    if (ranges[i] <= high && ranges[i + 1] >= low)
                        return true;
                }
                return false;
            case GrammarElementKind.CharNot:
                // Conservative: refuse only when one excluded range covers the whole interval.
                for (var i = 0; i < ranges.Length; i += 2)
                {
                    if (ranges[i] <= low && ranges[i + 1] >= high)
                        return false;
                }
                return true;
            default:
                return false;
        }
    }

    private bool InRanges(int c)
    {
        var ranges = Ranges!;
        for (var i = 0; i < ranges.Length; i += 2)
        {
            if (c >= ranges[i] && c <= ranges[i + 1])
                return true;
        }
        return false;
    }
}
