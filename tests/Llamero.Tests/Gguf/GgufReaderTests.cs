using Llamero.Gguf;
using Llamero.Tests.Support;

namespace Llamero.Tests.Gguf;

public class GgufReaderTests
{
    public static TheoryData<string> AllModelFiles() =>
    [
        "stories260K/stories260K.gguf",
        "stories260K/legacy-gguf-v1/tinyllamas-stories-260k-f32.gguf",
        "llama-cpp-vocab/ggml-vocab-llama-spm.gguf",
        "llama2-tiny-random/llama-2-tiny-random.gguf",
    ];

    [Theory]
    [MemberData(nameof(AllModelFiles))]
    public void Every_shared_model_file_opens_and_its_tensors_are_readable(string relative)
    {
        using var file = GgufFile.Open(TestPaths.Shared(relative.Split('/')));
        Assert.Equal("llama", file.Require<string>(GgufKeys.General.Architecture));
        foreach (var t in file.Tensors)
        {
            Assert.True(t.IsKnownType);
            Assert.Equal(t.ByteSize, file.GetTensorData(t).Length);
            Assert.Equal(0, t.Offset % file.Alignment);
        }
    }

    [Fact]
    public void Stories260K_header_matches_its_model_card()
    {
        using var file = GgufFile.Open(TestPaths.Stories260K);
        Assert.Equal(3u, file.Version);
        Assert.Equal(32u, file.Alignment);
        Assert.Equal(64, file.Require<int>(GgufKeys.Llama.EmbeddingLength));
        Assert.Equal(5u, file.Require<uint>(GgufKeys.Llama.BlockCount));
        Assert.Equal(4L, file.Require<long>(GgufKeys.Llama.HeadCountKv));
        Assert.Equal(172, file.Require<int>(GgufKeys.Llama.FeedForwardLength));
        Assert.Equal(10000f, file.GetOrDefault(GgufKeys.Llama.RopeFreqBase, 10000f));
        Assert.Equal(0xFFFFFFFFu, file.Require<uint>(GgufKeys.Tokenizer.SeparatorTokenId));
        Assert.False(file.TryGet<int>(GgufKeys.Tokenizer.SeparatorTokenId, out _));
        // Tokenizer keys come before general.architecture in this file: metadata keeps file order.
        Assert.StartsWith("tokenizer.", file.Metadata[0].Key);
        var tokens = file.Require<string[]>(GgufKeys.Tokenizer.Tokens);
        Assert.Equal(512, tokens.Length);
        Assert.Equal(512, file.Require<float[]>(GgufKeys.Tokenizer.Scores).Length);
        Assert.Equal(512, file.Require<int[]>(GgufKeys.Tokenizer.TokenType).Length);

        var embd = file.GetTensor("token_embd.weight");
        Assert.Equal(GgmlType.F32, embd.Type);
        Assert.Equal([64L, 512L], embd.Dimensions);
        Assert.Equal(64 * 512 * 4, embd.ByteSize);
        Assert.True(file.GetTensorData(file.GetTensor("output.weight")).SequenceEqual(file.GetTensorData(embd)));
        var ex = Assert.Throws<KeyNotFoundException>(() => file.GetTensor("no.such.tensor"));
        Assert.Contains("no.such.tensor", ex.Message);
        Assert.False(file.TryGetTensor("no.such.tensor", out _));
    }

    [Fact]
    public void Legacy_v1_file_holds_the_same_weights_as_the_v3_file()
    {
        using var v1 = GgufFile.Open(TestPaths.Shared("stories260K", "legacy-gguf-v1", "tinyllamas-stories-260k-f32.gguf"));
        using var v3 = GgufFile.Open(TestPaths.Stories260K);
        Assert.Equal(1u, v1.Version);
        Assert.Equal(512, v1.Require<string[]>(GgufKeys.Tokenizer.Tokens).Length);
        Assert.Equal(v3.Require<string[]>(GgufKeys.Tokenizer.Tokens), v1.Require<string[]>(GgufKeys.Tokenizer.Tokens));
        Assert.Equal(v3.Tensors.Count, v1.Tensors.Count);
        foreach (var t in v1.Tensors)
        {
            var other = v3.GetTensor(t.Name);
            Assert.Equal(other.Dimensions, t.Dimensions);
            Assert.True(v1.GetTensorData(t).SequenceEqual(v3.GetTensorData(other)), t.Name);
        }
    }

    [Fact]
    public void Vocab_only_file_has_no_tensors_and_the_llama2_vocabulary()
    {
        using var file = GgufFile.Open(TestPaths.Shared("llama-cpp-vocab", "ggml-vocab-llama-spm.gguf"));
        Assert.Empty(file.Tensors);
        var tokens = file.Require<string[]>(GgufKeys.Tokenizer.Tokens);
        Assert.Equal(32000, tokens.Length);
        Assert.Equal("<s>", tokens[1]);
        Assert.Equal(1, file.Require<int>(GgufKeys.Tokenizer.BosTokenId));
        Assert.Equal(2, file.Require<int>(GgufKeys.Tokenizer.EosTokenId));
        Assert.Equal(0, file.Require<int>(GgufKeys.Tokenizer.UnknownTokenId));
    }

    [Fact]
    public void Tiny_random_model_has_f16_matrices()
    {
        using var file = GgufFile.Open(TestPaths.Shared("llama2-tiny-random", "llama-2-tiny-random.gguf"));
        Assert.Contains(file.Tensors, t => t.Type == GgmlType.F16);
        Assert.Contains(file.Tensors, t => t.Name == "output.weight");
    }

    [Fact]
    public void Typed_accessors_convert_only_without_loss()
    {
        using var file = GgufFile.Open(TestPaths.Stories260K);
        Assert.True(file.TryGet<double>(GgufKeys.Llama.LayerNormRmsEpsilon, out var eps));
        Assert.True(eps > 0);
        Assert.False(file.TryGet<int>(GgufKeys.Llama.LayerNormRmsEpsilon, out _));
        Assert.False(file.TryGet<string>(GgufKeys.Llama.BlockCount, out _));
        Assert.False(file.TryGet<string>("no.such.key", out _));
        Assert.Equal("x", file.GetOrDefault("no.such.key", "x"));
        Assert.Throws<InvalidCastException>(() => file.GetOrDefault(GgufKeys.Llama.BlockCount, "x"));
        var missing = Assert.Throws<KeyNotFoundException>(() => file.Require<int>("no.such.key"));
        Assert.Contains("no.such.key", missing.Message);
        Assert.Equal(file.Require<float[]>(GgufKeys.Tokenizer.Scores).Select(f => (double)f), file.Require<double[]>(GgufKeys.Tokenizer.Scores));
    }

    [Fact]
    public void Tensor_pointer_addresses_the_same_bytes_as_the_span()
    {
        using var file = GgufFile.Open(TestPaths.Stories260K);
        var t = file.Tensors[^1];
        unsafe
        {
            var span = new ReadOnlySpan<byte>((void*)file.GetTensorPointer(t), (int)t.ByteSize);
            Assert.True(span.SequenceEqual(file.GetTensorData(t)));
        }
        Assert.Equal(file.TotalFileSize, new FileInfo(TestPaths.Stories260K).Length);
    }
}
