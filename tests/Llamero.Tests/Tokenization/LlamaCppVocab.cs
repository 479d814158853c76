using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Llamero.Tests.Tokenization;

/// <summary>A GGUF vocabulary loaded by llama.cpp itself (LLamaSharp, vocab only): the tokenizer oracle.</summary>
internal sealed class LlamaCppVocab : IDisposable
{
    private static readonly Lock Init = new();
    private static bool _initialised;
    private readonly LLamaWeights _weights;

    public LlamaCppVocab(string path)
    {
        lock (Init)
        {
            if (!_initialised)
            {
                NativeApi.llama_empty_call(); // installs LLamaSharp's native-library resolver
                NativeLogConfig.llama_log_set((_, _) => { });
                _initialised = true;
            }
        }
        _weights = LLamaWeights.LoadFromFile(new ModelParams(path) { VocabOnly = true });
    }

    /// <summary>llama_tokenize.</summary>
    public int[] Tokenize(string text, bool addSpecial, bool parseSpecial) =>
        _weights.Tokenize(text, addSpecial, parseSpecial, Encoding.UTF8).Select(t => (int)t).ToArray();

    /// <summary>llama_token_to_piece without stripping.</summary>
    public byte[] Piece(int id, bool special)
    {
        var buffer = new byte[256];
        var n = (int)_weights.NativeHandle.TokenToSpan(id, buffer, 0, special);
        return buffer[..n];
    }

    public void Dispose() => _weights.Dispose();
}
