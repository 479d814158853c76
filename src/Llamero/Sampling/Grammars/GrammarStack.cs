namespace Llamero.Sampling.Grammars;

/// <summary>
/// One parse stack of the matcher, as an immutable linked list so stacks that share their bottom share memory:
/// <see cref="Position"/> is the next element to match (an index into the grammar's flat element array, never an
/// End) and <see cref="Next"/> the rest. A null stack is an empty one: the grammar can end there. Stacks are
/// interned by their <see cref="StackSpace"/>, so two equal stacks of one space are the same object.
/// </summary>
internal sealed class GrammarStack(int position, GrammarStack? next, int id)
{
    public int Position { get; } = position;

    public GrammarStack? Next { get; } = next;

    /// <summary>Creation order in its space (orders the stacks of a set canonically).</summary>
    public int Id { get; } = id;
}

/// <summary>
/// A set of parse stacks (an empty array: nothing can follow), interned by its <see cref="StackSpace"/> and
/// remembering where each code point led from it, so a state met again (every character inside a JSON string
/// leads back to the same one) costs a lookup.
/// </summary>
internal sealed class StackList(GrammarStack?[] stacks)
{
    public GrammarStack?[] Stacks { get; } = stacks;

    /// <summary>Whether some stack is empty (the grammar may end here).</summary>
    public bool CanEnd { get; } = Array.IndexOf(stacks, null) >= 0;

    public bool IsDead => Stacks.Length == 0;

    /// <summary>Code point → the list it leads to (filled by <see cref="StackSpace.Advance"/>).</summary>
    public Dictionary<int, StackList> Advanced { get; } = [];
}
