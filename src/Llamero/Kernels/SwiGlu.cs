namespace Llamero.Kernels;

/// <summary>The SwiGLU feed-forward activation: gate ← silu(gate) · up, silu(x) = x / (1 + e^−x).</summary>
public static class SwiGlu
{
    /// <summary>gate[i] ← silu(gate[i]) · up[i] over gate.Length elements.</summary>
    public static void Apply(Span<float> gate, ReadOnlySpan<float> up) => VectorOps.SwiGlu(gate, up, SimdPath.Current);

    internal static void Apply(Span<float> gate, ReadOnlySpan<float> up, SimdLevel level) => VectorOps.SwiGlu(gate, up, level);

    /// <summary>The plain specification, in double.</summary>
    internal static float Reference(float gate, float up) => (float)(gate / (1.0 + Math.Exp(-gate)) * up);
}
