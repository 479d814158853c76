using System.Runtime.CompilerServices;
using Llamero.Tokenization;

namespace Llamero.Sampling.Grammars;

/// <summary>
/// What the grammar sampler needs to know about a tokenizer, computed once per tokenizer and shared: each token's
/// output bytes, the end-of-generation tokens, and the tokens sorted by their bytes, so tokens with a common prefix
/// are checked against the grammar together (a prefix tree walked over the sorted list).
/// </summary>
internal sealed class GrammarVocabulary
{
    private static readonly ConditionalWeakTable<Tokenizer, GrammarVocabulary> s_cache = [];

    private GrammarVocabulary(Tokenizer tokenizer)
    {
        Size = tokenizer.VocabSize;
        Pieces = new byte[Size][];
        EndOfGeneration = new bool[Size];
        var sortable = new List<int>(Size);
        for (var id = 0; id < Size; id++)
        {
            Pieces[id] = tokenizer.Piece(id).ToArray();
            EndOfGeneration[id] = tokenizer.IsEndOfGeneration(id);
            // llama.cpp refuses every token with no text (control tokens) or starting with a NUL byte.
            if (!EndOfGeneration[id] && Pieces[id].Length > 0 && Pieces[id][0] != 0)
                sortable.Add(id);
        }
        sortable.Sort((a, b) => Pieces[a].AsSpan().SequenceCompareTo(Pieces[b]));
        Sorted = [.. sortable];
    }

    /// <summary>The vocabulary of <paramref name="tokenizer"/>, built on first use.</summary>
    public static GrammarVocabulary For(Tokenizer tokenizer) => s_cache.GetValue(tokenizer, t => new GrammarVocabulary(t));

    public int Size { get; }

    /// <summary>Output bytes of each token (control tokens: empty).</summary>
    public byte[][] Pieces { get; }

    /// <summary>Whether each token ends generation (allowed only where the grammar can end).</summary>
    public bool[] EndOfGeneration { get; }

    /// <summary>Token ids with text, sorted by their bytes (a prefix sorts before its extensions).</summary>
    public int[] Sorted { get; }
}
