using System.Runtime.InteropServices;
using Llamero.Quants.Interleaved;

namespace Llamero.Kernels;

/// <summary>
/// Owns the memory of weight matrices repacked at load time into an interleaved layout (llama.cpp's CPU "repack"
/// buffer): <see cref="Repack"/> copies a plain matrix out of the mapped file, group by group and in parallel, into
/// 64-byte aligned native memory. The model loader then releases the mapped pages it read
/// (<see cref="Gguf.GgufFile.ReleaseTensorPages"/>), so the copy replaces the file's pages in resident memory instead of
/// doubling it. Dispose after the sessions that use the matrices.
/// </summary>
public sealed unsafe class RepackedWeights : IDisposable
{
    private readonly Func<Gguf.GgmlType, WeightLayout?> _layoutFor;
    private readonly List<nint> _allocations = [];
    private bool _disposed;

    /// <summary>Repacks each format into its default layout (<see cref="InterleavedLayouts.Default"/>).</summary>
    public RepackedWeights()
        : this(type => InterleavedLayouts.Default(type))
    {
    }

    /// <summary>Repacks each format into the layout <paramref name="layoutFor"/> names (null: keep plain).</summary>
    public RepackedWeights(Func<Gguf.GgmlType, WeightLayout?> layoutFor)
    {
        ArgumentNullException.ThrowIfNull(layoutFor);
        _layoutFor = layoutFor;
    }

    /// <summary>Bytes of native memory the repacked matrices hold.</summary>
    public long Bytes { get; private set; }

    /// <summary>Matrices repacked so far.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// <paramref name="plain"/> in its format's layout when there is one and the shape fits it (whole row groups),
    /// else <paramref name="plain"/> itself. The plain matrix's bytes are not read again afterwards.
    /// </summary>
    public WeightMatrix Repack(in WeightMatrix plain)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (plain.Layout is not null || _layoutFor(plain.Type) is not { } layout || !layout.Fits(plain.Rows, plain.Cols))
            return plain;
        var cols = plain.Cols;
        var groups = plain.Rows / layout.RowGroup;
        var groupBytes = layout.GroupBytes(cols);
        var plainGroupBytes = layout.RowGroup * plain.RowBytes;
        var total = groups * groupBytes;
        var memory = (byte*)NativeMemory.AlignedAlloc((nuint)total, 64);
        _allocations.Add((nint)memory);
        Bytes += total;
        Count++;
        var source = (byte*)plain.Data;
        Parallel.For(0, groups, g => layout.Pack(
            new ReadOnlySpan<byte>(source + g * plainGroupBytes, checked((int)plainGroupBytes)), cols,
            new Span<byte>(memory + g * groupBytes, checked((int)groupBytes))));
        return new WeightMatrix(plain.Type, (nint)memory, plain.Rows, cols, layout);
    }

    /// <summary>Frees the repacked matrices; they must no longer be used.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        foreach (var p in _allocations)
            NativeMemory.AlignedFree((void*)p);
        _allocations.Clear();
    }
}
