using Llamero.Models;
using Llamero.Tokenization;

namespace Llamero.Tests.Generation;

/// <summary>
/// A tiny deterministic stand-in for a model, to test the generator's bookkeeping (stops, limits, context shift,
/// cache reuse) independently of the forward pass: the next token is a fixed function of the last cached token.
/// It records what it was asked to do, and enforces the context like a real session.
/// </summary>
internal sealed class ScriptedSession(int contextSize, Func<int, int> next, int vocabSize) : IModelSession
{
    private readonly float[] _logits = new float[vocabSize];

    public List<int> Cache { get; } = [];
    public List<(int Keep, int Discard)> Shifts { get; } = [];
    public int EvaluatedTokens { get; private set; }

    public int ContextSize => contextSize;
    public int Position => Cache.Count;
    public int VocabSize => vocabSize;

    public ReadOnlySpan<float> Evaluate(ReadOnlySpan<int> tokens)
    {
        if (Cache.Count + tokens.Length > contextSize)
            throw new InvalidOperationException($"context overflow: {Cache.Count} + {tokens.Length} > {contextSize}");
        Cache.AddRange(tokens);
        EvaluatedTokens += tokens.Length;
        Array.Fill(_logits, 0f);
        _logits[next(Cache[^1])] = 10f;
        return _logits;
    }

    public void EvaluateAll(ReadOnlySpan<int> tokens, Span<float> logits) => throw new NotSupportedException();

    public void Truncate(int position) => Cache.RemoveRange(position, Cache.Count - position);

    public void Shift(int keep, int discard)
    {
        Shifts.Add((keep, discard));
        Cache.RemoveRange(keep, discard);
    }

    public void Dispose() { }
}

/// <summary>A SentencePiece vocabulary small enough to reason about, and the story the scripted model tells.</summary>
internal static class ScriptedModel
{
    public const int Bos = 1, Eos = 2, Once = 3, Upon = 4, A = 5, Time = 6, Comma = 7, The = 8, End = 9, Dot = 10, ByteC3 = 11, ByteA9 = 12;

    private static readonly string[] Pieces =
        ["<unk>", "<s>", "</s>", "▁Once", "▁upon", "▁a", "▁time", ",", "▁the", "▁end", ".", "<0xC3>", "<0xA9>"];

    public static Tokenizer Tokenizer { get; } = new(new Vocabulary(
        TokenizerKind.SentencePiece,
        Pieces,
        types: [TokenType.Unknown, TokenType.Control, TokenType.Control, .. Enumerable.Repeat(TokenType.Normal, 8), TokenType.Byte, TokenType.Byte]));

    public static int VocabSize => Pieces.Length;

    /// <summary>BOS (or any unknown text: this vocabulary cannot spell words) → "Once upon a time, the end." → EOS.</summary>
    public static int Story(int last) => last switch
    {
        Bos or 0 => Once, Once => Upon, Upon => A, A => Time, Time => Comma, Comma => The, The => End, End => Dot,
        _ => Eos,
    };

    /// <summary>Never ends: " a time a time ...".</summary>
    public static int Forever(int last) => last == A ? Time : A;
}
