namespace Llamero.Tests.Quants;

/// <summary>
/// Deterministic float rows for quantization tests: random ones and the adversarial shapes that break
/// quantizers (zeros, constants, huge and tiny magnitudes, one outlier per block, ties at rounding points).
/// </summary>
internal static class QuantRows
{
    /// <summary>Names of every row kind <see cref="Make"/> builds.</summary>
    public static readonly string[] Kinds =
    [
        "gaussian", "uniform", "zeros", "constant", "negative-constant", "huge", "tiny", "subnormal",
        "mixed-signs", "outlier", "halves", "max-float", "ramp", "sparse",
    ];

    public static TheoryData<string> KindData() => new(Kinds);

    /// <summary>A row of <paramref name="n"/> floats of the given kind.</summary>
    public static float[] Make(string kind, int n, int seed = 1)
    {
        var rng = new Random(seed * 7919 + kind.Sum(c => c)); // string hashes vary per process
        var x = new float[n];
        for (var i = 0; i < n; i++)
        {
            x[i] = kind switch
            {
                "gaussian" => Gaussian(rng),
                "uniform" => (float)(rng.NextDouble() * 2 - 1),
                "zeros" => 0f,
                "constant" => 0.75f,
                "negative-constant" => -3.25f,
                "huge" => Gaussian(rng) * 1e30f,
                "tiny" => Gaussian(rng) * 1e-30f,
                "subnormal" => Gaussian(rng) * 1e-40f,
                "mixed-signs" => (i % 2 == 0 ? 1 : -1) * (float)(rng.NextDouble() * 100),
                "outlier" => i % 32 == 5 ? -1000f : Gaussian(rng) * 0.01f,
                // Values whose scaled forms land on .5 boundaries.
                "halves" => (rng.Next(-32, 33) + 0.5f) / 4f,
                "max-float" => (i % 3 == 0 ? float.MaxValue : i % 3 == 1 ? -float.MaxValue : 1f) * (float)rng.NextDouble(),
                "ramp" => i - n / 2f,
                "sparse" => rng.Next(10) == 0 ? Gaussian(rng) : 0f,
                _ => throw new ArgumentException(kind),
            };
        }
        return x;
    }

    /// <summary>A standard normal sample (Box–Muller).</summary>
    public static float Gaussian(Random rng) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
}
