using Llamero.Gguf;
using Llamero.Quants.Interleaved;

namespace Llamero.Kernels;

/// <summary>
/// A 2-D weight tensor in ggml order: <see cref="Rows"/> rows of <see cref="Cols"/> elements of <see cref="Type"/>.
/// Plain (<see cref="Layout"/> null) it is viewed in place, usually inside the memory-mapped model file, each row
/// <see cref="RowBytes"/> bytes; repacked it is groups of rows interleaved by <see cref="Layout"/> in memory the
/// loader owns (<see cref="RepackedWeights"/>). y = W·x reads one row per output element.
/// </summary>
public readonly unsafe struct WeightMatrix(GgmlType type, nint data, int rows, int cols, WeightLayout? layout = null)
{
    public GgmlType Type { get; } = type;
    public nint Data { get; } = data;
    /// <summary>Output features (ggml ne[1]).</summary>
    public int Rows { get; } = rows;
    /// <summary>Input features, the row length (ggml ne[0]).</summary>
    public int Cols { get; } = cols;
    /// <summary>How rows are stored: null for plain rows one after another, else the interleaved layout.</summary>
    public WeightLayout? Layout { get; } = layout;
    /// <summary>Bytes of one row of <see cref="Type"/> (plain; a repacked matrix holds the same bytes rearranged).</summary>
    public long RowBytes => GgmlTypes.Get(Type).RowBytes(Cols);
    /// <summary>Bytes of the whole matrix as stored.</summary>
    public long ByteSize => Layout is { } l ? Rows / l.RowGroup * l.GroupBytes(Cols) : Rows * RowBytes;

    /// <summary>The bytes of row <paramref name="row"/> (plain matrices only).</summary>
    /// <exception cref="InvalidOperationException">The matrix is repacked: its rows are not stored one after another.</exception>
    public ReadOnlySpan<byte> Row(int row) => Layout is null
        ? new((byte*)Data + row * RowBytes, checked((int)RowBytes))
        : throw new InvalidOperationException($"A {Layout.Name} matrix is repacked; its rows are not stored one after another.");
}
