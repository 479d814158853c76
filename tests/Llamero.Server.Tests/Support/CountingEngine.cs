using System.Text;
using Llamero.Models;
using Llamero.Server.Engine;

namespace Llamero.Server.Tests.Support;

/// <summary>
/// Stand-in engine until the real model lands: byte-level tokens (0..255, BOS 256, EOS 257) and a "model" whose
/// logits put almost all mass on the next letter of the alphabet after the last token.
/// </summary>
internal sealed class CountingEngine : IInferenceEngine
{
    public const int Bos = 256, Eos = 257;

    public string ModelId => "counting";
    public int TrainedContextSize => 128;
    public int VocabSize => 258;
    public int EmbeddingSize => 4;

    public int[] Tokenize(string text, bool addSpecial) =>
        [.. addSpecial ? [Bos] : Array.Empty<int>(), .. Encoding.UTF8.GetBytes(text).Select(b => (int)b)];

    public string Detokenize(IReadOnlyList<int> tokens) =>
        Encoding.UTF8.GetString(tokens.Where(t => t < 256).Select(t => (byte)t).ToArray());

    public string TokenText(int token) => token < 256 ? ((char)token).ToString() : token == Bos ? "<s>" : "</s>";

    public bool IsEndOfGeneration(int token) => token == Eos;

    public ITokenTextDecoder CreateDecoder() => new Decoder();

    public string RenderChat(IReadOnlyList<ChatTurn> messages) =>
        string.Concat(messages.Select(m => $"{m.Role}: {m.Content}\n")) + "assistant:";

    public IModelSession CreateSession(int contextSize) => new Session(contextSize, VocabSize);

    public float[] Embed(IReadOnlyList<int> tokens) => [0.5f, 0.5f, 0.5f, 0.5f];

    public void Dispose()
    {
    }

    private sealed class Decoder : ITokenTextDecoder
    {
        public string Append(int token) => token < 256 ? ((char)token).ToString() : "";
        public string Flush() => "";
    }

    private sealed class Session(int contextSize, int vocab) : IModelSession
    {
        private readonly float[] _logits = new float[vocab];
        public int ContextSize => contextSize;
        public int Position { get; private set; }
        public int VocabSize => vocab;
        public int Evaluated { get; private set; }

        public ReadOnlySpan<float> Evaluate(ReadOnlySpan<int> tokens)
        {
            if (Position + tokens.Length > contextSize)
                throw new InvalidOperationException($"context overflow: {Position} + {tokens.Length} > {contextSize}");
            Position += tokens.Length;
            Evaluated += tokens.Length;
            var last = tokens[^1];
            var next = last is >= 'a' and < 'z' ? last + 1 : 'a';
            Array.Fill(_logits, -10f);
            _logits[next] = 10f;
            return _logits;
        }

        public void EvaluateAll(ReadOnlySpan<int> tokens, Span<float> logits) => throw new NotSupportedException();

        public void Truncate(int position) => Position = Math.Min(Position, position);

        public void Shift(int keep, int discard) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
