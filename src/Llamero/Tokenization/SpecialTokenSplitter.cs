namespace Llamero.Tokenization;

/// <summary>
/// Cuts text into raw-text fragments and special-token fragments before the model's algorithm runs, as
/// llama.cpp's tokenizer_st_partition does: special tokens are tried longest text first, and every occurrence of
/// one splits the fragments still holding raw text. Control and unknown tokens take part only when special tokens
/// are parsed; user-defined tokens always do.
/// </summary>
internal sealed class SpecialTokenSplitter
{
    private readonly (string Text, int Id, bool OnlyWhenParsing)[] _specials;

    /// <summary>A piece of the input: raw text (<see cref="Token"/> &lt; 0) or one special token.</summary>
    public readonly record struct Fragment(int Start, int Length, int Token)
    {
        public bool IsText => Token < 0;
    }

    public SpecialTokenSplitter(IReadOnlyList<string> tokens, IReadOnlyList<TokenType> types)
    {
        var list = new List<(string, int, bool)>();
        for (var id = 0; id < tokens.Count; id++)
        {
            var type = types[id];
            if (type is TokenType.Control or TokenType.Unknown or TokenType.UserDefined && tokens[id].Length > 0)
                list.Add((tokens[id], id, type != TokenType.UserDefined));
        }
        // Longest first; a stable order among equal lengths keeps the result deterministic.
        _specials = list.OrderByDescending(s => s.Item1.Length).ThenBy(s => s.Item2).ToArray();
    }

    /// <summary>Splits <paramref name="text"/> into fragments in order.</summary>
    public List<Fragment> Split(string text, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0)
            return fragments;
        fragments.Add(new Fragment(0, text.Length, -1));
        foreach (var (special, id, onlyWhenParsing) in _specials)
        {
            if (onlyWhenParsing && !parseSpecial)
                continue;
            for (var f = 0; f < fragments.Count; f++)
            {
                var fragment = fragments[f];
                if (!fragment.IsText)
                    continue;
                var match = text.AsSpan(fragment.Start, fragment.Length).IndexOf(special, StringComparison.Ordinal);
                if (match < 0)
                    continue;
                // Replace the fragment by [left text] [token] [right text]; the right part is searched next.
                var parts = new List<Fragment>(3);
                if (match > 0)
                    parts.Add(new Fragment(fragment.Start, match, -1));
                parts.Add(new Fragment(0, 0, id));
                var rightStart = fragment.Start + match + special.Length;
                var rightLength = fragment.Start + fragment.Length - rightStart;
                if (rightLength > 0)
                    parts.Add(new Fragment(rightStart, rightLength, -1));
                fragments.RemoveAt(f);
                fragments.InsertRange(f, parts);
                f += parts.Count - (rightLength > 0 ? 2 : 1);
            }
        }
        return fragments;
    }
}
