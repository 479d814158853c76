using System.Buffers;
using System.Globalization;
using System.Text;

namespace Llamero.Sampling.Grammars;

/// <summary>
/// Reads llama.cpp's GBNF: <c>name ::= alternatives</c> rules; sequences of <c>"literals"</c>, <c>[classes]</c>
/// (with <c>^</c> negation and <c>a-z</c> ranges), rule names, <c>( groups )</c> and <c>.</c>; the postfixes
/// <c>* + ? {m} {m,} {m,n}</c>; escapes <c>\n \r \t \\ \" \[ \] \- \^ \xHH \uHHHH \UHHHHHHHH</c>; <c># comments</c>.
/// A rule ends at the end of its line, except inside parentheses and after <c>|</c> (and, as an extension, a line
/// that starts with <c>|</c> continues the rule above). Repetitions and groups become generated rules, as in
/// llama.cpp. Every error names its line and column.
/// </summary>
internal sealed class GbnfParser
{
    // Bounds a {m,n} so a hostile grammar cannot expand into millions of elements.
    private const int MaxRepetition = 4096;

    // Bounds what repetitions may expand into (x{4096}{4096} would be 16 million elements).
    private const long MaxExpandedElements = 1 << 20;

    private readonly string _text;
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly List<List<List<GrammarElement>>?> _rules = [];
    private readonly List<int> _firstReference = [];
    private readonly List<int> _definedAt = [];
    private int _pos;
    private long _expanded;

    private GbnfParser(string text) => _text = text;

    /// <summary>Parses <paramref name="text"/> and returns the rules (alternatives of element sequences) and their names.</summary>
    public static (List<List<List<GrammarElement>>> Rules, List<string> Names, int[] DefinedAt) Parse(string text)
    {
        var parser = new GbnfParser(text);
        parser.ParseGrammar();
        for (var id = 0; id < parser._rules.Count; id++)
        {
            if (parser._rules[id] is null)
                throw parser.Error($"undefined rule '{parser._names[id]}'", parser._firstReference[id]);
        }
        return ([.. parser._rules.Select(r => r!)], parser._names, [.. parser._definedAt]);
    }

    private char Current => _pos < _text.Length ? _text[_pos] : '\0';

    private bool AtEnd => _pos >= _text.Length;

    private void ParseGrammar()
    {
        SkipSpace(newlineOk: true);
        while (!AtEnd)
            ParseRule();
    }

    private void ParseRule()
    {
        var start = _pos;
        var name = ParseName("a rule name");
        SkipSpace(newlineOk: false);
        if (string.CompareOrdinal(_text, _pos, "::=", 0, 3) != 0)
            throw Error($"expected '::=' after rule name '{name}'", _pos);
        _pos += 3;
        SkipSpace(newlineOk: true);
        var id = Id(name, start);
        if (_rules[id] is not null)
            throw Error($"rule '{name}' is defined twice", start);
        _rules[id] = []; // mark defined before the body, so a body may refer to it
        _definedAt[id] = start;
        _rules[id] = ParseAlternates(name, nested: false);
        if (Current == '\r')
            _pos += _pos + 1 < _text.Length && _text[_pos + 1] == '\n' ? 2 : 1;
        else if (Current == '\n')
            _pos++;
        else if (!AtEnd)
            throw Error($"unexpected '{Current}' (expected a rule element, '|' or the end of the line)", _pos);
        SkipSpace(newlineOk: true);
    }

    private List<List<GrammarElement>> ParseAlternates(string ruleName, bool nested)
    {
        var alternatives = new List<List<GrammarElement>> { ParseSequence(ruleName, nested) };
        while (true)
        {
            if (Current == '|')
            {
                _pos++;
                SkipSpace(newlineOk: true);
                alternatives.Add(ParseSequence(ruleName, nested));
                continue;
            }
            if (!nested && ContinuationBar() is { } bar)
            {
                _pos = bar;
                continue;
            }
            return alternatives;
        }
    }

    // At a line end: when the next line (after blank lines and comments) starts with '|', where that '|' is.
    private int? ContinuationBar()
    {
        if (Current is not ('\r' or '\n'))
            return null;
        var saved = _pos;
        SkipSpace(newlineOk: true);
        var bar = Current == '|' ? _pos : (int?)null;
        _pos = saved;
        return bar;
    }

    private List<GrammarElement> ParseSequence(string ruleName, bool nested)
    {
        var sequence = new List<GrammarElement>();
        var lastStart = -1;
        while (!AtEnd)
        {
            var c = Current;
            var itemStart = _pos;
            if (c == '"')
            {
                _pos++;
                lastStart = sequence.Count;
                while (Current != '"')
                {
                    if (AtEnd)
                        throw Error("unterminated string literal (missing '\"')", itemStart);
                    var cp = ParseChar();
                    sequence.Add(new GrammarElement(GrammarElementKind.Char, Ranges: [cp, cp]));
                }
                _pos++;
            }
            else if (c == '[')
            {
                _pos++;
                lastStart = sequence.Count;
                sequence.Add(ParseCharClass(itemStart));
            }
            else if (IsWordChar(c))
            {
                var name = ParseName("a rule name");
                lastStart = sequence.Count;
                sequence.Add(new GrammarElement(GrammarElementKind.RuleRef, Id(name, itemStart)));
            }
            else if (c == '(')
            {
                // Hostile nesting must fail as an error, never as a stack overflow.
                if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
                    throw Error("groups are nested too deeply", _pos);
                _pos++;
                SkipSpace(newlineOk: true);
                var group = NewRule(ruleName, itemStart);
                var body = ParseAlternates(ruleName, nested: true);
                if (Current != ')')
                {
                    var (line, column) = LineColumn(itemStart);
                    throw Error(AtEnd ? $"missing ')' for the '(' at line {line}, column {column}"
                        : $"unexpected '{Current}' (expected ')' to close the '(' at line {line}, column {column})", _pos);
                }
                _pos++;
                _rules[group] = body;
                lastStart = sequence.Count;
                sequence.Add(new GrammarElement(GrammarElementKind.RuleRef, group));
            }
            else if (c == '.')
            {
                _pos++;
                lastStart = sequence.Count;
                sequence.Add(new GrammarElement(GrammarElementKind.Any));
            }
            else if (c is '*' or '+' or '?')
            {
                if (lastStart < 0)
                    throw Error($"'{c}' has nothing to repeat", _pos);
                _pos++;
                Repeat(sequence, lastStart, c == '+' ? 1 : 0, c == '?' ? 1 : -1, ruleName, itemStart);
            }
            else if (c == '{')
            {
                if (lastStart < 0)
                    throw Error("'{' has nothing to repeat", _pos);
                var (min, max) = ParseBraces();
                Repeat(sequence, lastStart, min, max, ruleName, itemStart);
            }
            else
            {
                break;
            }
            SkipSpace(newlineOk: nested);
        }
        return sequence;
    }

    private GrammarElement ParseCharClass(int start)
    {
        var negated = false;
        if (Current == '^')
        {
            negated = true;
            _pos++;
        }
        var ranges = new List<int>();
        while (Current != ']')
        {
            if (AtEnd)
                throw Error("unterminated character class (missing ']')", start);
            var low = ParseChar();
            var high = low;
            if (Current == '-' && _pos + 1 < _text.Length && _text[_pos + 1] != ']')
            {
                _pos++;
                var rangeEnd = _pos;
                high = ParseChar();
                if (high < low)
                    throw Error($"character range is backwards (U+{low:X4} > U+{high:X4})", rangeEnd);
            }
            ranges.Add(low);
            ranges.Add(high);
        }
        _pos++;
        if (ranges.Count == 0)
            throw Error("empty character class '[]'", start);
        return new GrammarElement(negated ? GrammarElementKind.CharNot : GrammarElementKind.Char, Ranges: [.. ranges]);
    }

    private (int Min, int Max) ParseBraces()
    {
        var open = _pos;
        _pos++;
        SkipSpace(newlineOk: false);
        var min = ParseCount(open);
        var max = min;
        SkipSpace(newlineOk: false);
        if (Current == ',')
        {
            _pos++;
            SkipSpace(newlineOk: false);
            max = char.IsAsciiDigit(Current) ? ParseCount(open) : -1;
            SkipSpace(newlineOk: false);
        }
        if (Current != '}')
            throw Error("expected '}' to close the repetition", _pos);
        _pos++;
        if (max >= 0 && max < min)
            throw Error($"repetition {{{min},{max}}} has its maximum below its minimum", open);
        return (min, max);
    }

    private int ParseCount(int open)
    {
        var start = _pos;
        while (char.IsAsciiDigit(Current))
            _pos++;
        if (_pos == start)
            throw Error("expected a number in the repetition", _pos);
        if (!int.TryParse(_text.AsSpan(start, _pos - start), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > MaxRepetition)
            throw Error($"repetition count too large (at most {MaxRepetition})", open);
        return n;
    }

    /// <summary>
    /// Replaces the last item (<paramref name="sequence"/>[<paramref name="lastStart"/>..]) by <paramref name="min"/>
    /// copies followed by a right-recursive rule (unbounded) or nested optional rules (bounded), as llama.cpp does.
    /// </summary>
    private void Repeat(List<GrammarElement> sequence, int lastStart, int min, int max, string ruleName, int at)
    {
        var unit = sequence[lastStart..];
        _expanded += unit.Count * (long)Math.Max(max < 0 ? min + 1 : max, 1);
        if (_expanded > MaxExpandedElements)
            throw Error($"the repetitions expand into more than {MaxExpandedElements} grammar elements", at);
        sequence.RemoveRange(lastStart, sequence.Count - lastStart);
        for (var i = 0; i < min; i++)
            sequence.AddRange(unit);
        if (max < 0)
        {
            var loop = NewRule(ruleName, at);
            _rules[loop] = [[.. unit, new GrammarElement(GrammarElementKind.RuleRef, loop)], []];
            sequence.Add(new GrammarElement(GrammarElementKind.RuleRef, loop));
            return;
        }
        var inner = -1;
        for (var i = min; i < max; i++)
        {
            var optional = NewRule(ruleName, at);
            List<GrammarElement> some = inner < 0 ? [.. unit] : [.. unit, new GrammarElement(GrammarElementKind.RuleRef, inner)];
            _rules[optional] = [some, []];
            inner = optional;
        }
        if (inner >= 0)
            sequence.Add(new GrammarElement(GrammarElementKind.RuleRef, inner));
    }

    private int ParseChar()
    {
        if (AtEnd)
            throw Error("unexpected end of the grammar", _pos);
        var start = _pos;
        if (_text[_pos] != '\\')
        {
            if (Rune.DecodeFromUtf16(_text.AsSpan(_pos), out var rune, out var length) != OperationStatus.Done)
                throw Error("invalid UTF-16 text (lone surrogate)", _pos);
            _pos += length;
            return rune.Value;
        }
        _pos++;
        var escape = Current;
        _pos++;
        switch (escape)
        {
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case '\\' or '"' or '[' or ']' or '-' or '^': return escape;
            case 'x': return ParseHex(2, start);
            case 'u': return ParseHex(4, start);
            case 'U': return ParseHex(8, start);
            default:
                throw Error(AtEnd && escape == '\0' ? "unexpected end of the grammar after '\\'" : $"unknown escape '\\{escape}'", start);
        }
    }

    private int ParseHex(int digits, int start)
    {
        var value = 0;
        for (var i = 0; i < digits; i++)
        {
            var c = Current;
            if (!char.IsAsciiHexDigit(c))
                throw Error($"expected {digits} hex digits after '\\{_text[start + 1]}'", start);
            value = value * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            _pos++;
        }
        if (value > 0x10FFFF)
            throw Error($"code point {value:X} is beyond U+10FFFF", start);
        return value;
    }

    private string ParseName(string what)
    {
        var start = _pos;
        while (IsWordChar(Current))
            _pos++;
        if (_pos == start)
            throw Error(AtEnd ? $"expected {what}, found the end of the grammar" : $"expected {what}, found '{Current}'", _pos);
        return _text[start.._pos];
    }

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    private void SkipSpace(bool newlineOk)
    {
        while (!AtEnd)
        {
            var c = _text[_pos];
            if (c == '#')
            {
                while (!AtEnd && _text[_pos] is not ('\r' or '\n'))
                    _pos++;
            }
            else if (c is ' ' or '\t' || (newlineOk && c is '\r' or '\n'))
            {
                _pos++;
            }
            else
            {
                return;
            }
        }
    }

    private int Id(string name, int at)
    {
        if (_ids.TryGetValue(name, out var id))
            return id;
        id = _rules.Count;
        _ids[name] = id;
        _names.Add(name);
        _rules.Add(null);
        _firstReference.Add(at);
        _definedAt.Add(at);
        return id;
    }

    // A generated rule for a group or repetition, named after the rule it belongs to (llama.cpp: name_N).
    private int NewRule(string ruleName, int at)
    {
        var n = _rules.Count;
        string name;
        do
            name = $"{ruleName}_{n++}";
        while (_ids.ContainsKey(name));
        var id = Id(name, at);
        _rules[id] = [];
        return id;
    }

    private (int Line, int Column) LineColumn(int position) => LineColumn(_text, position);

    /// <summary>1-based line and column of <paramref name="position"/> in <paramref name="text"/>.</summary>
    public static (int Line, int Column) LineColumn(string text, int position)
    {
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < position && i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return (line, position - lineStart + 1);
    }

    private GrammarSyntaxException Error(string message, int position)
    {
        var (line, column) = LineColumn(position);
        return new GrammarSyntaxException(message, line, column);
    }
}
