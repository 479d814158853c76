namespace Llamero.Gguf;

/// <summary>One tensor as the GGUF header describes it.</summary>
public sealed class GgufTensorInfo
{
    /// <summary>Creates a tensor description (the reader fills it; writers build one per tensor).</summary>
    public GgufTensorInfo(string name, GgmlType type, long[] dimensions, long offset, long byteSize, int shard = 0)
    {
        Name = name;
        Type = type;
        Dimensions = dimensions;
        Offset = offset;
        ByteSize = byteSize;
        Shard = shard;
        long count = 1;
        foreach (var d in dimensions)
            count *= d;
        ElementCount = count;
    }

    /// <summary>Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Element type; may be an id Llamero cannot compute with (see <see cref="IsKnownType"/>).</summary>
    public GgmlType Type { get; }

    /// <summary>Type name as ggml prints it, or <c>type#N</c> for an unknown id.</summary>
    public string TypeName => GgmlTypes.NameOf(Type);

    /// <summary>True when <see cref="Type"/> is a ggml type whose layout Llamero knows.</summary>
    public bool IsKnownType => GgmlTypes.IsKnown((uint)Type);

    /// <summary>Shape, <c>ne0</c> first (ne0 = row length, the contiguous dimension).</summary>
    public long[] Dimensions { get; }

    /// <summary>Product of the dimensions.</summary>
    public long ElementCount { get; }

    /// <summary>Bytes of tensor data. For an unknown type: the bytes up to the next tensor (or end of data).</summary>
    public long ByteSize { get; }

    /// <summary>Offset of the data from the start of the data section of its file (a multiple of the alignment).</summary>
    public long Offset { get; }

    /// <summary>Index of the gguf-split shard holding the data (0 for a single file).</summary>
    public int Shard { get; }

    /// <summary>Elements in one row (<c>ne0</c>).</summary>
    public long RowLength => Dimensions.Length == 0 ? 1 : Dimensions[0];

    /// <summary>Shape as ggml prints it: <c>[64, 512]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Dimensions) + "]";

    /// <inheritdoc />
    public override string ToString() => $"{Name} {TypeName} {ShapeText}";
}
