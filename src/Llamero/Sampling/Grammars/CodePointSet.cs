namespace Llamero.Sampling.Grammars;

/// <summary>An immutable set of Unicode code points, kept as sorted, disjoint, non-adjacent inclusive ranges.</summary>
internal sealed class CodePointSet : IEquatable<CodePointSet>
{
    public const int MaxCodePoint = 0x10FFFF;

    private readonly (int Low, int High)[] _ranges;

    private CodePointSet((int Low, int High)[] ranges) => _ranges = ranges;

    public IReadOnlyList<(int Low, int High)> Ranges => _ranges;

    public bool IsEmpty => _ranges.Length == 0;

    /// <summary>The single code point of a one-element set, else null.</summary>
    public int? Single => _ranges is [var (low, high)] && low == high ? low : null;

    public static CodePointSet Of(int codePoint) => new([(codePoint, codePoint)]);

    public static CodePointSet Range(int low, int high) => new([(low, high)]);

    /// <summary>The union of arbitrary (possibly overlapping, unordered) ranges.</summary>
    public static CodePointSet FromRanges(IEnumerable<(int Low, int High)> ranges)
    {
        var sorted = ranges.Where(r => r.Low <= r.High).OrderBy(r => r.Low).ToList();
        var merged = new List<(int Low, int High)>();
        foreach (var (low, high) in sorted)
        {
            if (merged.Count > 0 && low <= merged[^1].High + 1)
                merged[^1] = (merged[^1].Low, Math.Max(merged[^1].High, high));
            else
                merged.Add((low, high));
        }
        return new([.. merged]);
    }

    public CodePointSet Union(CodePointSet other) => FromRanges(_ranges.Concat(other._ranges));

    /// <summary>Every code point (0 to U+10FFFF) not in this set.</summary>
    public CodePointSet Complement()
    {
        var result = new List<(int Low, int High)>();
        var next = 0;
        foreach (var (low, high) in _ranges)
        {
            if (low > next)
                result.Add((next, low - 1));
            next = high + 1;
        }
        if (next <= MaxCodePoint)
            result.Add((next, MaxCodePoint));
        return new([.. result]);
    }

    public CodePointSet Intersect(CodePointSet other) => Complement().Union(other.Complement()).Complement();

    public CodePointSet Except(CodePointSet other) => Intersect(other.Complement());

    public bool Equals(CodePointSet? other) => other is not null && _ranges.AsSpan().SequenceEqual(other._ranges);

    public override bool Equals(object? obj) => Equals(obj as CodePointSet);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var range in _ranges)
            hash.Add(range);
        return hash.ToHashCode();
    }
}
