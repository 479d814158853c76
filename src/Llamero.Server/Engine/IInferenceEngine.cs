using Llamero.Models;

namespace Llamero.Server.Engine;

/// <summary>
/// The loaded model as the server uses it: tokenizer, chat template and sessions. One implementation
/// wraps Llamero's model and tokenizer (<c>LlameroEngine</c>); the server never touches
/// those types directly, so this is the one file to change when their API moves.
/// Thread-safety: every member may be called from any thread, except that each session is used by one caller.
/// </summary>
public interface IInferenceEngine : IDisposable
{
    /// <summary>The id clients pass as <c>model</c>.</summary>
    string ModelId { get; }

    /// <summary>Context length the model was trained with (the default per-slot context).</summary>
    int TrainedContextSize { get; }

    /// <summary>Size of the vocabulary.</summary>
    int VocabSize { get; }

    /// <summary>Width of an embedding vector (the model's hidden size).</summary>
    int EmbeddingSize { get; }

    /// <summary>Text to token ids; <paramref name="addSpecial"/> adds BOS as the model asks.</summary>
    int[] Tokenize(string text, bool addSpecial);

    /// <summary>Token ids back to text; throws <see cref="ArgumentOutOfRangeException"/> naming a bad id.</summary>
    string Detokenize(IReadOnlyList<int> tokens);

    /// <summary>The text of one token as it appears in output (for logprobs).</summary>
    string TokenText(int token);

    /// <summary>True for EOS/EOT-like tokens that end an answer.</summary>
    bool IsEndOfGeneration(int token);

    /// <summary>A decoder that turns a token stream into text without splitting UTF-8 characters.</summary>
    ITokenTextDecoder CreateDecoder();

    /// <summary>Renders a conversation with the chat template, ending with the assistant prefix.</summary>
    string RenderChat(IReadOnlyList<ChatTurn> messages);

    /// <summary>A new KV-cache session over the shared weights.</summary>
    IModelSession CreateSession(int contextSize);

    /// <summary>Pooled (mean over tokens), L2-normalised final hidden states of <paramref name="tokens"/>.</summary>
    float[] Embed(IReadOnlyList<int> tokens);
}

/// <summary>One chat message, role and text.</summary>
public sealed record ChatTurn(string Role, string Content);

/// <summary>Streams token ids into text, holding back incomplete UTF-8 sequences.</summary>
public interface ITokenTextDecoder
{
    /// <summary>Appends a token and returns the text it completes (possibly empty).</summary>
    string Append(int token);

    /// <summary>Whatever is still held back.</summary>
    string Flush();
}
