using System.Runtime.CompilerServices;
using System.Text;

namespace Llamero.Tokenization;

/// <summary>
/// SentencePiece BPE as llama.cpp runs it (llm_tokenizer_spm): start from one symbol per character, repeatedly
/// merge the adjacent pair whose concatenation is the vocabulary piece with the highest score (leftmost on ties),
/// then emit each symbol's token, or its UTF-8 bytes as <c>&lt;0xNN&gt;</c> tokens when it is not a piece.
/// </summary>
internal sealed class SentencePieceEncoder
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _pieces;
    private readonly IReadOnlyList<float> _scores;
    private readonly int[] _byteTokens;

    /// <param name="pieces">Token text → id.</param>
    /// <param name="scores">Score per id.</param>
    /// <param name="byteTokens">Token id for each byte value (byte fallback), or the unknown id.</param>
    public SentencePieceEncoder(Dictionary<string, int> pieces, IReadOnlyList<float> scores, int[] byteTokens)
    {
        _pieces = pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        _scores = scores;
        _byteTokens = byteTokens;
    }


    /// <summary>Encodes <paramref name="text"/>, whose spaces are already escaped as ▁.</summary>
    // Called once per prompt, so tiered JIT would run it unoptimized: compile it fully at once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Encode(ReadOnlySpan<char> text, List<int> output)
    {
        if (text.IsEmpty)
            return;

        var symbols = new MergeSymbol[text.Length];
        var count = 0;
        for (var i = 0; i < text.Length;)
        {
            var len = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            symbols[count] = new MergeSymbol { Start = i, Length = len, Prev = count - 1, Next = i + len == text.Length ? -1 : count + 1 };
            count++;
            i += len;
        }

        // Highest score first, then leftmost (see Priority).
        var queue = new PriorityQueue<(int Left, int Right, int Size), ulong>(count);
        for (var i = 1; i < count; i++)
            TryAddBigram(text, symbols, queue, i - 1, i);

        while (queue.TryDequeue(out var bigram, out _))
        {
            ref var left = ref symbols[bigram.Left];
            ref var right = ref symbols[bigram.Right];
            // Skip pairs that an earlier merge made stale.
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Size)
                continue;

            MergeSymbol.Merge(symbols, bigram.Left, bigram.Right);
            TryAddBigram(text, symbols, queue, left.Prev, bigram.Left);
            TryAddBigram(text, symbols, queue, bigram.Left, left.Next);
        }

        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i != -1; i = symbols[i].Next)
        {
            var piece = text.Slice(symbols[i].Start, symbols[i].Length);
            if (_pieces.TryGetValue(piece, out var id))
            {
                output.Add(id);
                continue;
            }
            // Not a piece: byte fallback, one token per UTF-8 byte of the character.
            var n = Encoding.UTF8.GetBytes(piece, utf8);
            for (var b = 0; b < n; b++)
            {
                var byteToken = _byteTokens[utf8[b]];
                if (byteToken < 0)
                    throw new InvalidOperationException(
                        $"The vocabulary has no piece for byte 0x{utf8[b]:X2} (no <0x{utf8[b]:X2}> token) and no unknown token.");
                output.Add(byteToken);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TryAddBigram(ReadOnlySpan<char> text, MergeSymbol[] symbols,
        PriorityQueue<(int, int, int), ulong> queue, int left, int right)
    {
        if (left < 0 || right < 0)
            return;
        var size = symbols[left].Length + symbols[right].Length;
        if (!_pieces.TryGetValue(text.Slice(symbols[left].Start, size), out var id))
            return;
        queue.Enqueue((left, right, size), Priority(_scores[id], left));
    }

    // One ulong that orders by score descending, then by left index ascending: the high half is the score's bits
    // mapped so that unsigned order is descending float order, the low half the index.
    private static ulong Priority(float score, int left)
    {
        var bits = (uint)BitConverter.SingleToInt32Bits(score == 0 ? 0f : score); // +0 and -0 compare equal
        var ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
        return ((ulong)~ascending << 32) | (uint)left;
    }
}
