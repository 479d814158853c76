using System.Text;
using System.Text.Json;
using Llamero.Generation;
using Llamero.Sampling;
using Llamero.Sampling.Grammars;
using Llamero.Tests.Support;
using Llamero.Tokenization;

namespace Llamero.Tests.Grammar;

/// <summary>
/// Grammar-constrained generation on the real default model (stories260K, whose free text is never JSON) and
/// masking on the real Llama-2 vocabulary (32000 tokens, byte-fallback pieces).
/// </summary>
public class GrammarSamplerTests
{
    private const string SmallSchema = """
        {"type":"object","properties":{
          "name":{"type":"string","maxLength":10},
          "age":{"type":"integer"},
          "happy":{"type":"boolean"},
          "color":{"enum":["red","green","blue"]},
          "friends":{"type":"array","items":{"type":"string","maxLength":6},"maxItems":2}},
         "required":["name","age","happy","color","friends"],"additionalProperties":false}
        """;

    private static readonly Lazy<Llm> s_stories = new(() => Llm.Load(TestPaths.Stories260K));

    private static async Task<(string Text, FinishReason Reason)> Generate(Llamero.Sampling.Grammars.Grammar grammar, uint seed, float temperature, int maxTokens)
    {
        var options = new GenerationOptions
        {
            MaxTokens = maxTokens,
            Sampling = new SamplingOptions { Grammar = grammar, Seed = seed, Temperature = temperature },
        };
        var text = new StringBuilder();
        var reason = FinishReason.MaxTokens;
        await foreach (var token in s_stories.Value.GenerateTokensAsync("Once upon a time", options))
        {
            text.Append(token.Text);
            reason = token.FinishReason ?? reason;
        }
        return (text.ToString(), reason);
    }

    [Fact]
    public async Task Free_text_of_the_tiny_model_is_not_json()
    {
        var (text, _) = await Generate(null!, 1, 0.8f, 40);
        Assert.False(Llamero.Sampling.Grammars.Grammar.JsonObject.Matches(text));
    }

    [Theory]
    [InlineData(1u, 0f)]
    [InlineData(2u, 0.8f)]
    [InlineData(3u, 0.8f)]
    [InlineData(4u, 1.5f)]
    public async Task Json_object_grammar_keeps_every_completion_on_json(uint seed, float temperature)
    {
        var (text, reason) = await Generate(Llamero.Sampling.Grammars.Grammar.JsonObject, seed, temperature, 120);
        var matcher = Llamero.Sampling.Grammars.Grammar.JsonObject.CreateMatcher();
        Assert.True(matcher.Accept(text), $"not a JSON prefix: {text}");
        Assert.StartsWith("{", text);
        if (reason == FinishReason.EndOfGeneration)
        {
            Assert.True(matcher.IsComplete, text);
            using var document = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        }
    }

    [Theory]
    [InlineData(1u, 0f)]
    [InlineData(5u, 0.7f)]
    [InlineData(6u, 1.0f)]
    [InlineData(7u, 1.5f)]
    public async Task Schema_grammar_produces_documents_of_the_schema(uint seed, float temperature)
    {
        // Every part of this schema is bounded, so generation must end (with EOS) well inside the token limit.
        var (text, reason) = await Generate(Llamero.Sampling.Grammars.Grammar.FromJsonSchema(SmallSchema), seed, temperature, 400);
        Assert.Equal(FinishReason.EndOfGeneration, reason);
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        Assert.Equal(["name", "age", "happy", "color", "friends"], root.EnumerateObject().Select(p => p.Name));
        Assert.True(root.GetProperty("name").GetString()!.Length <= 10);
        Assert.True(root.GetProperty("age").TryGetInt64(out _));
        Assert.True(root.GetProperty("happy").ValueKind is JsonValueKind.True or JsonValueKind.False);
        Assert.Contains(root.GetProperty("color").GetString(), (string[])["red", "green", "blue"]);
        Assert.True(root.GetProperty("friends").GetArrayLength() <= 2);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"")]
    [InlineData("{\"na")]
    [InlineData("{\"name\":")]
    [InlineData("{\"name\": 12")]
    [InlineData("{\"name\": \"caf")]
    [InlineData("{\"name\": [true, ")]
    [InlineData("{\"a\":1}")]
    public void Whole_vocabulary_mask_equals_checking_each_token_alone(string prefix)
    {
        var tokenizer = Llama2Vocab.Tokenizer;
        var sampler = new GrammarSampler(Llamero.Sampling.Grammars.Grammar.JsonObject, tokenizer);
        foreach (var id in ByteTokens(tokenizer, prefix))
            sampler.Accept(id);
        var candidates = new TokenCandidates();
        candidates.Load(new float[tokenizer.VocabSize]);
        sampler.Apply(candidates);
        var masked = candidates.Items.ToArray().Select(c => c.Id).ToHashSet();
        var expected = Enumerable.Range(0, tokenizer.VocabSize).Where(sampler.IsAllowed).ToHashSet();
        Assert.Equal(expected.Order(), masked.Order());
        Assert.Equal(prefix == "{\"a\":1}", masked.Contains(tokenizer.EosId));
        // Every allowed token really continues the text as JSON.
        foreach (var id in masked.Where(id => id != tokenizer.EosId).Take(200))
        {
            var matcher = Llamero.Sampling.Grammars.Grammar.JsonObject.CreateMatcher();
            Assert.True(matcher.Accept(prefix) && matcher.AcceptUtf8(tokenizer.Piece(id)), $"{prefix} + {tokenizer.TokenText(id)}");
        }
    }

    // The prefix spelled with byte-fallback tokens (encoding it would add SentencePiece's leading space).
    private static IEnumerable<int> ByteTokens(Tokenizer tokenizer, string text) =>
        Encoding.UTF8.GetBytes(text).Select(b => tokenizer.TryGetId($"<0x{b:X2}>", out var id) ? id : throw new InvalidOperationException());

    [Fact]
    public void Overlong_utf8_never_counts_as_the_character_it_spells()
    {
        var tokenizer = Llama2Vocab.Tokenizer;
        var sampler = new GrammarSampler(Llamero.Sampling.Grammars.Grammar.JsonObject, tokenizer);
        Assert.True(tokenizer.TryGetId("<0xC1>", out var c1));
        Assert.True(tokenizer.TryGetId("<0xF0>", out var f0));
        Assert.True(tokenizer.TryGetId("<0xE0>", out var e0));
        Assert.False(sampler.IsAllowed(c1)); // C1 BB would be an overlong '{'
        Assert.False(sampler.IsAllowed(f0)); // F0 80 81 BB too
        Assert.False(sampler.IsAllowed(e0));
        var candidates = new TokenCandidates();
        candidates.Load(new float[tokenizer.VocabSize]);
        sampler.Apply(candidates);
        Assert.All(candidates.Items.ToArray(), c => Assert.Equal((byte)'{', tokenizer.Piece(c.Id)[0]));
    }

    [Fact]
    public void Candidates_the_grammar_refuses_all_are_a_grammar_error()
    {
        var tokenizer = Llama2Vocab.Tokenizer;
        var sampler = new GrammarSampler(Llamero.Sampling.Grammars.Grammar.Parse("root ::= \"☃\""), tokenizer);
        Assert.True(tokenizer.TryGetId("<0xC3>", out var c3));
        var candidates = new TokenCandidates();
        candidates.Load(new float[tokenizer.VocabSize]);
        candidates.Items[0] = candidates.Items[c3];
        candidates.Truncate(1);
        var e = Assert.Throws<Llamero.Sampling.Grammars.GrammarGenerationException>(() => sampler.Apply(candidates));
        Assert.Contains("allows none of the candidate tokens", e.Message);
    }

    [Fact]
    public void Byte_tokens_can_spell_a_character_across_tokens()
    {
        var tokenizer = Llama2Vocab.Tokenizer;
        var sampler = new GrammarSampler(Llamero.Sampling.Grammars.Grammar.Parse("root ::= \"☃\""), tokenizer); // E2 98 83
        Assert.True(tokenizer.TryGetId("<0xE2>", out var e2));
        Assert.True(tokenizer.TryGetId("<0x98>", out var x98));
        Assert.True(tokenizer.TryGetId("<0x83>", out var x83));
        Assert.True(tokenizer.TryGetId("<0xC3>", out var c3));
        Assert.True(sampler.IsAllowed(e2));
        Assert.False(sampler.IsAllowed(c3));
        Assert.False(sampler.IsAllowed(x98));
        sampler.Accept(e2);
        var candidates = new TokenCandidates();
        candidates.Load(new float[tokenizer.VocabSize]);
        sampler.Apply(candidates);
        Assert.Equal([x98], candidates.Items.ToArray().Select(c => c.Id));
        sampler.Accept(x98);
        Assert.False(sampler.IsAllowed(tokenizer.EosId));
        sampler.Accept(x83);
        Assert.True(sampler.IsComplete);
        Assert.True(sampler.IsAllowed(tokenizer.EosId));
        Assert.Throws<InvalidOperationException>(() => sampler.Accept(e2));
    }

    [Fact]
    public void Chain_without_tokenizer_refuses_a_grammar_and_reset_starts_over()
    {
        var options = new SamplingOptions { Grammar = Llamero.Sampling.Grammars.Grammar.JsonObject, Temperature = 0 };
        Assert.Throws<ArgumentException>(() => SamplerChain.Create(options, 32000, 64));
        var tokenizer = Llama2Vocab.Tokenizer;
        var chain = SamplerChain.Create(options, tokenizer.VocabSize, 64, tokenizer);
        Assert.StartsWith("logits -> grammar", chain.ToString());
        var logits = new float[tokenizer.VocabSize];
        Assert.True(tokenizer.TryGetId("▁Hello", out var hello));
        logits[hello] = 10; // the favourite is not JSON: the chain falls back to the best token the grammar allows
        var first = chain.Sample(logits);
        Assert.Equal("{", Encoding.UTF8.GetString(tokenizer.Piece(first)));
        chain.Accept(first);
        chain.Reset();
        Assert.True(chain.Grammar!.IsAllowed(first));
    }
}
