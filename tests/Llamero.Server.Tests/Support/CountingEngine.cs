using Llamero.Chat;
using Llamero.Generation;
using Llamero.Gguf;
using Llamero.Models;
using Llamero.Server.Engine;
using Llamero.Tests.Support;
using Llamero.Tokenization;

namespace Llamero.Server.Tests.Support;

/// <summary>
/// Stand-in until the model lands in main: the real stories260K tokenizer, and a "model" whose logits put almost all
/// mass on the token after the last one (ids 259..511, the ordinary pieces).
/// </summary>
internal sealed class CountingEngine : IInferenceEngine
{
    private static readonly Lazy<Tokenizer> SharedTokenizer = new(() =>
    {
        using var file = GgufFile.Open(TestPaths.Stories260K);
        return Tokenizer.FromGguf(file);
    });

    public string ModelId => "stories260K";
    public int TrainedContextSize => 256;
    public int EmbeddingSize => 4;
    public Tokenizer Tokenizer => SharedTokenizer.Value;
    public ChatTemplate Template => CompletionTemplate.Instance;

    public IModelSession CreateSession(int contextSize) => new Session(contextSize, Tokenizer.VocabSize);

    public float[] Embed(IReadOnlyList<int> tokens) => [0.5f, 0.5f, 0.5f, 0.5f];

    public void Dispose()
    {
    }

    private sealed class Session(int contextSize, int vocab) : IModelSession
    {
        private readonly float[] _logits = new float[vocab];
        public int ContextSize => contextSize;
        public int Position { get; private set; }
        public int VocabSize => vocab;

        public ReadOnlySpan<float> Evaluate(ReadOnlySpan<int> tokens)
        {
            if (Position + tokens.Length > contextSize)
                throw new InvalidOperationException($"context overflow: {Position} + {tokens.Length} > {contextSize}");
            Position += tokens.Length;
            var last = tokens[^1];
            var next = last is >= 259 and < 511 ? last + 1 : 259;
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
