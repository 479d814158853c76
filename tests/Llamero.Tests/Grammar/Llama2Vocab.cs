using Llamero.Gguf;
using Llamero.Tests.Support;
using Llamero.Tokenization;

namespace Llamero.Tests.Grammar;

/// <summary>The real Llama-2 vocabulary (32000 tokens, byte fallback) that llama.cpp's tokenizer tests use.</summary>
internal static class Llama2Vocab
{
    public static string Path { get; } = TestPaths.Shared("llama-cpp-vocab", "ggml-vocab-llama-spm.gguf");

    private static readonly Lazy<Tokenizer> s_tokenizer = new(() =>
    {
        using var file = GgufFile.Open(Path);
        return Tokenizer.FromGguf(file);
    });

    public static Tokenizer Tokenizer => s_tokenizer.Value;
}
