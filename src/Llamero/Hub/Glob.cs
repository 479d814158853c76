using System.Text;
using System.Text.RegularExpressions;

namespace Llamero.Hub;

/// <summary>
/// Shell-style patterns as huggingface_hub's <c>allow_patterns</c> reads them (Python fnmatch): <c>*</c> matches any
/// run of characters, '/' included; <c>?</c> one character; <c>[abc]</c>, <c>[a-z]</c>, <c>[!abc]</c> a set.
/// A pattern ending in '/' means everything under that folder. Case-sensitive.
/// </summary>
public sealed class Glob
{
    private readonly Regex _regex;

    /// <summary>Compiles <paramref name="pattern"/>.</summary>
    public Glob(string pattern)
    {
        Pattern = pattern;
        _regex = new Regex(ToRegex(pattern.EndsWith('/') ? pattern + "*" : pattern), RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }

    /// <summary>The pattern as given.</summary>
    public string Pattern { get; }

    /// <summary>True when the whole of <paramref name="path"/> matches.</summary>
    public bool IsMatch(string path) => _regex.IsMatch(path);

    private static string ToRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*':
                    sb.Append(".*");
                    break;
                case '?':
                    sb.Append('.');
                    break;
                case '[':
                    var close = pattern.IndexOf(']', i + 2 <= pattern.Length ? i + 2 : pattern.Length);
                    if (close < 0)
                    {
                        sb.Append(@"\[");   // fnmatch: an unclosed '[' is a literal
                        break;
                    }
                    var set = pattern[(i + 1)..close];
                    var negate = set.StartsWith('!');
                    if (negate)
                        set = set[1..];
                    sb.Append('[').Append(negate ? "^" : "").Append(set.Replace(@"\", @"\\").Replace("^", @"\^").Replace("[", @"\[")).Append(']');
                    i = close;
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        return sb.Append('$').ToString();
    }
}
