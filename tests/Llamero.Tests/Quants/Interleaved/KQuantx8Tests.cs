using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Tests.Quants.Interleaved;

/// <summary>
/// The 8-row K-quant layout (<see cref="KQuantx8{TAvx2, TPortable}"/>) for every format it serves, registered or
/// not: at most 4% larger than the plain rows (Q3_K's widened scales), lossless, and on the machine's own path bit-identical to the plain dot of
/// each row (so a repacked model gives the plain model's logits, which the llama.cpp comparisons rely on).
/// </summary>
public class KQuantx8Tests
{
    private static WeightLayout Layout(string type) => type switch
    {
        "Q2_K" => WeightLayout.Of<KQuantx8<Q2_K.Avx2Block, Q2_K.PortableBlock>>("Q2_Kx8"),
        "Q3_K" => WeightLayout.Of<KQuantx8<Q3_K.Avx2Block, Q3_K.PortableBlock>>("Q3_Kx8"),
        "Q5_K" => WeightLayout.Of<KQuantx8<Q5_K.Avx2Block, Q5_K.PortableBlock>>("Q5_Kx8"),
        _ => throw new ArgumentException(type),
    };

    [Theory]
    [InlineData("Q2_K")]
    [InlineData("Q3_K")]
    [InlineData("Q5_K")]
    public void Group_is_at_most_4_percent_larger_than_the_plain_rows_and_unpacks_to_them(string type)
    {
        var layout = Layout(type);
        foreach (var cols in new[] { 256, 768, 4096 })
        {
            var plainBytes = 8 * GgmlTypes.Get(layout.Type).RowBytes(cols);
            Assert.InRange(layout.GroupBytes(cols), plainBytes, plainBytes * 104 / 100);
            var plain = InterleavedLayoutTests.PlainRows(layout.Type, 8, cols, seed: cols + 5);
            var group = InterleavedLayoutTests.Pack(layout, plain, cols);
            var back = new byte[plain.Length];
            layout.Unpack(group, cols, back);
            Assert.Equal(plain, back);
        }
    }

    [Theory]
    [InlineData("Q2_K")]
    [InlineData("Q3_K")]
    [InlineData("Q5_K")]
    public void Gemv_and_Gemm_are_bit_identical_to_the_plain_dot_on_the_current_path(string type)
    {
        var layout = Layout(type);
        var format = QuantFormats.Get(layout.Type);
        foreach (var cols in new[] { 256, 1280 })
        {
            var rowBytes = (int)format.Traits.RowBytes(cols);
            var actBytes = (int)GgmlTypes.Get(format.DotPartner).RowBytes(cols);
            var plain = InterleavedLayoutTests.PlainRows(layout.Type, 8, cols, seed: 11 * cols);
            var group = InterleavedLayoutTests.Pack(layout, plain, cols);
            const int count = 6;
            var acts = new byte[count * actBytes];
            for (var b = 0; b < count; b++)
                QuantCases.Activations(layout.Type, QuantRows.Make(b % 2 == 0 ? "outlier" : "mixed-signs", cols, seed: 90 + b)).CopyTo(acts, b * actBytes);
            var gemm = new float[count * 8];
            layout.Gemm(SimdPath.Current, group, acts, actBytes, count, cols, gemm, 8);
            var gemv = new float[8];
            for (var b = 0; b < count; b++)
            {
                var act = acts.AsSpan(b * actBytes, actBytes);
                layout.Gemv(SimdPath.Current, group, act, cols, gemv);
                for (var j = 0; j < 8; j++)
                {
                    var expected = format.Dot(plain.AsSpan(j * rowBytes, rowBytes), act, cols);
                    Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(gemv[j]),
                        $"{type} cols {cols} act {b} row {j}: plain {expected:R}, Gemv {gemv[j]:R}");
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(gemm[8 * b + j]));
                }
            }
        }
    }

    [Fact]
    public void Subnormal_and_negative_block_scales_convert_exactly()
    {
        var layout = Layout("Q2_K");
        var plain = InterleavedLayoutTests.PlainRows(GgmlType.Q2_K, 8, 256, seed: 3);
        // d and dmin of each row's block (offsets 80, 82): subnormal, negative and zero halves.
        ushort[] halves = [0x0001, 0x03FF, 0x8200, 0x0000, 0x0400, 0x7BFF, 0xC000, 0x1234];
        for (var r = 0; r < 8; r++)
        {
            BitConverter.TryWriteBytes(plain.AsSpan(r * 84 + 80, 2), halves[r]);
            BitConverter.TryWriteBytes(plain.AsSpan(r * 84 + 82, 2), halves[7 - r]);
        }
        var group = InterleavedLayoutTests.Pack(layout, plain, 256);
        var act = QuantCases.Activations(GgmlType.Q2_K, QuantRows.Make("gaussian", 256, seed: 4));
        var results = new float[8];
        layout.Gemv(SimdPath.Current, group, act, 256, results);
        for (var r = 0; r < 8; r++)
            Assert.Equal(BitConverter.SingleToInt32Bits(Q2_K.Dot(plain.AsSpan(r * 84, 84), act, 256)), BitConverter.SingleToInt32Bits(results[r]));
    }
}
