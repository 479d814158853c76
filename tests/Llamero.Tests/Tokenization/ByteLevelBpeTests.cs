using System.Text;
using Llamero.Tokenization;

namespace Llamero.Tests.Tokenization;

public class ByteLevelBpeTests
{
    [Fact]
    public void Llama3GoldenVectorsMatchLlamaCpp()
    {
        var tokenizer = Llama3Vocabulary.Tokenizer;
        var cases = VocabTestCases.Load("ggml-vocab-llama-bpe.gguf");
        Assert.Equal(46, cases.Count);
        var failures = new List<string>();
        foreach (var (input, expected) in cases)
        {
            var actual = tokenizer.Encode(input, addSpecial: false);
            if (!actual.SequenceEqual(expected))
                failures.Add($"'{input}': expected [{string.Join(' ', expected)}] got [{string.Join(' ', actual)}]");
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void Llama3GoldenVectorsDecodeBackToTheirInput()
    {
        var tokenizer = Llama3Vocabulary.Tokenizer;
        foreach (var (input, expected) in VocabTestCases.Load("ggml-vocab-llama-bpe.gguf"))
        {
            var decoder = tokenizer.CreateStreamingDecoder();
            var text = new StringBuilder();
            foreach (var id in expected)
                text.Append(decoder.Append(id));
            text.Append(decoder.Flush());
            Assert.Equal(input, text.ToString());
        }
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
            var decoder = tokenizer.CreateStreamingDecoder();
            var sb = new StringBuilder();
            foreach (var id in tokenizer.Encode(text, addSpecial: false))
                sb.Append(decoder.Append(id));
            sb.Append(decoder.Flush());
            Assert.Equal(text, sb.ToString());
        }
    }
}
