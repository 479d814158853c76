namespace Llamero.Sampling.Grammars;

/// <summary>
/// One parse stack of the matcher, as an immutable linked list so stacks that share their bottom share memory:
/// <see cref="Position"/> is the next element to match (an index into the grammar's flat element array, never an
/// End) and <see cref="Next"/> the rest. A null stack is an empty one: the grammar can end there.
/// </summary>
internal sealed class GrammarStack
{
    public GrammarStack(int position, GrammarStack? next)
    {
        Position = position;
        Next = next;
        Hash = HashCode.Combine(position, next?.Hash ?? 0);
    }

    public int Position { get; }

    public GrammarStack? Next { get; }

    public int Hash { get; }

    /// <summary>Structural equality (the same positions from top to bottom).</summary>
    public static bool Same(GrammarStack? a, GrammarStack? b)
    {
        while (true)
        {
            if (ReferenceEquals(a, b))
                return true;
            if (a is null || b is null || a.Hash != b.Hash || a.Position != b.Position)
                return false;
            a = a.Next;
            b = b.Next;
        }
    }
}
