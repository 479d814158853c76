using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;

namespace Llamero.Tests.Quants;

/// <summary>
/// Every SIMD path this CPU runs against the scalar reference, on lengths that hit every tail. Integer block
/// sums are exact on every path, so paths differ only in the order the per-block float terms are added: the
/// difference is bounded by (blocks + 2)·2⁻²³·Σ|wᵢ·aᵢ| (a float sum of k terms errs by at most k·ε·Σ|terms|;
/// Σ|wᵢ·aᵢ| over dequantized values bounds Σ|terms|).
/// </summary>
public class SimdPathTests
{
    public static TheoryData<GgmlType, SimdLevel> TypesAndPaths()
    {
        var data = new TheoryData<GgmlType, SimdLevel>();
        foreach (var t in QuantCases.Paths.Keys)
            foreach (var level in SimdPath.Supported)
                data.Add(t, level);
        return data;
    }

    [Theory]
    [MemberData(nameof(TypesAndPaths))]
    public void Path_agrees_with_scalar_reference(GgmlType type, SimdLevel level)
    {
        var format = QuantFormats.Get(type);
        var partner = QuantFormats.Get(format.DotPartner);
        foreach (var n in QuantCases.TailLengths(type))
        {
            foreach (var kind in new[] { "gaussian", "outlier", "mixed-signs", "zeros", "sparse" })
            {
                var w = QuantCases.Quantize(type, QuantRows.Make(kind, n));
                var a = QuantCases.Activations(type, QuantRows.Make("gaussian", n, seed: 9));
                var expected = format.DotReference(w, a, n);
                var actual = QuantCases.Paths[type](level, w, a, n);
                var wf = QuantCases.Dequantize(type, w, n);
                var af = new float[n];
                partner.Dequantize(a, af);
                var magnitude = Magnitude(type, w, wf, a, af);
                var blocks = n / format.Traits.BlockSize;
                var bound = (blocks + 2) * Math.Pow(2, -23) * magnitude;
                Assert.True(Math.Abs(actual - (double)expected) <= bound,
                    $"{type} {level} n={n} {kind}: scalar {expected:R}, path {actual:R}, bound {bound:R}");
            }
        }
    }

    /// <summary>Σ|terms| of the dot: Σ|wᵢ·aᵢ|, or for the formats with a block minimum m (w = d·q + m, dotted
    /// with Q8_1's s = d·Σq) Σ|(wᵢ − m)·aᵢ| + Σ|m·s| over blocks.</summary>
    private static double Magnitude(GgmlType type, byte[] w, float[] wf, byte[] a, float[] af)
    {
        var hasMin = type is GgmlType.Q4_1 or GgmlType.Q5_1;
        var blockBytes = GgmlTypes.Get(type).BytesPerBlock;
        var magnitude = 0.0;
        for (var i = 0; i < wf.Length; i++)
        {
            var m = hasMin ? (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(w, i / 32 * blockBytes + 2)) : 0;
            magnitude += Math.Abs((wf[i] - m) * af[i]);
        }
        for (var b = 0; hasMin && b < wf.Length / 32; b++)
        {
            var m = (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(w, b * blockBytes + 2));
            var sa = (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(a, b * 36 + 2));
            magnitude += Math.Abs(m * sa);
        }
        return magnitude;
    }

    [Theory]
    [MemberData(nameof(QuantCases.Types), MemberType = typeof(QuantCases))]
    public void Dot_uses_the_current_path(GgmlType type)
    {
        var n = 8 * GgmlTypes.Get(type).BlockSize * (QuantCases.IsFloat(type) ? 16 : 1);
        var w = QuantCases.Quantize(type, QuantRows.Make("gaussian", n));
        var a = QuantCases.Activations(type, QuantRows.Make("uniform", n));
        Assert.Equal(QuantCases.Paths[type](SimdPath.Current, w, a, n), QuantFormats.Get(type).Dot(w, a, n));
    }
}
