using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// Every SIMD path of a format's dot product, selectable per call, so tests and benchmarks run each path side
/// by side without touching the process-wide <see cref="SimdPath.Current"/>. <see cref="IQuantFormat.Dot"/> is
/// <c>DotOn(SimdPath.Current, ...)</c>; <see cref="SimdLevel.Scalar"/> is <see cref="IQuantFormat.DotReference"/>.
/// </summary>
internal interface ISimdDot
{
    /// <summary>The dot product computed by the <paramref name="level"/> path (which the CPU must support).</summary>
    static abstract float DotOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n);

    /// <summary><see cref="IQuantFormat.DotBatch"/> computed by the <paramref name="level"/> path (which the CPU must
    /// support); each result bit-identical to <see cref="DotOn"/> on the same path.</summary>
    static abstract void DotBatchOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride,
        int count, int n, Span<float> results, int resultStride);
}
