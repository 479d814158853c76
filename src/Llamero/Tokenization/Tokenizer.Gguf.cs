using Llamero.Gguf;

namespace Llamero.Tokenization;

public sealed partial class Tokenizer
{
    /// <summary>
    /// Builds the tokenizer a GGUF file describes: <c>tokenizer.ggml.model</c> (llama or gpt2), tokens, scores,
    /// token types, merges, special ids and add_bos/add_eos/add_space_prefix, with llama.cpp's defaults where a
    /// key is absent.
    /// </summary>
    /// <exception cref="NotSupportedException">Another tokenizer model or pre-tokenizer.</exception>
    /// <exception cref="InvalidDataException">Inconsistent tokenizer metadata (named in the message).</exception>
    public static Tokenizer FromGguf(GgufFile file)
    {
        var vocabulary = GgufVocabulary.Read(file);
        try
        {
            return new Tokenizer(vocabulary);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{file.Path}: {e.Message}", e);
        }
    }
}
