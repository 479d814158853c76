using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Tests.Quants.Interleaved;

/// <summary>
/// <see cref="Q4_0x8"/> beyond the shared contract: its byte order, every path giving the scalar path's bits (all run
/// the same float steps on exact integer sums), extreme scales and quants, and infinite or NaN scales (which the AVX2
/// kernels widen on a slower exact path).
/// </summary>
public class Q4_0x8Tests
{
    private const int Rows = 8;
    private const int BlockBytes = 18;
    private const int ActivationBlockBytes = 34;

    private static readonly WeightLayout Layout = WeightLayout.Of<Q4_0x8>("Q4_0x8");

    [Fact]
    public void Is_the_default_layout_of_Q4_0()
    {
        Assert.Equal("Q4_0x8", InterleavedLayouts.Default(GgmlType.Q4_0)?.Name);
        Assert.Equal(2 * 144, Layout.GroupBytes(64));
    }

    [Fact]
    public void Pack_puts_scales_first_then_four_byte_slices_of_each_row()
    {
        const int cols = 64;
        var plain = new byte[Rows * 2 * BlockBytes];
        for (var i = 0; i < plain.Length; i++)
            plain[i] = (byte)(i * 7 + 3);
        var group = new byte[Layout.GroupBytes(cols)];
        Layout.Pack(plain, cols, group);
        for (var k = 0; k < 2; k++)
            for (var r = 0; r < Rows; r++)
            {
                var block = plain.AsSpan(r * 2 * BlockBytes + k * BlockBytes, BlockBytes);
                var packed = group.AsSpan(k * 144, 144);
                Assert.Equal(block[..2].ToArray(), packed.Slice(2 * r, 2).ToArray());
                for (var c = 0; c < 4; c++)
                    Assert.Equal(block.Slice(2 + 4 * c, 4).ToArray(), packed.Slice(16 + 32 * c + 4 * r, 4).ToArray());
            }
    }

    [Theory]
    [InlineData(32)]
    [InlineData(256)]
    [InlineData(2048)]
    [InlineData(2400)] // 75 blocks: past the 64-block activation-sum table, eight-block passes and a tail of three
    public void Every_path_gives_the_scalar_bits(int cols)
    {
        var plain = InterleavedLayoutTests.PlainRows(GgmlType.Q4_0, Rows, cols, seed: cols);
        var group = InterleavedLayoutTests.Pack(Layout, plain, cols);
        var act = QuantCases.Activations(GgmlType.Q4_0, QuantRows.Make("mixed-signs", cols, seed: 5));
        AssertPathsAgree(group, act, cols, $"cols {cols}");
    }

    [Theory]
    [InlineData(0x7BFF, 0, (sbyte)-128)]   // largest half, every q − 8 = −8, activations −128
    [InlineData(0xFBFF, 15, (sbyte)127)]   // most negative half, q − 8 = 7
    [InlineData(0x0001, 0, (sbyte)127)]    // smallest subnormal half
    [InlineData(0x3C00, 8, (sbyte)-128)]   // q − 8 = 0: the 8·Σa correction cancels exactly
    public void Extreme_scales_and_quants_match_the_plain_dot(int scale, int nibble, sbyte quant)
    {
        const int cols = 96;
        var plain = Uniform(cols, (ushort)scale, (byte)(nibble | nibble << 4));
        // Row r differs: its last block takes nibbles r and 15 − r.
        for (var r = 0; r < Rows; r++)
            plain.AsSpan(r * 3 * BlockBytes + 2 * BlockBytes + 2, 16).Fill((byte)(r | (15 - r) << 4));
        var act = Activations(cols, 0x7BFF, quant);
        var group = InterleavedLayoutTests.Pack(Layout, plain, cols);
        AssertPathsAgree(group, act, cols, $"scale {scale:X4} nibble {nibble} quant {quant}");
        var results = new float[Rows];
        Layout.Gemv(SimdLevel.Scalar, group, act, cols, results);
        for (var r = 0; r < Rows; r++)
        {
            var expected = Q4_0.DotReference(plain.AsSpan(r * 3 * BlockBytes, 3 * BlockBytes), act, cols);
            Assert.True(Math.Abs(results[r] - expected) <= 2e-6 * Math.Max(1, Math.Abs(expected)) || results[r] == expected,
                $"row {r}: {results[r]:R} vs plain {expected:R}");
        }
    }

    [Theory]
    [InlineData(0x7C00)] // +infinity
    [InlineData(0xFC00)] // −infinity
    [InlineData(0x7E00)] // NaN
    public void Infinite_or_NaN_scales_give_what_the_plain_dot_gives(int special)
    {
        const int cols = 64;
        var plain = InterleavedLayoutTests.PlainRows(GgmlType.Q4_0, Rows, cols, seed: 11);
        // Row 3's second block gets the special scale, its first a negative one (whose sign bit must not hide the special
        // half from a check that looks for the largest magnitude).
        plain[3 * 2 * BlockBytes] = 0x00;
        plain[3 * 2 * BlockBytes + 1] = 0xB8; // −0.5
        plain[3 * 2 * BlockBytes + BlockBytes] = (byte)special;
        plain[3 * 2 * BlockBytes + BlockBytes + 1] = (byte)(special >> 8);
        var group = InterleavedLayoutTests.Pack(Layout, plain, cols);
        var act = QuantCases.Activations(GgmlType.Q4_0, QuantRows.Make("gaussian", cols, seed: 12));
        AssertPathsAgree(group, act, cols, $"scale {special:X4}");
        var results = new float[Rows];
        Layout.Gemv(SimdPath.Best, group, act, cols, results);
        var expected = Q4_0.DotReference(plain.AsSpan(3 * 2 * BlockBytes, 2 * BlockBytes), act, cols);
        Assert.Equal(float.IsNaN(expected), float.IsNaN(results[3]));
        if (!float.IsNaN(expected))
            Assert.Equal(expected, results[3]);
        Assert.True(float.IsFinite(results[2]) && float.IsFinite(results[4]), "the other rows stay finite");
    }

    /// <summary>Gemv on every supported path, and Gemm of 1..9 copies of the row, give the scalar Gemv's bits.</summary>
    private static void AssertPathsAgree(byte[] group, byte[] act, int cols, string what)
    {
        var expected = new float[Rows];
        Layout.Gemv(SimdLevel.Scalar, group, act, cols, expected);
        foreach (var level in SimdPath.Supported)
        {
            var results = new float[Rows];
            Layout.Gemv(level, group, act, cols, results);
            AssertBits(expected, results, $"{what} Gemv {level}");
            foreach (var count in new[] { 1, 9, 17 })
            {
                var acts = new byte[count * act.Length];
                for (var b = 0; b < count; b++)
                    act.CopyTo(acts, b * act.Length);
                var batch = new float[count * Rows];
                Layout.Gemm(level, group, acts, act.Length, count, cols, batch, Rows);
                for (var b = 0; b < count; b++)
                    AssertBits(expected, batch.AsSpan(b * Rows, Rows).ToArray(), $"{what} Gemm {level} count {count} row {b}");
            }
        }
    }

    private static void AssertBits(float[] expected, float[] actual, string what)
    {
        for (var r = 0; r < Rows; r++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[r]) == BitConverter.SingleToInt32Bits(actual[r]),
                $"{what} row {r}: {actual[r]:R}, scalar {expected[r]:R}");
    }

    // Eight plain rows of cols / 32 blocks, every block with scale bits d and nibble byte q.
    private static byte[] Uniform(int cols, ushort d, byte q)
    {
        var blocks = cols / 32;
        var plain = new byte[Rows * blocks * BlockBytes];
        for (var b = 0; b < Rows * blocks; b++)
        {
            plain[b * BlockBytes] = (byte)d;
            plain[b * BlockBytes + 1] = (byte)(d >> 8);
            plain.AsSpan(b * BlockBytes + 2, 16).Fill(q);
        }
        return plain;
    }

    // A Q8_0 row of cols / 32 blocks, every quant q and scale bits d, except every fifth quant negated (sign mix).
    private static byte[] Activations(int cols, ushort d, sbyte q)
    {
        var blocks = cols / 32;
        var act = new byte[blocks * ActivationBlockBytes];
        for (var k = 0; k < blocks; k++)
        {
            act[k * ActivationBlockBytes] = (byte)d;
            act[k * ActivationBlockBytes + 1] = (byte)(d >> 8);
            for (var j = 0; j < 32; j++)
                act[k * ActivationBlockBytes + 2 + j] = (byte)(j % 5 == 4 && q != sbyte.MinValue ? -q : q);
        }
        return act;
    }
}
