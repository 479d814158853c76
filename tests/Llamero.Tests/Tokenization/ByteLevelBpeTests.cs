using Llamero.Chat;
using Llamero.Tokenization;

namespace Llamero.Tests.Tokenization;

public class ByteLevelBpeTests
{
    [Fact]
    public void Llama3GoldenVectorsMatchLlamaCpp() =>
        VocabTestCases.AssertAllMatch(Llama3Vocabulary.Tokenizer, "ggml-vocab-llama-bpe.gguf");

    [Fact]
    public void Llama3GoldenVectorsDecodeBackToTheirInput()
    {
        var tokenizer = Llama3Vocabulary.Tokenizer;
        foreach (var (input, expected) in VocabTestCases.Load("ggml-vocab-llama-bpe.gguf"))
            Assert.Equal(input, VocabTestCases.StreamDecode(tokenizer, expected));
    }

    [Fact]
    public void DecodeCleansSpacesBeforePunctuationAsLlamaCppDoes()
    {
        var tokenizer = Llama3Vocabulary.Tokenizer;
        // Llama-3 keeps llama.cpp's clean_up_tokenization_spaces: " ?" and " 's" lose their space on decode.
        var ids = tokenizer.Encode("Is it John 's ?", addSpecial: false);
        Assert.Equal("Is it John's?", tokenizer.Decode(ids));
    }

    [Fact]
    public void RandomTextRoundTrips()
    {
        var tokenizer = Llama3Vocabulary.Tokenizer;
        var random = new Random(1234);
        for (var i = 0; i < 200; i++)
        {
            var text = RandomText.Next(random, random.Next(0, 60));
            Assert.Equal(text, VocabTestCases.StreamDecode(tokenizer, tokenizer.Encode(text, addSpecial: false)));
        }
    }

    [Fact]
    public void ChatPromptWithControlTokensEncodesThemWhole()
    {
        var tokenizer = Llama3Vocabulary.TokenizerWithSpecials;
        Assert.True(tokenizer.TryGetId("<|start_header_id|>", out var header));
        Assert.True(tokenizer.TryGetId("<|eot_id|>", out var eot));
        var prompt = ChatTemplates.Get("llama3").Render([ChatMessage.User("Hi")], addAssistantPrefix: true);

        var ids = tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true);
        Assert.Equal(tokenizer.BosId, ids[0]);
        Assert.Equal(header, ids[1]);
        Assert.Single(ids, id => id == eot); // the one closing the user turn
        Assert.Equal(prompt, tokenizer.Decode(ids[1..], renderSpecial: true));

        // Without special parsing the same text is ordinary characters.
        Assert.DoesNotContain(header, tokenizer.Encode(prompt, addSpecial: false, parseSpecial: false));

        // <|eot_id|> ends generation: found by its text, as llama.cpp does.
        Assert.Equal(eot, tokenizer.EotId);
        Assert.True(tokenizer.IsEndOfGeneration(eot));
        Assert.True(tokenizer.IsEndOfGeneration(tokenizer.EosId));
    }
}
