using System.Globalization;
using System.Text;

namespace Llamero.Sampling.Grammars;

/// <summary>
/// Turns a JSON Schema <c>pattern</c> into GBNF for a JSON string whose (decoded) text the pattern matches from
/// <c>^</c> to <c>$</c>. Unlike llama.cpp, which copies the regex into the grammar character for character (so a
/// class such as <c>[^a]</c> there can write a bare <c>"</c> and break the JSON), every character is written the way
/// <c>JSON.stringify</c> writes it: <c>"</c> and <c>\</c> escaped, control characters as <c>\n \t \r \b \f</c> or
/// <c>\u00xx</c>, everything else as itself.
/// </summary>
internal sealed class RegexToGbnf
{
    // Bounds the grammar a pattern may turn into (nodes after removing empty matches from repeated groups).
    private const int MaxNodes = 20_000;

    // Characters JSON never writes as themselves inside a string.
    private static readonly CodePointSet s_escaped = CodePointSet.FromRanges([(0, 0x1F), ('"', '"'), ('\\', '\\')]);

    // Surrogate code points are not characters; sets built by complement contain them, grammars must not.
    private static readonly CodePointSet s_surrogates = CodePointSet.Range(0xD800, 0xDFFF);

    private readonly Func<string, string> _namedRule;
    private readonly Dictionary<CodePointSet, string> _setRules = [];

    private RegexToGbnf(Func<string, string> namedRule) => _namedRule = namedRule;

    /// <summary>
    /// GBNF matching the JSON string (quotes included, no trailing space) whose text matches <paramref name="pattern"/>.
    /// <paramref name="namedRule"/> adds a rule with the given body and returns its name (for character classes used
    /// more than once). Throws <see cref="JsonSchemaException"/> for what cannot be converted.
    /// </summary>
    public static string Convert(string pattern, string path, Func<string, string> namedRule)
    {
        var node = RemoveEmptyRepeats(RegexParser.Parse(pattern, path));
        if (node.Size > MaxNodes)
            throw new JsonSchemaException($"pattern '{pattern}' is too complex for a grammar (over {MaxNodes} parts)", path);
        var body = new RegexToGbnf(namedRule).Emit(node);
        return $"\"\\\"\" {body} \"\\\"\"";
    }

    // A repeated body that can match nothing makes GBNF loop without consuming (left recursion); x{m,n} with
    // x nullable matches the same strings as (x without the empty string){0,n}.
    private static RegexNode RemoveEmptyRepeats(RegexNode node)
    {
        switch (node)
        {
            case RegexSequence s:
                return new RegexSequence([.. s.Parts.Select(RemoveEmptyRepeats)]);
            case RegexChoice c:
                return new RegexChoice([.. c.Options.Select(RemoveEmptyRepeats)]);
            case RegexRepeat { Max: 0 }:
                return RegexSequence.Empty;
            case RegexRepeat r:
                var body = RemoveEmptyRepeats(r.Body);
                if (!body.Nullable)
                    return new RegexRepeat(body, r.Min, r.Max);
                return NonEmpty(body) is { } solid ? new RegexRepeat(solid, 0, r.Max) : RegexSequence.Empty;
            default:
                return node;
        }
    }

    // The node's strings minus the empty one (null when nothing is left); the input has no nullable repeat bodies.
    private static RegexNode? NonEmpty(RegexNode node)
    {
        if (!node.Nullable)
            return node;
        switch (node)
        {
            case RegexChoice c:
                var options = c.Options.Select(NonEmpty).OfType<RegexNode>().ToList();
                return options.Count == 0 ? null : options.Count == 1 ? options[0] : new RegexChoice(options);
            case RegexRepeat r:
                // Body is not nullable here, so r is nullable only through Min == 0: one copy, then up to Max - 1 more.
                return new RegexSequence([r.Body, new RegexRepeat(r.Body, 0, r.Max - 1)]);
            case RegexSequence s:
                // Every part can be empty: the first non-empty part decides, the rest follow as they are.
                var starts = new List<RegexNode>();
                for (var i = 0; i < s.Parts.Count; i++)
                {
                    if (NonEmpty(s.Parts[i]) is { } first)
                        starts.Add(new RegexSequence([first, .. s.Parts.Skip(i + 1)]));
                }
                return starts.Count == 0 ? null : starts.Count == 1 ? starts[0] : new RegexChoice(starts);
            default:
                return node;
        }
    }

    private string Emit(RegexNode node)
    {
        switch (node)
        {
            case RegexChars chars:
                return Chars(chars.Set);
            case RegexChoice choice:
                return "( " + string.Join(" | ", choice.Options.Select(Emit)) + " )";
            case RegexRepeat repeat:
                var count = (repeat.Min, repeat.Max) switch
                {
                    (0, null) => "*",
                    (1, null) => "+",
                    (0, 1) => "?",
                    (var min, null) => $"{{{min},}}",
                    (var min, var max) when min == max => $"{{{min}}}",
                    (var min, var max) => $"{{{min},{max}}}",
                };
                var body = Emit(repeat.Body);
                // A literal, a class, a rule name or a choice is one GBNF item; a sequence needs a group.
                return repeat.Body is RegexSequence ? $"( {body} ){count}" : $"{body}{count}";
            case RegexSequence sequence:
                return Sequence(sequence);
            default:
                throw new InvalidOperationException($"unexpected regex node {node.GetType().Name}");
        }
    }

    // Runs of single characters become one literal ("abc" rather than "a" "b" "c").
    private string Sequence(RegexSequence sequence)
    {
        if (sequence.Parts.Count == 0)
            return "\"\"";
        var parts = new List<string>();
        var literal = new StringBuilder();
        foreach (var part in sequence.Parts)
        {
            if (part is RegexChars { Set.Single: { } single })
            {
                literal.Append(JsonText(single));
                continue;
            }
            if (literal.Length > 0)
                parts.Add(JsonSchemaGrammar.GbnfLiteral(literal.ToString()));
            literal.Clear();
            parts.Add(Emit(part));
        }
        if (literal.Length > 0)
            parts.Add(JsonSchemaGrammar.GbnfLiteral(literal.ToString()));
        return string.Join(" ", parts);
    }

    // One character of the set, as JSON writes it inside a string.
    private string Chars(CodePointSet set)
    {
        set = set.Except(s_surrogates); // never empty: the parser refuses classes without a character
        if (set.Single is { } single)
            return JsonSchemaGrammar.GbnfLiteral(JsonText(single));
        if (_setRules.TryGetValue(set, out var known))
            return known;
        var options = new List<string>();
        var plain = set.Except(s_escaped);
        if (!plain.IsEmpty)
            options.Add(ClassText(plain));
        foreach (var (low, high) in set.Intersect(s_escaped).Ranges)
        {
            for (var c = low; c <= high; c++)
                options.Add(JsonSchemaGrammar.GbnfLiteral(JsonText(c)));
        }
        var body = options.Count == 1 ? options[0] : "( " + string.Join(" | ", options) + " )";
        if (body.Length < 40)
            return body;
        var name = _namedRule(body);
        _setRules[set] = name;
        return name;
    }

    // How JSON.stringify writes the character inside a string.
    private static string JsonText(int codePoint) => codePoint switch
    {
        '"' => "\\\"",
        '\\' => "\\\\",
        '\b' => "\\b",
        '\f' => "\\f",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        < 0x20 => $"\\u{codePoint:x4}",
        _ => char.ConvertFromUtf32(codePoint),
    };

    private static string ClassText(CodePointSet set)
    {
        var text = new StringBuilder("[");
        foreach (var (low, high) in set.Ranges)
        {
            text.Append(ClassChar(low));
            if (high > low)
                text.Append('-').Append(ClassChar(high));
        }
        return text.Append(']').ToString();
    }

    private static string ClassChar(int codePoint) => codePoint switch
    {
        _ when codePoint < 0x80 && char.IsAsciiLetterOrDigit((char)codePoint) => ((char)codePoint).ToString(),
        < 0x100 => $"\\x{codePoint.ToString("X2", CultureInfo.InvariantCulture)}",
        < 0x10000 => $"\\u{codePoint.ToString("X4", CultureInfo.InvariantCulture)}",
        _ => $"\\U{codePoint.ToString("X8", CultureInfo.InvariantCulture)}",
    };
}
