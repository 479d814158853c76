using System.Globalization;
using System.Text;

namespace Llamero.Sampling.Grammars;

/// <summary>
/// Reads the ECMAScript regular expression subset that llama.cpp's json-schema-to-grammar converts: literals and
/// escapes, classes <c>[...]</c> (with <c>\d \w \s</c> and their negations), <c>.</c>, groups <c>( )</c> and
/// <c>(?: )</c>, alternation <c>|</c>, quantifiers <c>* + ? {m} {m,} {m,n}</c> (a lazy <c>?</c> after them changes
/// nothing here), and the anchors <c>^</c> and <c>$</c>, which must open and close the pattern. Anything else
/// (lookaround, backreferences, word boundaries, Unicode properties, anchors elsewhere) is refused with a
/// <see cref="JsonSchemaException"/> naming the construct and its offset.
/// </summary>
internal sealed class RegexParser
{
    /// <summary>Most repetitions one quantifier may ask for (the GBNF parser's own bound).</summary>
    public const int MaxRepetition = 4096;

    private const int MaxDepth = 100;

    private const string AnchorsRequired =
        "a pattern must start with '^' and end with '$' (llama.cpp's rule; without them it would match anywhere inside the string)";

    private static readonly CodePointSet s_digits = CodePointSet.Range('0', '9');
    private static readonly CodePointSet s_word = CodePointSet.FromRanges([('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')]);
    private static readonly CodePointSet s_space = CodePointSet.FromRanges(
    [
        ('\t', '\r'), (' ', ' '), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F),
        (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF),
    ]);
    private static readonly CodePointSet s_dot = CodePointSet.FromRanges([('\n', '\n'), ('\r', '\r'), (0x2028, 0x2029)]).Complement();

    private readonly string _pattern;
    private readonly string _path;
    private int _pos;

    private bool _endAnchored;

    // Whether '|' splits the pattern itself (not inside a group): then ^ and $ anchor only the outer options.
    private bool _topLevelChoice;

    private RegexParser(string pattern, string path)
    {
        _pattern = pattern;
        _path = path;
    }

    /// <summary>Parses a whole pattern, which must start with <c>^</c> and end with <c>$</c>.</summary>
    public static RegexNode Parse(string pattern, string path)
    {
        var parser = new RegexParser(pattern, path);
        if (!pattern.StartsWith('^'))
            throw parser.Error(AnchorsRequired);
        parser._pos = 1;
        var node = parser.ParseChoice(0);
        if (parser._topLevelChoice && parser._endAnchored)
            throw parser.Error("'|' at the top level makes '^' bind to the first option and '$' to the last only; write '^(a|b)$'");
        if (parser._pos < pattern.Length && pattern[parser._pos] == ')')
            throw parser.Error($"unmatched ')' at offset {parser._pos}");
        if (parser._pos != pattern.Length || !parser._endAnchored)
            throw parser.Error(AnchorsRequired);
        return node;
    }

    private bool AtEnd => _pos >= _pattern.Length;

    private char Current => AtEnd ? '\0' : _pattern[_pos];

    private JsonSchemaException Error(string message) => new($"pattern '{_pattern}': {message}", _path);

    private RegexNode ParseChoice(int depth)
    {
        var options = new List<RegexNode> { ParseSequence(depth) };
        while (Current == '|' && !AtEnd)
        {
            _pos++;
            options.Add(ParseSequence(depth));
        }
        _topLevelChoice |= depth == 0 && options.Count > 1;
        return options.Count == 1 ? options[0] : new RegexChoice(options);
    }

    private RegexNode ParseSequence(int depth)
    {
        var parts = new List<RegexNode>();
        while (!AtEnd && Current is not ('|' or ')'))
        {
            if (Current == '$')
            {
                if (depth > 0 || _pos != _pattern.Length - 1)
                    throw Error($"anchor '$' at offset {_pos}: only a '$' that ends the pattern is supported");
                _pos++;
                _endAnchored = true;
                break;
            }
            var atom = ParseAtom(depth);
            parts.Add(ParseQuantifiers(atom));
        }
        return parts.Count == 1 ? parts[0] : new RegexSequence(parts);
    }

    private RegexNode ParseAtom(int depth)
    {
        var start = _pos;
        var c = Current;
        switch (c)
        {
            case '^':
                throw Error($"anchor '^' at offset {start}: only a '^' that opens the pattern is supported");
            case '(':
                return ParseGroup(depth);
            case '[':
                return new RegexChars(ParseClass());
            case '.':
                _pos++;
                return new RegexChars(s_dot);
            case '\\':
                return new RegexChars(ParseEscape(inClass: false).Set);
            case '*' or '+' or '?':
                throw Error($"'{c}' at offset {start} has nothing to repeat");
            case '{' when TryParseBraces(out _, out _, peek: true):
                throw Error($"'{{' at offset {start} has nothing to repeat");
            default:
                return new RegexChars(CodePointSet.Of(ReadLiteral()));
        }
    }

    private RegexNode ParseGroup(int depth)
    {
        var start = _pos;
        if (depth >= MaxDepth)
            throw Error($"groups nested more than {MaxDepth} deep at offset {start}");
        _pos++;
        if (Current == '?')
        {
            var next = _pos + 1 < _pattern.Length ? _pattern[_pos + 1] : '\0';
            var isNamed = next == '<' && _pos + 2 < _pattern.Length && _pattern[_pos + 2] is not ('=' or '!');
            if (next == ':')
            {
                _pos += 2;
            }
            else if (isNamed)
            {
                var close = _pattern.IndexOf('>', _pos);
                if (close < 0)
                    throw Error($"unterminated group name at offset {start}");
                _pos = close + 1;
            }
            else
            {
                var what = next switch
                {
                    '=' => "lookahead '(?='",
                    '!' => "negative lookahead '(?!'",
                    '<' => "lookbehind '(?<'",
                    _ => $"group syntax '(?{next}'",
                };
                throw Error($"{what} at offset {start} is not supported");
            }
        }
        var body = ParseChoice(depth + 1);
        if (Current != ')' || AtEnd)
            throw Error($"missing ')' for the '(' at offset {start}");
        _pos++;
        return body;
    }

    private RegexNode ParseQuantifiers(RegexNode atom)
    {
        int min;
        int? max;
        var start = _pos;
        switch (Current)
        {
            case '*':
                (min, max) = (0, null);
                _pos++;
                break;
            case '+':
                (min, max) = (1, null);
                _pos++;
                break;
            case '?':
                (min, max) = (0, 1);
                _pos++;
                break;
            case '{' when TryParseBraces(out min, out max):
                break;
            default:
                return atom;
        }
        if (Current == '?' && !AtEnd)
            _pos++; // lazy: the same strings
        if (!AtEnd && (Current is '*' or '+' or '?' || (Current == '{' && TryParseBraces(out _, out _, peek: true))))
            throw Error($"quantifier at offset {_pos} follows another quantifier (nothing to repeat)");
        if (max < min)
            throw Error($"quantifier '{_pattern[start.._pos]}' at offset {start} has its maximum below its minimum");
        if (min > MaxRepetition || max > MaxRepetition)
            throw Error($"quantifier '{_pattern[start.._pos]}' at offset {start} repeats more than {MaxRepetition} times");
        return new RegexRepeat(atom, min, max);
    }

    // {m}, {m,} or {m,n} at the current position; anything else is a literal '{' (ECMAScript Annex B).
    private bool TryParseBraces(out int min, out int? max, bool peek = false)
    {
        min = 0;
        max = null;
        var pos = _pos + 1;
        if (!ReadNumber(ref pos, out var low))
            return false;
        long? high = low;
        if (pos < _pattern.Length && _pattern[pos] == ',')
        {
            pos++;
            high = ReadNumber(ref pos, out var h) ? h : null;
        }
        if (pos >= _pattern.Length || _pattern[pos] != '}')
            return false;
        min = (int)Math.Min(low, int.MaxValue);
        max = high is { } hv ? (int)Math.Min(hv, int.MaxValue) : null;
        if (!peek)
            _pos = pos + 1;
        return true;
    }

    private bool ReadNumber(ref int pos, out long value)
    {
        var start = pos;
        value = 0;
        while (pos < _pattern.Length && char.IsAsciiDigit(_pattern[pos]))
        {
            value = Math.Min(value * 10 + (_pattern[pos] - '0'), int.MaxValue);
            pos++;
        }
        return pos > start;
    }

    private CodePointSet ParseClass()
    {
        var start = _pos;
        _pos++;
        var negated = Current == '^' && !AtEnd;
        if (negated)
            _pos++;
        var set = CodePointSet.FromRanges([]);
        while (Current != ']' || AtEnd)
        {
            if (AtEnd)
                throw Error($"missing ']' for the '[' at offset {start}");
            var itemStart = _pos;
            var (low, lowIsSet) = ClassAtom();
            if (Current == '-' && _pos + 1 < _pattern.Length && _pattern[_pos + 1] != ']')
            {
                _pos++;
                var (high, highIsSet) = ClassAtom();
                if (lowIsSet || highIsSet)
                    throw Error($"range '{_pattern[itemStart.._pos]}' at offset {itemStart} has a class escape at one end");
                if (high.Single < low.Single)
                    throw Error($"range '{_pattern[itemStart.._pos]}' at offset {itemStart} is backwards");
                set = set.Union(CodePointSet.Range(low.Single!.Value, high.Single!.Value));
                continue;
            }
            set = set.Union(low);
        }
        _pos++;
        if (negated)
            set = set.Complement();
        if (set.Except(CodePointSet.Range(0xD800, 0xDFFF)).IsEmpty)
            throw Error($"the class '{_pattern[start.._pos]}' at offset {start} matches no character");
        return set;
    }

    private (CodePointSet Set, bool IsClassEscape) ClassAtom() =>
        Current == '\\' ? ParseEscape(inClass: true) : (CodePointSet.Of(ReadLiteral()), false);

    // A backslash escape; the set of one code point, or a class escape such as \d.
    private (CodePointSet Set, bool IsClassEscape) ParseEscape(bool inClass)
    {
        var start = _pos;
        _pos++;
        if (AtEnd)
            throw Error("the pattern ends with a lone '\\'");
        var c = _pattern[_pos];
        _pos++;
        switch (c)
        {
            case 'd': return (s_digits, true);
            case 'D': return (s_digits.Complement(), true);
            case 'w': return (s_word, true);
            case 'W': return (s_word.Complement(), true);
            case 's': return (s_space, true);
            case 'S': return (s_space.Complement(), true);
            case 'n': return (CodePointSet.Of('\n'), false);
            case 'r': return (CodePointSet.Of('\r'), false);
            case 't': return (CodePointSet.Of('\t'), false);
            case 'f': return (CodePointSet.Of('\f'), false);
            case 'v': return (CodePointSet.Of('\v'), false);
            case 'b' when inClass: return (CodePointSet.Of('\b'), false);
            case '0' when !char.IsAsciiDigit(Current) || AtEnd: return (CodePointSet.Of(0), false);
            case 'x': return (CodePointSet.Of(ReadHex(2, start)), false);
            case 'u': return (CodePointSet.Of(ReadUnicodeEscape(start)), false);
            case 'c' when char.IsAsciiLetter(Current) && !AtEnd:
                _pos++;
                return (CodePointSet.Of(_pattern[_pos - 1] % 32), false);
        }
        var what = c switch
        {
            'b' or 'B' => $"word boundary '\\{c}'",
            >= '0' and <= '9' => $"backreference or octal escape '\\{c}'",
            'k' => "named backreference '\\k'",
            'p' or 'P' => $"Unicode property escape '\\{c}'",
            _ when char.IsAsciiLetter(c) => $"unknown escape '\\{c}'",
            _ => null,
        };
        if (what is not null)
            throw Error($"{what} at offset {start} is not supported");
        _pos--;
        return (CodePointSet.Of(ReadLiteral()), false); // an escaped symbol stands for itself: \. \/ \- \\ ...
    }

    private int ReadHex(int digits, int start)
    {
        if (_pos + digits > _pattern.Length
            || !int.TryParse(_pattern.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
            throw Error($"escape at offset {start} needs {digits} hex digits");
        _pos += digits;
        return value;
    }

    // \uHHHH (a surrogate pair written as two of them makes one code point) or \u{H...}.
    private int ReadUnicodeEscape(int start)
    {
        if (Current == '{' && !AtEnd)
        {
            var close = _pattern.IndexOf('}', _pos);
            if (close < 0 || close == _pos + 1 || close - _pos - 1 > 6
                || !int.TryParse(_pattern.AsSpan(_pos + 1, close - _pos - 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var cp)
                || cp > CodePointSet.MaxCodePoint)
                throw Error($"escape '\\u{{...}}' at offset {start} needs 1 to 6 hex digits up to 10FFFF");
            _pos = close + 1;
            return CheckedScalar(cp, start);
        }
        var unit = ReadHex(4, start);
        if (char.IsHighSurrogate((char)unit) && _pos + 6 <= _pattern.Length && _pattern[_pos] == '\\' && _pattern[_pos + 1] == 'u'
            && int.TryParse(_pattern.AsSpan(_pos + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low)
            && char.IsLowSurrogate((char)low))
        {
            _pos += 6;
            return char.ConvertToUtf32((char)unit, (char)low);
        }
        return CheckedScalar(unit, start);
    }

    private int CheckedScalar(int codePoint, int start) => Rune.IsValid(codePoint) ? codePoint
        : throw Error($"escape at offset {start} is a lone surrogate, not a character");

    private int ReadLiteral()
    {
        if (Rune.DecodeFromUtf16(_pattern.AsSpan(_pos), out var rune, out var length) != System.Buffers.OperationStatus.Done)
            throw Error($"invalid UTF-16 (lone surrogate) at offset {_pos}");
        _pos += length;
        return rune.Value;
    }
}
