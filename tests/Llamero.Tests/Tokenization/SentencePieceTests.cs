using System.Text;
using Llamero.Gguf;
using Llamero.Tests.Support;
using Llamero.Tokenization;

namespace Llamero.Tests.Tokenization;

public class SentencePieceTests
{
    internal static readonly Lazy<Tokenizer> Llama2 = new(() =>
    {
        using var file = GgufFile.Open(TestPaths.Shared("llama-cpp-vocab", "ggml-vocab-llama-spm.gguf"));
        return Tokenizer.FromGguf(file);
    });

    [Fact]
    public void Llama2GoldenVectorsMatchLlamaCpp() =>
        VocabTestCases.AssertAllMatch(Llama2.Value, "ggml-vocab-llama-spm.gguf");

    [Fact]
    public void Llama2VocabularyMetadata()
    {
        var tokenizer = Llama2.Value;
        Assert.Equal(32000, tokenizer.VocabSize);
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal(2, tokenizer.EosId);
        Assert.True(tokenizer.AddBos);
        Assert.False(tokenizer.AddEos);
        Assert.True(tokenizer.IsEndOfGeneration(2));
        Assert.False(tokenizer.IsEndOfGeneration(1));
        Assert.Equal("▁Hello", tokenizer.TokenText(15043));
        Assert.Equal(TokenType.Byte, tokenizer.TokenTypeOf(3));
        Assert.Equal(TokenType.Control, tokenizer.TokenTypeOf(1));
    }

    [Fact]
    public void AddsBosAndTheDummyPrefix()
    {
        var tokenizer = Llama2.Value;
        Assert.Equal([1, 15043, 3186], tokenizer.Encode("Hello world"));
        Assert.Equal([1], tokenizer.Encode(""));
        Assert.Empty(tokenizer.Encode("", addSpecial: false));
    }

    [Fact]
    public void ControlTokensAreParsedOnlyWhenAsked()
    {
        var tokenizer = Llama2.Value;
        var parsed = tokenizer.Encode("<s>Hi</s>", addSpecial: false, parseSpecial: true);
        // The text after a special token gets the dummy-prefix space again, as in llama.cpp.
        Assert.Equal([1, .. tokenizer.Encode("Hi", addSpecial: false), 2], parsed);

        var literal = tokenizer.Encode("<s>Hi</s>", addSpecial: false, parseSpecial: false);
        Assert.DoesNotContain(1, literal);
        Assert.DoesNotContain(2, literal);
        Assert.Equal("<s>Hi</s>", tokenizer.Decode(literal));
    }

    [Fact]
    public void ByteFallbackEncodesCharactersOutsideTheVocabulary()
    {
        var tokenizer = Llama2.Value;
        // U+1F999 is not a piece: its four UTF-8 bytes become <0xF0> <0x9F> <0xA6> <0x99> (ids 3 + byte).
        var ids = tokenizer.Encode("🦙", addSpecial: false);
        Assert.Equal([29871, 3 + 0xF0, 3 + 0x9F, 3 + 0xA6, 3 + 0x99], ids);
        Assert.Equal("🦙", tokenizer.Decode(ids));
    }

    [Fact]
    public void DecodeDropsTheDummyPrefixAfterBosAndHidesControlTokens()
    {
        var tokenizer = Llama2.Value;
        Assert.Equal("Hello world", tokenizer.Decode([1, 15043, 3186]));
        Assert.Equal("Hello world", tokenizer.Decode([15043, 3186]));
        // Rendered, BOS is the first piece, so the space after it stays (llama.cpp strips only the first piece).
        Assert.Equal("<s> Hello world</s>", tokenizer.Decode([1, 15043, 3186, 2], renderSpecial: true));
        Assert.Equal(" world", tokenizer.CreateStreamingDecoder().Append(3186));
    }

    [Fact]
    public void RandomTextRoundTrips()
    {
        var tokenizer = Llama2.Value;
        var random = new Random(42);
        for (var i = 0; i < 300; i++)
        {
            var text = RandomText.Next(random, random.Next(0, 50));
            var ids = tokenizer.Encode(text);
            Assert.Equal(text, tokenizer.Decode(ids));

            Assert.Equal(text, VocabTestCases.StreamDecode(tokenizer, ids, stripLeadingSpace: true));
        }
    }

    [Fact]
    public void EncodingAFourKilobytePromptIsLinearNotQuadratic()
    {
        var tokenizer = Llama2.Value;
        var prompt = string.Concat(Enumerable.Repeat("SYSTEM: You are Synthia, a helpful assistant. Ünïcödé 日本語 🦙\n", 64));
        Assert.True(Encoding.UTF8.GetByteCount(prompt) > 4096);
        var ids = tokenizer.Encode(prompt);
        Assert.Equal(prompt, tokenizer.Decode(ids));
        // A 64 KB prompt still encodes (the merge loop is a priority queue, not a rescan).
        var large = string.Concat(Enumerable.Repeat(prompt, 16));
        Assert.Equal(large, tokenizer.Decode(tokenizer.Encode(large)));
    }
}
