using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// Run-time handle on an interleaved weight layout (an <see cref="IInterleavedFormat"/>): how to pack a matrix of its
/// format at load time and which matmul kernel reads it. A <see cref="WeightMatrix"/> whose
/// <see cref="WeightMatrix.Layout"/> is null is plain rows.
/// </summary>
public sealed unsafe class WeightLayout
{
    internal delegate void PackGroup(ReadOnlySpan<byte> plainRows, int cols, Span<byte> group);

    internal delegate void GemvOn(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activation, int cols, Span<float> results);

    internal delegate void GemmOn(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count,
        int cols, Span<float> results, int resultStride);

    internal delegate void GemmRangeOn(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count,
        int cols, Span<float> results, int resultStride, Span<float> carry, RowRange range);

    private readonly Func<int, long> _groupBytes;

    private WeightLayout(string name, GgmlType type, int rowGroup, Func<int, long> groupBytes, PackGroup pack, PackGroup unpack,
        GemvOn gemv, GemmOn gemm, GemmRangeOn? gemmRange, int gemmCarry, delegate*<in MatMulPart, int, int, void> kernel)
    {
        GemmRange = gemmRange;
        GemmCarry = gemmCarry;
        Gemv = gemv;
        Gemm = gemm;
        Name = name;
        Type = type;
        RowGroup = rowGroup;
        _groupBytes = groupBytes;
        Pack = pack;
        Unpack = unpack;
        Kernel = kernel;
    }

    /// <summary>The layout's name (for logs and benchmarks), e.g. <c>Q4_Kx8</c>.</summary>
    public string Name { get; }

    /// <summary>The plain format whose rows it interleaves.</summary>
    public GgmlType Type { get; }

    /// <summary>Rows stored together.</summary>
    public int RowGroup { get; }

    /// <summary>Bytes of one group of <see cref="RowGroup"/> rows of <paramref name="cols"/> elements.</summary>
    public long GroupBytes(int cols) => _groupBytes(cols);

    /// <summary>True when a matrix of <paramref name="rows"/> x <paramref name="cols"/> can take this layout.</summary>
    public bool Fits(int rows, int cols) => rows > 0 && rows % RowGroup == 0 && cols % GgmlTypes.Get(Type).BlockSize == 0;

    internal PackGroup Pack { get; }

    internal PackGroup Unpack { get; }

    /// <summary>The layout's <see cref="IInterleavedFormat.Gemv"/> (tests and benchmarks call it per path).</summary>
    internal GemvOn Gemv { get; }

    /// <summary>The layout's <see cref="IInterleavedFormat.Gemm"/>.</summary>
    internal GemmOn Gemm { get; }

    /// <summary>The layout's <see cref="IInterleavedFormat.GemmRange"/>, or null when it has none.</summary>
    internal GemmRangeOn? GemmRange { get; }

    /// <summary>True when the layout can split a row in column ranges (<see cref="IInterleavedFormat.HasGemmRange"/>).</summary>
    internal bool HasGemmRange => GemmRange is not null;

    /// <summary>Floats per activation row a <see cref="GemmRange"/> call carries (<see cref="IInterleavedFormat.GemmCarry"/>).</summary>
    internal int GemmCarry { get; }

    /// <summary>The matmul kernel (<see cref="InterleavedKernel{T}.Rows"/>).</summary>
    internal delegate*<in MatMulPart, int, int, void> Kernel { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;

    internal static WeightLayout Of<T>(string name) where T : IInterleavedFormat =>
        T.RowGroup is 4 or 8
            ? new(name, T.Type, T.RowGroup, T.GroupBytes, T.Pack, T.Unpack, T.Gemv, T.Gemm, T.HasGemmRange ? T.GemmRange : null, T.GemmCarry,
                &InterleavedKernel<T>.Rows)
            : throw new ArgumentException($"{name}: a row group of {T.RowGroup} does not divide 8.");
}
