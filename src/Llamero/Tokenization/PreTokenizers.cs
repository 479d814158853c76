using System.Runtime.CompilerServices;
namespace Llamero.Tokenization;

/// <summary>
/// Pre-tokenizers of byte-level BPE: split text into words before merging, as the model's regex does.
/// Hand-written over code points (as llama.cpp's own splitters are), so no regex engine's Unicode version or
/// UTF-16 surrogate handling can change the result.
/// </summary>
internal static class PreTokenizers
{
    private static readonly string[] Llama3Names = ["llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"];

    /// <summary>The <c>tokenizer.ggml.pre</c> names this engine can pre-tokenize.</summary>
    public static IReadOnlyList<string> Supported => Llama3Names;

    /// <summary>Whether <paramref name="name"/> is one of the names llama.cpp maps to the Llama-3 regex.</summary>
    public static bool IsLlama3(string? name) => name is not null && Llama3Names.Contains(name, StringComparer.Ordinal);

    /// <summary>
    /// The Llama-3 pre-tokenizer regex
    /// <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>.
    /// Returns the end index (exclusive, in code points) of each word, in order.
    /// </summary>
    // Called once per prompt, so tiered JIT would run it unoptimized: compile it fully at once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static List<int> SplitLlama3(ReadOnlySpan<int> cp)
    {
        var ends = new List<int>(cp.Length / 3 + 1);
        var n = cp.Length;
        var pos = 0;
        while (pos < n)
        {
            var c = cp[pos];

            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if (c == '\'' && pos + 1 < n)
            {
                var c1 = LowerAscii(cp[pos + 1]);
                if (c1 is 's' or 't' or 'm' or 'd')
                {
                    pos += 2;
                    ends.Add(pos);
                    continue;
                }
                if (pos + 2 < n)
                {
                    var c2 = LowerAscii(cp[pos + 2]);
                    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
                    {
                        pos += 3;
                        ends.Add(pos);
                        continue;
                    }
                }
            }

            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (c != '\r' && c != '\n' && !UnicodeClass.IsNumber(c))
            {
                if (UnicodeClass.IsLetter(c) || (pos + 1 < n && UnicodeClass.IsLetter(cp[pos + 1])))
                {
                    pos++;
                    while (pos < n && UnicodeClass.IsLetter(cp[pos]))
                        pos++;
                    ends.Add(pos);
                    continue;
                }
            }

            // \p{N}{1,3}
            if (UnicodeClass.IsNumber(c))
            {
                var start = pos;
                while (pos < n && UnicodeClass.IsNumber(cp[pos]) && pos - start < 3)
                    pos++;
                ends.Add(pos);
                continue;
            }

            // " ?[^\s\p{L}\p{N}]+[\r\n]*"
            var first = c == ' ' ? pos + 1 : pos;
            if (first < n && IsOther(cp[first]))
            {
                pos = first;
                while (pos < n && IsOther(cp[pos]))
                    pos++;
                while (pos < n && cp[pos] is '\r' or '\n')
                    pos++;
                ends.Add(pos);
                continue;
            }

            var spaces = 0;
            var lastLineBreakEnd = 0;
            while (pos + spaces < n && UnicodeClass.IsWhitespace(cp[pos + spaces]))
            {
                if (cp[pos + spaces] is '\r' or '\n')
                    lastLineBreakEnd = pos + spaces + 1;
                spaces++;
            }

            // \s*[\r\n]+
            if (lastLineBreakEnd > 0)
            {
                pos = lastLineBreakEnd;
                ends.Add(pos);
                continue;
            }

            // \s+(?!\S): leave the last space to prefix the next word
            if (spaces > 1 && pos + spaces < n)
            {
                pos += spaces - 1;
                ends.Add(pos);
                continue;
            }

            // \s+
            if (spaces > 0)
            {
                pos += spaces;
                ends.Add(pos);
                continue;
            }

            // nothing matched: one code point on its own
            pos++;
            ends.Add(pos);
        }
        return ends;
    }

    private static bool IsOther(int c) =>
        !UnicodeClass.IsWhitespace(c) && !UnicodeClass.IsLetter(c) && !UnicodeClass.IsNumber(c);

    private static int LowerAscii(int c) => c is >= 'A' and <= 'Z' ? c + 32 : c;
}
