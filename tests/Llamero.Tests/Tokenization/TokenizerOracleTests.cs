using Llamero.Gguf;
using Llamero.Tests.Support;
using Llamero.Tokenization;

namespace Llamero.Tests.Tokenization;

/// <summary>Llamero's tokenizer against llama.cpp's on the same GGUF vocabularies.</summary>
public class TokenizerOracleTests
{
    public static TheoryData<string> Vocabularies() => new()
    {
        "llama-cpp-vocab/ggml-vocab-llama-spm.gguf",
        "stories260K/stories260K.gguf",
    };

    private static Tokenizer Load(string relative)
    {
        using var file = GgufFile.Open(TestPaths.Shared(relative.Split('/')));
        return Tokenizer.FromGguf(file);
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void RandomTextEncodesAsLlamaCpp(string relative)
    {
        var tokenizer = Load(relative);
        using var oracle = new LlamaCppVocab(TestPaths.Shared(relative.Split('/')));
        var random = new Random(7);
        string[] specials = ["<s>", "</s>", "<unk>", " "];
        for (var i = 0; i < 150; i++)
        {
            var text = RandomText.Next(random, random.Next(0, 40));
            if (i % 3 == 0) // may split a surrogate pair: lone surrogates must behave as their UTF-8 (U+FFFD) does
                text = text.Insert(random.Next(text.Length + 1), specials[random.Next(specials.Length)]);
            var addSpecial = i % 2 == 0;
            var parseSpecial = i % 4 < 2;
            var expected = oracle.Tokenize(text, addSpecial, parseSpecial);
            var actual = tokenizer.Encode(text, addSpecial, parseSpecial);
            Assert.True(expected.SequenceEqual(actual), $"{string.Join(",", text.Select(c => ((int)c).ToString("X")))} {addSpecial} {parseSpecial}\n{string.Join(",", expected)}\n{string.Join(",", actual)}");
        }
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void EveryTokenPieceMatchesLlamaCpp(string relative)
    {
        var tokenizer = Load(relative);
        using var oracle = new LlamaCppVocab(TestPaths.Shared(relative.Split('/')));
        for (var id = 0; id < tokenizer.VocabSize; id++)
        {
            Assert.Equal(oracle.Piece(id, special: false), tokenizer.Piece(id).ToArray());
            Assert.Equal(oracle.Piece(id, special: true), tokenizer.Piece(id, renderSpecial: true).ToArray());
        }
    }
}
