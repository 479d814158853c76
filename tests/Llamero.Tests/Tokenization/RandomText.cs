using System.Text;

namespace Llamero.Tests.Tokenization;

/// <summary>Random valid Unicode text mixing ASCII, accents, combining marks, CJK, emoji and control characters.</summary>
internal static class RandomText
{
    private static readonly (int From, int To)[] Ranges =
    [
        (0x20, 0x7E), (0x20, 0x7E), (0x20, 0x7E), // ASCII, the most common
        (0x00, 0x1F),       // control characters: tab, newline, NUL, ...
        (0xA0, 0x17F),      // Latin-1 and Latin Extended-A
        (0x300, 0x36F),     // combining diacritical marks
        (0x391, 0x3C9),     // Greek
        (0x410, 0x44F),     // Cyrillic
        (0x4E00, 0x9FFF),   // CJK ideographs
        (0xAC00, 0xD7A3),   // Hangul syllables
        (0x2000, 0x206F),   // general punctuation, odd spaces
        (0x1F300, 0x1F64F), // emoji
        (0x1D400, 0x1D7FF), // mathematical letters (astral letters)
        (0xE000, 0xE0FF),   // private use
    ];

    public static string Next(Random random, int length)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var (from, to) = Ranges[random.Next(Ranges.Length)];
            var cp = random.Next(from, to + 1);
            sb.Append(char.ConvertFromUtf32(cp));
        }
        return sb.ToString();
    }
}
