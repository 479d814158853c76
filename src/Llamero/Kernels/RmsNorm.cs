using System.Runtime.CompilerServices;
namespace Llamero.Kernels;

/// <summary>
/// Root-mean-square normalisation as ggml computes it: y = x / sqrt(mean(x²) + eps) · w, each square in float, their
/// sum accumulated in double, the scale in float.
/// </summary>
public static class RmsNorm
{
    /// <summary>Normalises each of the <paramref name="rows"/> rows of <paramref name="x"/> (row length
    /// <c>weight.Length</c>) into <paramref name="y"/>. x and y may be the same buffer.</summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, int rows, float epsilon) =>
        Apply(x, weight, y, rows, epsilon, SimdPath.Current);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, int rows, float epsilon, SimdLevel level)
    {
        var n = weight.Length;
        if (x.Length < rows * n || y.Length < rows * n)
            throw new ArgumentException($"RmsNorm: {rows} rows of {n} need {rows * n} floats; x has {x.Length}, y has {y.Length}.");
        for (var r = 0; r < rows; r++)
        {
            var row = x.Slice(r * n, n);
            var mean = VectorOps.SumOfSquares(row, level) / n;
            var scale = 1f / MathF.Sqrt((float)mean + epsilon);
            VectorOps.ScaleMultiply(row, scale, weight, y.Slice(r * n, n), level);
        }
    }

    /// <summary>The plain specification the fast path is tested against.</summary>
    internal static void Reference(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, float epsilon)
    {
        var sum = 0.0;
        foreach (var v in x)
            sum += v * v; // the square in float, as ggml
        var scale = 1f / MathF.Sqrt((float)(sum / x.Length) + epsilon);
        for (var i = 0; i < x.Length; i++)
            y[i] = x[i] * scale * weight[i];
    }
}
