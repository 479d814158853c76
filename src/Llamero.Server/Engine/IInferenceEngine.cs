using Llamero.Chat;
using Llamero.Models;
using Llamero.Tokenization;

namespace Llamero.Server.Engine;

/// <summary>
/// The loaded model as the server uses it: its tokenizer, chat template, KV-cache sessions and embeddings.
/// <see cref="LlameroEngine"/> is the implementation over a GGUF file; tests may wrap it.
/// Thread-safety: the tokenizer and template are shared read-only; each session is used by one caller at a time.
/// </summary>
public interface IInferenceEngine : IDisposable
{
    /// <summary>The id clients pass as <c>model</c>.</summary>
    string ModelId { get; }

    /// <summary>Context length the model was trained with (the default per-slot context).</summary>
    int TrainedContextSize { get; }

    /// <summary>Width of an embedding vector (the model's hidden size).</summary>
    int EmbeddingSize { get; }

    /// <summary>The model's tokenizer.</summary>
    Tokenizer Tokenizer { get; }

    /// <summary>The chat template prompts are rendered with.</summary>
    ChatTemplate Template { get; }

    /// <summary>A new KV-cache session over the shared weights.</summary>
    IModelSession CreateSession(int contextSize);

    /// <summary>A decoder that advances several of this engine's sessions in one forward pass per step
    /// (at most <paramref name="maxTokens"/> tokens of at most <paramref name="maxSequences"/> sessions).</summary>
    IBatchDecoder CreateBatchDecoder(int maxTokens, int maxSequences);

    /// <summary>Pooled (mean over tokens), L2-normalised final hidden states of <paramref name="tokens"/>.</summary>
    float[] Embed(IReadOnlyList<int> tokens);
}
