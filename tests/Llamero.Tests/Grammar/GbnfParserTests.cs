using Llamero.Sampling.Grammars;

namespace Llamero.Tests.Grammar;

/// <summary>GBNF parsing: every construct compiles and means what llama.cpp means; every malformed grammar is refused with its position.</summary>
public class GbnfParserTests
{
    private static Llamero.Sampling.Grammars.Grammar G(string text) => Llamero.Sampling.Grammars.Grammar.Parse(text);

    [Theory]
    [InlineData("root ::= \"abc\"", "abc", true)]
    [InlineData("root ::= \"abc\"", "ab", false)]
    [InlineData("root ::= \"a\" | \"b\"", "b", true)]
    [InlineData("root ::= (\"a\" | \"b\") \"c\"", "bc", true)]
    [InlineData("root ::= [a-c]+", "abccba", true)]
    [InlineData("root ::= [a-c]+", "", false)]
    [InlineData("root ::= [a-c]*", "", true)]
    [InlineData("root ::= [^a-c]", "d", true)]
    [InlineData("root ::= [^a-c]", "b", false)]
    [InlineData("root ::= \"x\"?", "", true)]
    [InlineData("root ::= \"x\"?", "xx", false)]
    [InlineData("root ::= \"ab\"{2}", "abab", true)]
    [InlineData("root ::= \"ab\"{2}", "ab", false)]
    [InlineData("root ::= [0-9]{2,3}", "1", false)]
    [InlineData("root ::= [0-9]{2,3}", "12", true)]
    [InlineData("root ::= [0-9]{2,3}", "123", true)]
    [InlineData("root ::= [0-9]{2,3}", "1234", false)]
    [InlineData("root ::= [0-9]{2,}", "123456789", true)]
    [InlineData("root ::= [0-9]{0,2}", "", true)]
    [InlineData("root ::= . .", "é!", true)]
    [InlineData("root ::= \"\\n\\t\\\\\\\"\\x41\\u00e9\\U0001F600\"", "\n\t\\\"Aé😀", true)]
    [InlineData("root ::= [\\[\\]\\-]+", "[-]", true)]
    [InlineData("root ::= \"é\" [α-ω]", "éλ", true)]
    [InlineData("root ::= [a-]", "-", true)]
    public void Matches_like_llama_cpp(string grammar, string text, bool expected) =>
        Assert.Equal(expected, G(grammar).Matches(text));

    [Fact]
    public void Comments_newlines_groups_and_rule_references()
    {
        var grammar = G("""
            # a list of words
            root ::= word ("," ws word)*   # trailing comment
            word ::= [a-z]+
            ws   ::= " "?

            """);
        Assert.True(grammar.Matches("ab, cd,ef"));
        Assert.False(grammar.Matches("ab,"));
    }

    [Fact]
    public void Alternatives_may_continue_on_lines_that_start_with_a_bar_or_inside_parentheses()
    {
        var grammar = G("root ::= \"a\"\n  | \"b\"\nother ::= (\n  \"x\"\n  | \"y\"\n)\n");
        Assert.True(grammar.Matches("a"));
        Assert.True(grammar.Matches("b"));
    }

    [Fact]
    public void Recursion_that_consumes_a_character_first_is_fine()
    {
        var grammar = G("root ::= \"(\" root \")\" | \"\"");
        Assert.True(grammar.Matches("((()))"));
        Assert.False(grammar.Matches("(()"));
    }

    [Fact]
    public void Another_root_rule_can_be_chosen()
    {
        var grammar = Llamero.Sampling.Grammars.Grammar.Parse("a ::= \"x\"\nb ::= \"y\"", "b");
        Assert.True(grammar.Matches("y"));
    }

    [Fact]
    public void Hostile_nesting_is_an_error_not_a_crash()
    {
        // On a small stack, as a server thread might have; failures are carried back to the test thread.
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var parens = Assert.Throws<GrammarSyntaxException>(() => G("root ::= " + new string('(', 200_000) + "\"a\"" + new string(')', 200_000)));
                Assert.Contains("nested too deeply", parens.Message);
                var chain = string.Concat(Enumerable.Range(0, 100_000).Select(i => $"r{i} ::= r{i + 1}\n")) + "r100000 ::= \"a\"\nroot ::= r0\n";
                Assert.Contains("too deeply", Assert.Throws<GrammarSyntaxException>(() => G(chain)).Message);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, 512 * 1024);
        thread.Start();
        thread.Join();
        Assert.Null(failure);
    }

    [Fact]
    public void An_exponentially_ambiguous_grammar_fails_cleanly()
    {
        var matcher = G("root ::= \"a\" root \"b\" | \"a\" root \"c\" | \"\"").CreateMatcher();
        Assert.Throws<GrammarAmbiguityException>(() => matcher.Accept(new string('a', 40)));
    }

    [Theory]
    [InlineData("", "no 'root' rule", 1, 1)]
    [InlineData("root ::= foo", "undefined rule 'foo'", 1, 10)]
    [InlineData("root = \"a\"", "expected '::='", 1, 6)]
    [InlineData("root ::= \"abc", "unterminated string literal", 1, 10)]
    [InlineData("root ::= [abc", "unterminated character class", 1, 10)]
    [InlineData("root ::= []", "empty character class", 1, 10)]
    [InlineData("root ::= [z-a]", "backwards", 1, 13)]
    [InlineData("root ::= \"\\q\"", "unknown escape '\\q'", 1, 11)]
    [InlineData("root ::= \"\\x4\"", "expected 2 hex digits", 1, 11)]
    [InlineData("root ::= \"\\U00110000\"", "beyond U+10FFFF", 1, 11)]
    [InlineData("root ::= (\"a\"", "missing ')'", 1, 14)]
    [InlineData("root ::= (\"a\" ]", "expected ')'", 1, 15)]
    [InlineData("root ::= * \"a\"", "'*' has nothing to repeat", 1, 10)]
    [InlineData("root ::= \"a\"{2", "expected '}'", 1, 15)]
    [InlineData("root ::= \"a\"{,2}", "expected a number", 1, 14)]
    [InlineData("root ::= \"a\"{3,2}", "maximum below its minimum", 1, 13)]
    [InlineData("root ::= \"a\"{99999}", "too large", 1, 13)]
    [InlineData("root ::= \"a\" )", "unexpected ')'", 1, 14)]
    [InlineData("root ::= \"ab\"{4000}{4000}", "expand into more than", 1, 20)]
    [InlineData("root ::= \"a\\", "unexpected end of the grammar after '\\'", 1, 12)]
    [InlineData("root ::= \"a\"\n  \"b\"", "expected a rule name, found '\"'", 2, 3)]
    [InlineData("root ::= \"a\"\nroot ::= \"b\"", "defined twice", 2, 1)]
    [InlineData("root ::= \"a\"\n::= \"b\"", "expected a rule name", 2, 1)]
    [InlineData("root ::= expr\nexpr ::= expr \"+\" \"1\" | \"1\"", "left recursion: rule 'expr'", 2, 1)]
    [InlineData("root ::= a\na ::= b \"x\"\nb ::= \"c\"? a", "left recursion", 2, 1)]
    [InlineData("root ::= (\"a\"?)*", "left recursion", 1, 16)]
    public void Malformed_grammars_are_refused_with_line_and_column(string grammar, string message, int line, int column)
    {
        var error = Assert.Throws<GrammarSyntaxException>(() => G(grammar));
        Assert.Contains(message, error.Message);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.StartsWith($"grammar error at line {line}, column {column}: ", error.Message);
    }
}
