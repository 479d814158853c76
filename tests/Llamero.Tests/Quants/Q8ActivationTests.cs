using Llamero.Gguf;
using Llamero.Quants;
using Llamero.Tests.Oracle;

namespace Llamero.Tests.Quants;

/// <summary>The activation quantizers (vectorised per block on AVX2) on the blocks the random rows of the oracle test
/// never hold: infinities, all-zero blocks, and blocks whose quants saturate.</summary>
public class Q8ActivationTests
{
    [Theory]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    [InlineData(0f)]
    [InlineData(3e38f)]
    public void Odd_blocks_quantize_like_ggml_cpu_backend(float odd)
    {
        const int n = 8 * 32;
        var x = QuantRows.Make("gaussian", n, seed: 12);
        x[40] = odd;                      // one element of block 1
        for (var i = 64; i < 96; i++)     // all of block 2
            x[i] = odd;
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q8_1 })
        {
            var ours = new byte[GgmlTypes.Get(type).RowBytes(n)];
            var theirs = new byte[ours.Length];
            if (type == GgmlType.Q8_0)
                Q8_0.QuantizeForDot(x, ours);
            else
                Q8_1.QuantizeForDot(x, ours);
            GgmlNative.QuantizeRowCpu(type, x, theirs);
            Assert.Equal(theirs, ours);
        }
    }
}
