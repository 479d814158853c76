namespace Llamero.Sampling.Grammars;

/// <summary>
/// A parsed regular expression (the subset <see cref="RegexParser"/> reads), over Unicode code points. Nodes may be
/// shared, so <see cref="Nullable"/> and <see cref="Size"/> are worked out once, when a node is made.
/// </summary>
internal abstract record RegexNode
{
    // Sizes stop growing here, so adding them up never overflows.
    private const int SizeCap = 1 << 28;

    /// <summary>Whether the node can match the empty string.</summary>
    public abstract bool Nullable { get; }

    /// <summary>How many nodes the written-out tree has (bounds the grammar it turns into), capped.</summary>
    public abstract int Size { get; }

    protected static int SizeOf(IEnumerable<RegexNode> nodes) => (int)Math.Min(1 + nodes.Sum(n => (long)n.Size), SizeCap);
}

/// <summary>One character out of a set (a literal is a set of one).</summary>
internal sealed record RegexChars(CodePointSet Set) : RegexNode
{
    public override bool Nullable => false;

    public override int Size => 1;
}

/// <summary>The parts one after another; no parts is the empty string.</summary>
internal sealed record RegexSequence(IReadOnlyList<RegexNode> Parts) : RegexNode
{
    public static readonly RegexSequence Empty = new([]);

    public override bool Nullable { get; } = Parts.All(p => p.Nullable);

    public override int Size { get; } = SizeOf(Parts);
}

/// <summary>Any one of the options.</summary>
internal sealed record RegexChoice(IReadOnlyList<RegexNode> Options) : RegexNode
{
    public override bool Nullable { get; } = Options.Any(p => p.Nullable);

    public override int Size { get; } = SizeOf(Options);
}

/// <summary>A body repeated <c>Min</c> to <c>Max</c> times (null: no limit).</summary>
internal sealed record RegexRepeat(RegexNode Body, int Min, int? Max) : RegexNode
{
    public override bool Nullable { get; } = Min == 0 || Body.Nullable;

    public override int Size { get; } = SizeOf([Body]);
}
