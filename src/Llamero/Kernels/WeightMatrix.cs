using Llamero.Gguf;

namespace Llamero.Kernels;

/// <summary>
/// A 2-D weight tensor in ggml order, viewed in place (usually inside the memory-mapped model file):
/// <see cref="Rows"/> rows of <see cref="Cols"/> elements, each row <see cref="RowBytes"/> bytes of <see cref="Type"/>.
/// y = W·x reads one row per output element.
/// </summary>
public readonly unsafe struct WeightMatrix(GgmlType type, nint data, int rows, int cols)
{
    public GgmlType Type { get; } = type;
    public nint Data { get; } = data;
    /// <summary>Output features (ggml ne[1]).</summary>
    public int Rows { get; } = rows;
    /// <summary>Input features, the row length (ggml ne[0]).</summary>
    public int Cols { get; } = cols;
    public long RowBytes => GgmlTypes.Get(Type).RowBytes(Cols);

    /// <summary>The bytes of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<byte> Row(int row) => new((byte*)Data + row * RowBytes, checked((int)RowBytes));
}
