using System.Text.Json;
using System.Text.RegularExpressions;
using Llamero.Sampling.Grammars;

namespace Llamero.Tests.Grammar;

/// <summary>
/// <c>pattern</c> on strings: the ECMAScript subset llama.cpp converts, matched against the string's text as JSON
/// writes it (quotes and control characters escaped); everything else is a JsonSchemaException naming the construct.
/// </summary>
public class JsonSchemaPatternTests
{
    private static Llamero.Sampling.Grammars.Grammar Pattern(string pattern) =>
        Llamero.Sampling.Grammars.Grammar.FromJsonSchema(JsonSerializer.Serialize(new { type = "string", pattern }));

    // The JSON document for a string value, written as JSON.stringify writes it (System.Text.Json escapes more).
    private static string Json(string value)
    {
        var json = new System.Text.StringBuilder("\"");
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => json.Append("\\\""),
                '\\' => json.Append("\\\\"),
                '\b' => json.Append("\\b"),
                '\f' => json.Append("\\f"),
                '\n' => json.Append("\\n"),
                '\r' => json.Append("\\r"),
                '\t' => json.Append("\\t"),
                < ' ' => json.Append($"\\u{(int)c:x4}"),
                _ => json.Append(c),
            };
        }
        return json.Append('"').ToString();
    }

    [Theory]
    [InlineData(@"^\d{3}-\d{4}$", "555-1234", "55-1234|5555-1234|555-12a4")]
    [InlineData(@"^[A-Z][a-z]+$", "Hello|Ab", "hello|H|HeLlo")]
    [InlineData(@"^(ab|cd)*$", "|ab|abcd|cdcdab", "abc|a|ba")]
    [InlineData(@"^(ab|cd)$", "ab|cd", "abcd|a|")] // a group around the choice keeps both anchors on every option
    [InlineData(@"^a.c$", "abc|a\"c|a\\c|a\tc|aéc", "a\nc|ac|abbc")]
    [InlineData(@"^[^a]$", "\"|\\|b|\u0001", "a|bb|")]
    [InlineData(@"^\w+@\w+\.com$", "me@x.com|a_1@b2.com", "me@x.org|@x.com|me@xcom")]
    [InlineData(@"^(a*)*$", "|a|aaa", "b|ab")]
    [InlineData(@"^(a?b?)+c$", "c|abc|bbac", "ca|abd")]
    [InlineData(@"^x{2,3}$", "xx|xxx", "x|xxxx")]
    [InlineData(@"^x{2,}y{0}$", "xx|xxxxxx", "x|xxy")]
    [InlineData(@"^x{2}?$", "xx", "x|xxx")]
    [InlineData(@"^a{,2}$", "a{,2}", "a|aa")] // not a quantifier: a literal '{' (Annex B)
    [InlineData(@"^\u00e9\x41\u{1F600}$", "éA😀", "eA😀")]
    [InlineData(@"^\uD83D\uDE00+$", "😀|😀😀", "")]
    [InlineData(@"^[\s]+$", " |\t\n| \u00a0", "x|")]
    [InlineData(@"^[\d\-]+$", "12-3|-", "1a")]
    [InlineData(@"^(?:ab)?c$", "abc|c", "ab|abab c")]
    [InlineData(@"^(?<year>\d{4})$", "2024", "24")]
    [InlineData(@"^\$\^\.\(\)\[\]\{\}\?\\\/$", "$^.()[]{}?\\/", "x")]
    [InlineData(@"^[a-c-]$", "a|b|-", "d")]
    [InlineData(@"^[\D\W]$", "-|x", "9")] // a digit is neither
    [InlineData(@"^\S\cJ[\b]$", "x\n\b", " \n\b")]
    [InlineData(@"^😀*?$", "|😀😀", "x")]
    [InlineData(@"^$", "", "a")]
    public void Accepts_exactly_the_strings_the_pattern_matches(string pattern, string inside, string outside)
    {
        var grammar = Pattern(pattern);
        foreach (var text in inside.Split('|'))
            Assert.True(grammar.Matches(Json(text)), $"{Json(text)} should match {pattern}");
        foreach (var text in outside.Split('|').Where(t => t.Length > 0 || !inside.Split('|').Contains("")))
            Assert.False(grammar.Matches(Json(text)), $"{Json(text)} should not match {pattern}");
    }

    [Fact]
    public void Characters_are_written_the_way_json_escapes_them()
    {
        var grammar = Pattern("^.$");
        Assert.True(grammar.Matches("\"\\\"\""));   // a quote, escaped
        Assert.False(grammar.Matches("\"\"\""));    // a bare quote would end the string
        Assert.True(grammar.Matches("\"\\u0001\""));
        Assert.False(grammar.Matches("\"\u0001\"")); // a raw control character is not JSON
        Assert.True(Pattern(@"^\\$").Matches("\"\\\\\""));
    }

    [Theory]
    [InlineData("abc", "must start with '^' and end with '$'")]
    [InlineData("^abc", "must start with '^' and end with '$'")]
    [InlineData(@"^abc\$", "must start with '^' and end with '$'")]
    [InlineData("^a(?=b)$", "lookahead '(?=' at offset 2 is not supported")]
    [InlineData("^a(?!b)$", "negative lookahead")]
    [InlineData("^(?<=a)b$", "lookbehind")]
    [InlineData(@"^(a)\1$", @"backreference or octal escape '\1'")]
    [InlineData(@"^\bfoo$", @"word boundary '\b' at offset 1")]
    [InlineData(@"^\p{L}$", "Unicode property escape")]
    [InlineData(@"^\k<a>$", "named backreference")]
    [InlineData(@"^\q$", @"unknown escape '\q'")]
    [InlineData("^a|b$", "'|' at the top level")]
    [InlineData("^a$b$", "anchor '$' at offset 2")]
    [InlineData("^(a$)$", "anchor '$' at offset 3")]
    [InlineData("^a^b$", "anchor '^' at offset 2")]
    [InlineData("^*$", "'*' at offset 1 has nothing to repeat")]
    [InlineData("^{2}$", "has nothing to repeat")]
    [InlineData("^a**$", "follows another quantifier")]
    [InlineData("^(ab", "missing ')' for the '(' at offset 1")]
    [InlineData("^ab)$", "unmatched ')' at offset 3")]
    [InlineData("^[ab$", "missing ']' for the '[' at offset 1")]
    [InlineData("^[z-a]$", "is backwards")]
    [InlineData(@"^[\d-z]$", "has a class escape at one end")]
    [InlineData("^a{3,2}$", "maximum below its minimum")]
    [InlineData("^a{5000}$", "repeats more than 4096 times")]
    [InlineData("^[]$", "matches no character")]
    [InlineData(@"^\x4$", "needs 2 hex digits")]
    [InlineData(@"^\uD800$", "lone surrogate")]
    [InlineData("^a\\", "lone '\\'")]
    public void Unsupported_or_malformed_patterns_name_the_construct_and_the_path(string pattern, string message)
    {
        var schema = JsonSerializer.Serialize(new { type = "object", properties = new { code = new { type = "string", pattern } } });
        var error = Assert.Throws<JsonSchemaException>(() => Llamero.Sampling.Grammars.Grammar.FromJsonSchema(schema));
        Assert.Contains(message, error.Message);
        Assert.Contains($"pattern '{pattern}'", error.Message);
        Assert.Equal("#/properties/code", error.Path);
    }

    [Fact]
    public void Pattern_wins_over_format_and_a_pattern_without_type_is_a_string()
    {
        var grammar = Llamero.Sampling.Grammars.Grammar.FromJsonSchema("""{"pattern":"^[0-9]+$","format":"date"}""");
        Assert.True(grammar.Matches("\"123\""));
        Assert.False(grammar.Matches("\"2024-01-01\""));
        Assert.False(grammar.Matches("123"));
    }

    // Random patterns over regex syntax: each is a grammar or a JsonSchemaException, never another exception or a
    // hang; and where .NET's ECMAScript engine reads the same pattern, both agree on random short strings.
    [Fact]
    public void Random_patterns_convert_or_fail_cleanly_and_agree_with_an_ecmascript_engine()
    {
        var Rounds = int.TryParse(Environment.GetEnvironmentVariable("LLAMERO_REGEX_FUZZ_ROUNDS"), out var r) ? r : 3000;
        const string alphabet = @"ab.|()[]^$*+?{},-\dwsDWSux0129:<=!#é";
        var random = new Random(7);
        var (converted, compared) = (0, 0);
        for (var round = 0; round < Rounds; round++)
        {
            var body = new string([.. Enumerable.Range(0, random.Next(0, 12)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            var pattern = random.Next(4) == 0 ? body : $"^{body}$";
            Llamero.Sampling.Grammars.Grammar grammar;
            try
            {
                grammar = Pattern(pattern);
            }
            catch (JsonSchemaException)
            {
                continue;
            }
            converted++;
            Regex regex;
            try
            {
                regex = new Regex(pattern, RegexOptions.ECMAScript, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException)
            {
                continue; // .NET's ECMAScript mode refuses some syntax ECMAScript itself allows
            }
            for (var i = 0; i < 8; i++)
            {
                var text = new string([.. Enumerable.Range(0, random.Next(0, 6)).Select(_ => "ab-019 ,{}"[random.Next(10)])]);
                Assert.True(regex.IsMatch(text) == grammar.Matches(Json(text)), $"pattern {pattern} on '{text}'");
                compared++;
            }
        }
        Assert.True(converted > 100 && compared > 500, $"{converted} patterns converted, {compared} strings compared");
    }

    // Random well-formed patterns (groups, choices, empty options, nested and lazy quantifiers) agree with .NET's
    // automaton engine on random ASCII strings (where its classes equal ECMAScript's): the check on the
    // nullable-repeat rewriting and the class escaping. (The backtracking engine is no oracle here: it matches
    // ^([^a]*(\d(a?)*?[^a]{1,}){2})$ on 'b"1-b', which has one digit for two repetitions that each need one.)
    [Fact]
    public void Random_well_formed_patterns_agree_with_an_ecmascript_engine()
    {
        var random = new Random(11);
        string[] atoms = ["a", "b", "1", "[ab]", "[^a]", ".", @"\d", @"\D", "[a-b1]", @"\s", "-", @"\-", "\"", @"\\"];
        string[] quantifiers = ["", "", "", "*", "+", "?", "{2}", "{0,2}", "{1,}", "*?", "{0}"];
        string Build(int depth)
        {
            var parts = Enumerable.Range(0, random.Next(0, 4)).Select(_ =>
                (depth > 0 && random.Next(3) == 0 ? $"({Build(depth - 1)})" : atoms[random.Next(atoms.Length)])
                + quantifiers[random.Next(quantifiers.Length)]);
            var sequence = string.Concat(parts);
            return random.Next(4) == 0 ? sequence + "|" + Build(depth - 1) : sequence;
        }
        for (var round = 0; round < 400; round++)
        {
            var pattern = $"^({Build(3)})$";
            var grammar = Pattern(pattern);
            var regex = new Regex(pattern, RegexOptions.NonBacktracking);
            for (var i = 0; i < 12; i++)
            {
                var text = new string([.. Enumerable.Range(0, random.Next(0, 7)).Select(_ => "ab1- \"\\\t"[random.Next(8)])]);
                Assert.True(regex.IsMatch(text) == grammar.Matches(Json(text)), $"pattern {pattern} on '{text}'");
            }
        }
    }
}
