using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;

namespace Llamero.Tests.Quants;

/// <summary>A dot product forced onto one SIMD path.</summary>
internal delegate float DotWithFn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n);

/// <summary>A batch dot product (one weight row, several activation rows) forced onto one SIMD path.</summary>
internal delegate void DotBatchWithFn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride,
    int count, int n, Span<float> results, int resultStride);

/// <summary>What the K-quant tests need to know of a format beyond <see cref="QuantFormat"/>.</summary>
/// <param name="QuantRanges">Byte ranges of a block holding the quants (zeroed to isolate the offset part of each weight).</param>
/// <param name="HalfOffsets">Offsets of the fp16 scales in a block (kept finite in random blocks).</param>
internal sealed record KFormat(GgmlType Type, int BlockBytes, DotWithFn DotWith, DotBatchWithFn DotBatchWith,
    (int Start, int Length)[] QuantRanges, int[] HalfOffsets)
{
    public QuantFormat Format => QuantFormats.Get(Type);
    public override string ToString() => GgmlTypes.NameOf(Type);
}

/// <summary>Rows and blocks for the K-quant tests: random, and the adversarial shapes quantizers trip on.</summary>
internal static class KQuantTestData
{
    public static readonly KFormat[] Formats =
    [
        new(GgmlType.Q2_K, Q2_K.BlockBytes, Q2_K.DotWith, Q2_K.DotBatchWith, [(16, 64)], [80, 82]),
        new(GgmlType.Q3_K, Q3_K.BlockBytes, Q3_K.DotWith, Q3_K.DotBatchWith, [(0, 96)], [108]),
        new(GgmlType.Q4_K, Q4_K.BlockBytes, Q4_K.DotWith, Q4_K.DotBatchWith, [(16, 128)], [0, 2]),
        new(GgmlType.Q5_K, Q5_K.BlockBytes, Q5_K.DotWith, Q5_K.DotBatchWith, [(16, 160)], [0, 2]),
        new(GgmlType.Q6_K, Q6_K.BlockBytes, Q6_K.DotWith, Q6_K.DotBatchWith, [(0, 192)], [208]),
    ];

    public static KFormat Get(GgmlType type) => Formats.Single(f => f.Type == type);

    /// <summary>Row lengths that cover one block, odd and even block counts, and a real model width.</summary>
    public static readonly int[] Lengths = [256, 512, 768, 4096];

    public static readonly string[] RowKinds =
    [
        "gaussian", "uniform", "zeros", "constant", "negative-constant", "positive", "negative", "huge", "tiny",
        "subnormal-scale", "outlier", "group-magnitudes", "alternating", "sparse", "ramp",
    ];

    public static float[] Row(string kind, int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (var i = 0; i < n; i++)
        {
            var g = Gaussian(rng);
            x[i] = kind switch
            {
                "gaussian" => g,
                "uniform" => (float)(rng.NextDouble() * 2 - 1),
                "zeros" => 0f,
                "constant" => 0.5f,
                "negative-constant" => -3f,
                "positive" => MathF.Abs(g),
                "negative" => -MathF.Abs(g),
                "huge" => g * 5000f,
                "tiny" => g * 1e-6f,
                "subnormal-scale" => g * 1e-30f,
                "outlier" => i == n / 3 ? 100f : g * 0.01f,
                "group-magnitudes" => g * MathF.Pow(10, (i / 16 * 7919 % 7) - 3),
                "alternating" => i % 2 == 0 ? 1f : -1f,
                "sparse" => rng.Next(20) == 0 ? g * 4 : 0f,
                "ramp" => (i % 256) / 255f - 0.25f,
                _ => throw new ArgumentException(kind),
            };
        }
        return x;
    }

    /// <summary>Random bytes for <paramref name="blocks"/> blocks, with finite fp16 scales.</summary>
    public static byte[] RandomBlocks(KFormat f, int blocks, int seed)
    {
        var rng = new Random(seed);
        var bytes = new byte[blocks * f.BlockBytes];
        rng.NextBytes(bytes);
        for (var b = 0; b < blocks; b++)
            foreach (var off in f.HalfOffsets)
                BitConverter.TryWriteBytes(bytes.AsSpan(b * f.BlockBytes + off), (Half)(float)(rng.NextDouble() * 0.02));
        return bytes;
    }

    /// <summary>
    /// Σ_i (|w_i − o_i| + |o_i|)·|a_i| in double, where o is the row with its quants zeroed (the min/offset part):
    /// a bound on every partial sum a K-quant dot product forms, so float rounding is relative to it.
    /// </summary>
    public static double Magnitude(KFormat f, byte[] weights, byte[] activations, int n)
    {
        var w = new float[n];
        f.Format.Dequantize(weights, w);
        var zeroed = (byte[])weights.Clone();
        for (var b = 0; b < n / 256; b++)
            foreach (var (start, length) in f.QuantRanges)
                zeroed.AsSpan(b * f.BlockBytes + start, length).Clear();
        var o = new float[n];
        f.Format.Dequantize(zeroed, o);
        var a = new float[n];
        Q8_K.Dequantize(activations, a);
        double m = 0;
        for (var i = 0; i < n; i++)
            m += (Math.Abs((double)w[i] - o[i]) + Math.Abs((double)o[i])) * Math.Abs((double)a[i]);
        return m;
    }

    private static float Gaussian(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
