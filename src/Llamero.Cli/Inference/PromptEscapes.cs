using System.Globalization;
using System.Text;

namespace Llamero.Cli.Inference;

/// <summary>
/// llama.cpp's <c>string_process_escapes</c>: the model card's <c>-p "SYSTEM: ...\nUSER: ..."</c> reaches the
/// program with a backslash and an n, which llama.cpp (and Llamero) turn into a newline.
/// </summary>
internal static class PromptEscapes
{
    public static string Process(string text)
    {
        if (!text.Contains('\\'))
            return text;
        var output = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 == text.Length)
            {
                output.Append(text[i]);
                continue;
            }
            var c = text[++i];
            switch (c)
            {
                case 'n': output.Append('\n'); break;
                case 'r': output.Append('\r'); break;
                case 't': output.Append('\t'); break;
                case '\'': output.Append('\''); break;
                case '"': output.Append('"'); break;
                case '\\': output.Append('\\'); break;
                case 'x' when i + 2 < text.Length
                              && byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b):
                    output.Append((char)b);
                    i += 2;
                    break;
                default: output.Append('\\').Append(c); break;
            }
        }
        return output.ToString();
    }
}
