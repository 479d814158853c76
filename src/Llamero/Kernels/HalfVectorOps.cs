using Llamero.Quants;

namespace Llamero.Kernels;

/// <summary>The F16 roundings of attention over an F16 KV cache (see <see cref="CacheAttention"/>).</summary>
internal static class HalfVectorOps
{
    // Floats rounded per pass of RoundThroughHalf (a stack buffer of halves).
    private const int Chunk = 256;

    /// <summary>Replaces each value by its nearest half, widened back: what ggml's conversion of a matmul operand to
    /// F16 does to it (vectorised through <see cref="Fp16.FromSingle"/> and <see cref="Fp16.ToSingle"/>).</summary>
    public static void RoundThroughHalf(Span<float> x)
    {
        Span<ushort> halves = stackalloc ushort[Chunk];
        for (var i = 0; i < x.Length; i += Chunk)
        {
            var part = x.Slice(i, Math.Min(Chunk, x.Length - i));
            var h = halves[..part.Length];
            Fp16.FromSingle(part, h);
            Fp16.ToSingle(h, part);
        }
    }

    /// <summary>The specification of <see cref="RoundThroughHalf"/>, one value at a time.</summary>
    public static void RoundThroughHalfReference(Span<float> x)
    {
        for (var i = 0; i < x.Length; i++)
            x[i] = Fp16.ToFloat(Fp16.FromFloat(x[i]));
    }
}
