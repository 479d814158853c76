namespace Llamero.Tokenization;

/// <summary>
/// A run of text in a BPE merge: the linked list both encoders merge over (llama.cpp's llm_symbol).
/// </summary>
internal struct MergeSymbol
{
    /// <summary>Start of the run in the encoded text.</summary>
    public int Start;
    /// <summary>Length of the run; 0 once merged into its left neighbour.</summary>
    public int Length;
    /// <summary>Index of the previous live symbol, or -1.</summary>
    public int Prev;
    /// <summary>Index of the next live symbol, or -1.</summary>
    public int Next;

    /// <summary>Merges <paramref name="right"/> into <paramref name="left"/> and unlinks it.</summary>
    public static void Merge(MergeSymbol[] symbols, int left, int right)
    {
        ref var l = ref symbols[left];
        ref var r = ref symbols[right];
        l.Length += r.Length;
        r.Length = 0;
        l.Next = r.Next;
        if (r.Next >= 0)
            symbols[r.Next].Prev = left;
    }
}
