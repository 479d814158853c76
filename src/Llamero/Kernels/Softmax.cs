using System.Runtime.CompilerServices;
namespace Llamero.Kernels;

/// <summary>Numerically stable softmax in place (subtract the max, exponentiate, normalise), as ggml's soft_max.</summary>
public static class Softmax
{
    /// <summary>x ← softmax(x).</summary>
    public static void Apply(Span<float> x) => Apply(x, SimdPath.Current);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Apply(Span<float> x, SimdLevel level)
    {
        if (x.IsEmpty)
            return;
        var max = VectorOps.Max(x, level);
        var sum = VectorOps.ExpSubtractSum(x, max, level);
        VectorOps.Scale(x, (float)(1.0 / sum), level);
    }

    /// <summary>The plain specification, in double.</summary>
    internal static void Reference(Span<float> x)
    {
        var max = double.NegativeInfinity;
        foreach (var v in x)
            max = Math.Max(max, v);
        var sum = 0.0;
        for (var i = 0; i < x.Length; i++)
            sum += Math.Exp(x[i] - max);
        for (var i = 0; i < x.Length; i++)
            x[i] = (float)(Math.Exp(x[i] - max) / sum);
    }
}
