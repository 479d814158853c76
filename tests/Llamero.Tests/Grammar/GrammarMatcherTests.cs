using System.Text;
using Llamero.Sampling.Grammars;

namespace Llamero.Tests.Grammar;

/// <summary>The matcher over the built-in JSON grammar: real JSON is accepted, anything else refused at the first bad character.</summary>
public class GrammarMatcherTests
{
    private static Llamero.Sampling.Grammars.Grammar Json => Llamero.Sampling.Grammars.Grammar.JsonObject;

    [Theory]
    [InlineData("{}")]
    [InlineData("{ }")]
    [InlineData("{\"a\":1}")]
    [InlineData("{\"a\": -0.5e+10, \"b\": [1, 2.25, true, false, null], \"c\": {\"d\": {}}}")]
    [InlineData("{\"nested\": [[[]], [{\"x\": [\"y\"]}]]}")]
    [InlineData("{\"escapes\": \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9\"}")]
    [InlineData("{\"unicode\": \"héllo wörld ☃ 😀 日本語\"}")]
    [InlineData("{\n  \"indented\": 1\n}")]
    [InlineData("{\"a\":1} ")]
    public void Accepts_json_objects(string text)
    {
        Assert.True(Json.Matches(text), text);
        using var parsed = System.Text.Json.JsonDocument.Parse(text); // and they are JSON indeed
        Assert.Equal(System.Text.Json.JsonValueKind.Object, parsed.RootElement.ValueKind);
    }

    [Theory]
    [InlineData("[]")]                      // an array is JSON, but not an object
    [InlineData("\"text\"")]
    [InlineData("{")]                       // incomplete
    [InlineData("{\"a\"}")]
    [InlineData("{\"a\":}")]
    [InlineData("{\"a\":1,}")]              // trailing comma
    [InlineData("{'a':1}")]                 // single quotes
    [InlineData("{\"a\":01}")]              // leading zero
    [InlineData("{\"a\":\"\\x\"}")]         // bad escape
    [InlineData("{\"a\":\"\\u12\"}")]       // short \u
    [InlineData("{\"a\":\"line\nbreak\"}")] // raw control character in a string
    [InlineData("{\"a\":tru}")]
    [InlineData(" {}")]                     // no leading space
    [InlineData("{}{}")]
    public void Refuses_what_is_not_a_json_object(string text) => Assert.False(Json.Matches(text), text);

    [Fact]
    public void A_refused_character_leaves_the_matcher_unchanged()
    {
        var matcher = Json.CreateMatcher();
        Assert.True(matcher.Accept("{\"a\""));
        Assert.False(matcher.Accept('}'));
        Assert.False(matcher.IsComplete);
        Assert.True(matcher.Accept(":1}"));
        Assert.True(matcher.IsComplete);
    }

    [Fact]
    public void Utf8_split_across_calls_is_judged_by_what_the_character_can_become()
    {
        var grammar = Llamero.Sampling.Grammars.Grammar.Parse("root ::= [é] \"!\"");
        var bytes = Encoding.UTF8.GetBytes("é!"); // C3 A9 21
        var matcher = grammar.CreateMatcher();
        Assert.True(matcher.CanAcceptUtf8(bytes.AsSpan(0, 1)));        // C3 can still become é
        Assert.False(matcher.CanAcceptUtf8([0xE2]));                    // a three-byte character cannot
        Assert.False(matcher.CanAcceptUtf8([0xA9]));                    // a stray continuation byte is not UTF-8
        Assert.True(matcher.AcceptUtf8(bytes.AsSpan(0, 1)));
        Assert.False(matcher.IsComplete);
        Assert.False(matcher.AcceptUtf8([0xA8]));                       // C3 A8 is è
        Assert.True(matcher.AcceptUtf8(bytes.AsSpan(1)));
        Assert.True(matcher.IsComplete);
    }

    [Fact]
    public void Clones_move_independently()
    {
        var a = Json.CreateMatcher();
        Assert.True(a.Accept("{\"k\":"));
        var b = a.Clone();
        Assert.True(a.Accept("1}"));
        Assert.True(b.Accept("[true]}"));
        Assert.True(a.IsComplete && b.IsComplete);
    }

    [Fact]
    public void A_matcher_that_outgrows_its_caches_starts_fresh_ones_and_matches_the_same()
    {
        const string text = "{\"a\": [1, 2, {\"b\": \"c\\n\"}], \"d\": -1.5e3, \"e\": [[], {}, null]}";
        var small = new GrammarMatcher(Json, maxCachedStates: 8);
        var first = small.Space;
        foreach (var c in text)
            Assert.True(small.Accept(c), $"refused '{c}'");
        Assert.NotSame(first, small.Space);
        Assert.True(small.IsComplete);
        Assert.False(new GrammarMatcher(Json, maxCachedStates: 8).Accept("{\"a\": [1,]}"));
    }

    [Fact]
    public void Json_value_grammar_accepts_any_value()
    {
        var value = Llamero.Sampling.Grammars.Grammar.Parse(BuiltInGrammars.JsonValue);
        foreach (var text in new[] { "[1,2]", "\"s\"", "3.5", "null", "{}" })
            Assert.True(value.Matches(text), text);
    }
}
