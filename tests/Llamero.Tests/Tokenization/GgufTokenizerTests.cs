using Llamero.Gguf;
using Llamero.Tests.Support;
using Llamero.Tokenization;

namespace Llamero.Tests.Tokenization;

public class GgufTokenizerTests
{
    [Fact]
    public void Stories260KUsesLlamaCppDefaults()
    {
        using var file = GgufFile.Open(TestPaths.Stories260K);
        var tokenizer = Tokenizer.FromGguf(file);
        Assert.Equal(512, tokenizer.VocabSize);
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal(2, tokenizer.EosId);
        Assert.True(tokenizer.AddBos);   // no add_bos_token key: SentencePiece default
        Assert.False(tokenizer.AddEos);
        Assert.Equal(Vocabulary.NoToken, tokenizer.Vocabulary.SepId); // seperator_token_id = 0xFFFFFFFF means none
        var ids = tokenizer.Encode("Once upon a time, there was a little girl named Lily.");
        Assert.Equal(1, ids[0]);
        Assert.Equal("Once upon a time, there was a little girl named Lily.", tokenizer.Decode(ids));
    }

    [Fact]
    public void LegacyV1FileGivesTheSameTokenizer()
    {
        using var v3 = GgufFile.Open(TestPaths.Stories260K);
        using var v1 = GgufFile.Open(TestPaths.Shared("stories260K", "legacy-gguf-v1", "tinyllamas-stories-260k-f32.gguf"));
        const string text = "Lily and Ben went to the park. 🦙 日本";
        Assert.Equal(Tokenizer.FromGguf(v3).Encode(text), Tokenizer.FromGguf(v1).Encode(text));
    }

    [Fact]
    public void UnsupportedTokenizerModelIsNamed()
    {
        var path = WriteVocab(GgufKeyValue.Of(GgufKeys.Tokenizer.Model, "bert"), Tokens("a", "b"));
        using var file = GgufFile.Open(path);
        var ex = Assert.Throws<NotSupportedException>(() => Tokenizer.FromGguf(file));
        Assert.Contains("'bert'", ex.Message);
        Assert.Contains("llama", ex.Message);
    }

    [Fact]
    public void MissingTokensKeyIsNamed()
    {
        var path = WriteVocab(GgufKeyValue.Of(GgufKeys.Tokenizer.Model, "llama"));
        using var file = GgufFile.Open(path);
        var ex = Assert.Throws<KeyNotFoundException>(() => Tokenizer.FromGguf(file));
        Assert.Contains(GgufKeys.Tokenizer.Tokens, ex.Message);
    }

    [Fact]
    public void ShortScoresArrayIsNamed()
    {
        var path = WriteVocab(GgufKeyValue.Of(GgufKeys.Tokenizer.Model, "llama"), Tokens("<unk>", "<s>", "</s>"),
            GgufKeyValue.Of(GgufKeys.Tokenizer.Scores, new GgufArray(GgufValueType.Float32, new float[] { 0f })));
        using var file = GgufFile.Open(path);
        var ex = Assert.Throws<InvalidDataException>(() => Tokenizer.FromGguf(file));
        Assert.Contains(GgufKeys.Tokenizer.Scores, ex.Message);
    }

    [Fact]
    public void DuplicateTokenIsNamed()
    {
        var path = WriteVocab(GgufKeyValue.Of(GgufKeys.Tokenizer.Model, "llama"), Tokens("<unk>", "<s>", "</s>", "a", "a"));
        using var file = GgufFile.Open(path);
        var ex = Assert.Throws<InvalidDataException>(() => Tokenizer.FromGguf(file));
        Assert.Contains("'a'", ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void UnsupportedPreTokenizerIsNamed()
    {
        var path = WriteVocab(GgufKeyValue.Of(GgufKeys.Tokenizer.Model, "gpt2"), Tokens("a", "b", "ab"),
            GgufKeyValue.Of(GgufKeys.Tokenizer.Merges, new GgufArray(GgufValueType.String, new[] { "a b" })),
            GgufKeyValue.Of(GgufKeys.Tokenizer.Pre, "qwen2"));
        using var file = GgufFile.Open(path);
        var ex = Assert.Throws<NotSupportedException>(() => Tokenizer.FromGguf(file));
        Assert.Contains("'qwen2'", ex.Message);
        Assert.Contains("llama-bpe", ex.Message);
    }

    [Fact]
    public void DecodeRejectsIdsOutsideTheVocabulary()
    {
        var tokenizer = SentencePieceTests.Llama2.Value;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([1, 32000]));
        Assert.Contains("32000", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.CreateStreamingDecoder().Append(-1));
    }

    private static GgufKeyValue Tokens(params string[] tokens) =>
        GgufKeyValue.Of(GgufKeys.Tokenizer.Tokens, new GgufArray(GgufValueType.String, tokens));

    private static string WriteVocab(params GgufKeyValue[] metadata)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "vocab.gguf");
        using var writer = new GgufWriter(path);
        writer.AddMetadata(GgufKeyValue.Of(GgufKeys.General.Architecture, "llama"));
        writer.AddMetadata(metadata);
        writer.Commit();
        return path;
    }
}
