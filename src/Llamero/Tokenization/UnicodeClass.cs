using System.Globalization;

namespace Llamero.Tokenization;

/// <summary>The Unicode character classes the pre-tokenizer regexes use (<c>\p{L}</c>, <c>\p{N}</c>, <c>\s</c>).</summary>
internal static class UnicodeClass
{
    /// <summary><c>\p{L}</c>: any letter category (Lu, Ll, Lt, Lm, Lo).</summary>
    public static bool IsLetter(int codePoint) => CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => true,
        _ => false,
    };

    /// <summary><c>\p{N}</c>: any number category (Nd, Nl, No).</summary>
    public static bool IsNumber(int codePoint) => CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
    {
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
        _ => false,
    };

    /// <summary><c>\s</c>: the Unicode White_Space set, the same list llama.cpp's unicode tables use.</summary>
    public static bool IsWhitespace(int codePoint) => codePoint switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>
    /// Splits <paramref name="text"/> into code points; a lone surrogate becomes U+FFFD, which is what its UTF-8
    /// encoding (the bytes llama.cpp would see) decodes to. <paramref name="charStarts"/> receives the UTF-16 index
    /// of each code point, plus one final entry equal to the text length.
    /// </summary>
    public static int[] ToCodePoints(ReadOnlySpan<char> text, out int[] charStarts)
    {
        var points = new int[text.Length];
        var starts = new int[text.Length + 1];
        var n = 0;
        for (var i = 0; i < text.Length;)
        {
            starts[n] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                points[n++] = char.ConvertToUtf32(text[i], text[i + 1]);
                i += 2;
            }
            else
            {
                points[n++] = char.IsSurrogate(text[i]) ? 0xFFFD : text[i];
                i++;
            }
        }
        starts[n] = text.Length;
        Array.Resize(ref points, n);
        Array.Resize(ref starts, n + 1);
        charStarts = starts;
        return points;
    }
}
