namespace Llamero.Gguf;

/// <summary>
/// A GGUF array value: its element type and the elements as a typed .NET array
/// (<c>uint[]</c> for UInt32, <c>string[]</c> for String, <see cref="GgufArray"/>[] for arrays of arrays).
/// </summary>
public sealed class GgufArray
{
    /// <summary>Creates an array value; <paramref name="values"/> must be an array of <see cref="GgufValueTypes.ClrType"/> of <paramref name="elementType"/>.</summary>
    public GgufArray(GgufValueType elementType, Array values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var expected = GgufValueTypes.ClrType(elementType);
        if (values.GetType().GetElementType() != expected)
            throw new ArgumentException($"A GGUF {elementType} array needs a {expected.Name}[], not {values.GetType().Name}.", nameof(values));
        ElementType = elementType;
        Values = values;
    }

    /// <summary>Type of every element.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>The elements (shared, do not modify).</summary>
    public Array Values { get; }

    /// <summary>Number of elements.</summary>
    public int Count => Values.Length;

    /// <inheritdoc />
    public override string ToString() => $"[{ElementType} x {Count}]";
}
