using System.Runtime.CompilerServices;
using System.Text;

namespace Llamero.Tokenization;

/// <summary>
/// Byte-level BPE as llama.cpp runs it (llm_tokenizer_bpe): the pre-tokenizer splits text into words; each
/// word's UTF-8 bytes are written in the GPT-2 byte alphabet, one symbol per byte, and the adjacent pair with the
/// lowest merge rank is merged (leftmost on ties) until no ranked pair is left.
/// </summary>
internal sealed class BytePairEncoder
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _pieces;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _mergeRanks;
    private readonly bool _ignoreMerges;

    /// <param name="pieces">Token text → id.</param>
    /// <param name="merges">Merges in rank order, "left right".</param>
    /// <param name="ignoreMerges">Use a word that is itself a token whole (Llama-3).</param>
    public BytePairEncoder(Dictionary<string, int> pieces, IReadOnlyList<string> merges, bool ignoreMerges)
    {
        _pieces = pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        var ranks = new Dictionary<string, int>(merges.Count, StringComparer.Ordinal);
        for (var i = 0; i < merges.Count; i++)
        {
            // llama.cpp splits at the first space after the first character; a merge without one never matches.
            var merge = merges[i];
            if (merge.Length > 1 && merge.IndexOf(' ', 1) > 0)
                ranks.TryAdd(merge, i);
        }
        _mergeRanks = ranks.GetAlternateLookup<ReadOnlySpan<char>>();
        _ignoreMerges = ignoreMerges;
    }


    /// <summary>Encodes <paramref name="text"/> (raw text, no special tokens in it).</summary>
    // Called once per prompt, so tiered JIT would run it unoptimized: compile it fully at once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Encode(string text, List<int> output)
    {
        if (text.Length == 0)
            return;
        var codePoints = UnicodeClass.ToCodePoints(text, out var charStarts);
        var wordEnds = PreTokenizers.SplitLlama3(codePoints);

        var start = 0;
        byte[] utf8 = [];
        char[] word = [];
        foreach (var end in wordEnds)
        {
            var chars = text.AsSpan(charStarts[start], charStarts[end] - charStarts[start]);
            start = end;
            var byteCount = Encoding.UTF8.GetMaxByteCount(chars.Length);
            if (utf8.Length < byteCount)
            {
                utf8 = new byte[Math.Max(byteCount, 64)];
                word = new char[utf8.Length];
            }
            var n = Encoding.UTF8.GetBytes(chars, utf8);
            for (var i = 0; i < n; i++)
                word[i] = ByteAlphabet.Encode(utf8[i]);
            EncodeWord(word.AsSpan(0, n), output);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EncodeWord(ReadOnlySpan<char> word, List<int> output)
    {
        if (_ignoreMerges && _pieces.TryGetValue(word, out var whole))
        {
            output.Add(whole);
            return;
        }

        var symbols = new MergeSymbol[word.Length];
        for (var i = 0; i < word.Length; i++)
            symbols[i] = new MergeSymbol { Start = i, Length = 1, Prev = i - 1, Next = i + 1 == word.Length ? -1 : i + 1 };

        // Lowest rank first, then leftmost. The element remembers both lengths to detect stale pairs.
        var queue = new PriorityQueue<(int Left, int Right, int LeftLength, int RightLength), (int, int)>();
        for (var i = 1; i < word.Length; i++)
            TryAddBigram(word, symbols, queue, i - 1, i);

        while (queue.TryDequeue(out var bigram, out _))
        {
            ref var left = ref symbols[bigram.Left];
            ref var right = ref symbols[bigram.Right];
            if (left.Length != bigram.LeftLength || right.Length != bigram.RightLength || left.Next != bigram.Right)
                continue;

            MergeSymbol.Merge(symbols, bigram.Left, bigram.Right);
            TryAddBigram(word, symbols, queue, left.Prev, bigram.Left);
            TryAddBigram(word, symbols, queue, bigram.Left, left.Next);
        }

        for (var i = 0; i != -1; i = symbols[i].Next)
        {
            var piece = word.Slice(symbols[i].Start, symbols[i].Length);
            if (_pieces.TryGetValue(piece, out var id))
            {
                output.Add(id);
                continue;
            }
            // A merge produced text that is not a token: fall back to the single-byte tokens that exist.
            foreach (var c in piece)
            {
                if (_pieces.TryGetValue([c], out var byteId))
                    output.Add(byteId);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TryAddBigram(ReadOnlySpan<char> word, MergeSymbol[] symbols,
        PriorityQueue<(int, int, int, int), (int, int)> queue, int left, int right)
    {
        if (left < 0 || right < 0)
            return;
        var l = word.Slice(symbols[left].Start, symbols[left].Length);
        var r = word.Slice(symbols[right].Start, symbols[right].Length);
        Span<char> key = l.Length + r.Length + 1 <= 256 ? stackalloc char[l.Length + r.Length + 1] : new char[l.Length + r.Length + 1];
        l.CopyTo(key);
        key[l.Length] = ' ';
        r.CopyTo(key[(l.Length + 1)..]);
        if (_mergeRanks.TryGetValue(key, out var rank))
            queue.Enqueue((left, right, l.Length, r.Length), (rank, left));
    }
}
