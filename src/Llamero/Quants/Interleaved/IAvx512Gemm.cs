namespace Llamero.Quants.Interleaved;

/// <summary>
/// A layout with an AVX-512 Gemm kernel written over <see cref="IAvx512Ops"/>. Its <c>Gemm</c> runs it with
/// <see cref="Avx512Hardware"/> at <see cref="Kernels.SimdLevel.Avx512"/> where AVX-512 F + BW are supported and
/// <see cref="Avx512Kernels.GemmEnabled"/> is set (else the AVX2 kernel, the same bits); tests run it with
/// <see cref="Avx512Emulation"/> on any AVX2 CPU and compare it bit for bit with the AVX2 kernel.
/// </summary>
internal interface IAvx512Gemm
{
    /// <summary>
    /// <see cref="IInterleavedFormat.GemmRange"/> (<see cref="IInterleavedFormat.Gemm"/> when <paramref name="range"/> is
    /// <see cref="RowRange.Whole"/>, the only range a layout without <see cref="IInterleavedFormat.HasGemmRange"/> takes) by the
    /// AVX-512 kernel on <typeparamref name="TOps"/>: results and carry bit-identical to the layout's AVX2 kernel (and so to
    /// its Gemv at the AVX2 and AVX-512 levels).
    /// </summary>
    static abstract void GemmAvx512<TOps>(ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride, Span<float> carry, RowRange range) where TOps : struct, IAvx512Ops;
}
