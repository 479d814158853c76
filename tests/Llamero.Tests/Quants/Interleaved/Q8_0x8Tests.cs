using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Tests.Quants.Interleaved;

/// <summary>
/// <see cref="Q8_0x8"/> beyond the shared contract: the byte layout it promises, saturating values (weights of -128 and
/// 127 everywhere, activations of ±127, where AVX2's byte-pair products come closest to int16's limits) and special
/// scales on every path, and a prompt tile of every size that mixes the four-row and one-row kernels.
/// </summary>
public class Q8_0x8Tests
{
    private const int Rows = 8;
    private const int BlockBytes = 34;

    private static readonly WeightLayout Layout = InterleavedLayouts.Default(GgmlType.Q8_0)!;

    /// <summary>Plain Q8_0 rows built byte by byte: every scale <paramref name="d"/>, quants from <paramref name="quant"/>(row, element).</summary>
    private static byte[] Rows8(int cols, ushort d, Func<int, int, sbyte> quant)
    {
        var blocks = cols / 32;
        var bytes = new byte[Rows * blocks * BlockBytes];
        for (var r = 0; r < Rows; r++)
            for (var k = 0; k < blocks; k++)
            {
                var block = bytes.AsSpan((r * blocks + k) * BlockBytes, BlockBytes);
                BitConverter.TryWriteBytes(block, d);
                for (var i = 0; i < 32; i++)
                    block[2 + i] = (byte)quant(r, k * 32 + i);
            }
        return bytes;
    }

    private static byte[] Activation(int cols, ushort d, Func<int, sbyte> quant) => Rows8(cols, d, (_, i) => quant(i))[..(cols / 32 * BlockBytes)];

    private static float[] Reference(byte[] plain, byte[] act, int cols)
    {
        var rowBytes = cols / 32 * BlockBytes;
        return [.. Enumerable.Range(0, Rows).Select(j => Q8_0.DotReference(plain.AsSpan(j * rowBytes, rowBytes), act, cols))];
    }

    [Fact]
    public void Is_the_default_layout_of_Q8_0()
    {
        Assert.Equal("Q8_0x8", Layout.Name);
        Assert.Equal(Rows, Layout.RowGroup);
        Assert.Equal(Rows * GgmlTypes.Get(GgmlType.Q8_0).RowBytes(4096), Layout.GroupBytes(4096));
    }

    [Fact]
    public void Packs_scales_first_then_four_quants_of_each_row_per_slice()
    {
        const int cols = 64;
        var plain = Rows8(cols, 0, (r, i) => (sbyte)(r * 16 + i % 16 - 64));
        for (var r = 0; r < Rows; r++)
            for (var k = 0; k < 2; k++)
                BitConverter.TryWriteBytes(plain.AsSpan((r * 2 + k) * BlockBytes), (ushort)(0x3C00 + 10 * r + k));
        var group = InterleavedLayoutTests.Pack(Layout, plain, cols);
        for (var k = 0; k < 2; k++)
            for (var r = 0; r < Rows; r++)
            {
                Assert.Equal((ushort)(0x3C00 + 10 * r + k), BitConverter.ToUInt16(group, k * 272 + 2 * r));
                for (var i = 0; i < 32; i++)
                    Assert.Equal(plain[(r * 2 + k) * BlockBytes + 2 + i], group[k * 272 + 16 + i / 4 * 32 + 4 * r + i % 4]);
            }
    }

    [Fact]
    public void Every_path_packs_random_rows_into_the_documented_layout()
    {
        const int cols = 4096 + 32;
        var random = new Random(17);
        var plain = new byte[Rows * cols / 32 * BlockBytes];
        random.NextBytes(plain);
        var blocks = cols / 32;
        var expected = new byte[blocks * 272];
        for (var k = 0; k < blocks; k++)
            for (var r = 0; r < Rows; r++)
            {
                var block = (r * blocks + k) * BlockBytes;
                expected[k * 272 + 2 * r] = plain[block];
                expected[k * 272 + 2 * r + 1] = plain[block + 1];
                for (var i = 0; i < 32; i++)
                    expected[k * 272 + 16 + i / 4 * 32 + 4 * r + i % 4] = plain[block + 2 + i];
            }
        foreach (var level in SimdPath.Supported)
        {
            var group = new byte[expected.Length];
            Q8_0x8.PackBlocks(level, ref plain[0], blocks * BlockBytes, blocks, ref group[0]);
            Assert.True(expected.AsSpan().SequenceEqual(group), $"{level}");
        }
    }

    public static TheoryData<sbyte, sbyte> Extremes() => new()
    {
        { -128, 127 }, { -128, -127 }, { 127, 127 }, { 127, -127 }, { -128, 0 },
    };

    [Theory]
    [MemberData(nameof(Extremes))]
    public void Extreme_quants_everywhere_give_the_reference_sum_on_every_path(sbyte weight, sbyte activation)
    {
        const int cols = 4096;
        // Largest normal fp16 scales would overflow the float sum; 1.0 keeps the exact integer visible.
        var plain = Rows8(cols, 0x3C00, (_, _) => weight);
        var act = Activation(cols, 0x3C00, _ => activation);
        var expected = Reference(plain, act, cols);
        Assert.Equal((float)weight * activation * cols, expected[0]);
        AssertEveryPath(plain, act, cols, expected, exact: true);
    }

    [Fact]
    public void Alternating_extremes_and_row_dependent_signs_match_the_reference()
    {
        const int cols = 1024;
        var plain = Rows8(cols, 0x2E66, (r, i) => (sbyte)((i + r) % 3 == 0 ? -128 : (i * 7 + r) % 2 == 0 ? 127 : -127));
        var act = Activation(cols, 0x1C00, i => (sbyte)(i % 5 == 0 ? -127 : 127));
        AssertEveryPath(plain, act, cols, Reference(plain, act, cols), exact: false);
    }

    [Theory]
    [InlineData((ushort)0x7C00)] // infinity
    [InlineData((ushort)0x0001)] // smallest subnormal
    [InlineData((ushort)0x7BFF)] // largest finite
    public void Special_scales_agree_with_the_reference(ushort d)
    {
        const int cols = 96;
        var plain = Rows8(cols, d, (r, i) => (sbyte)(r - i % 9));
        var act = Activation(cols, 0x3800, i => (sbyte)(i % 11 - 5));
        AssertEveryPath(plain, act, cols, Reference(plain, act, cols), exact: false);
    }

    [Fact]
    public void Every_tile_size_is_bit_identical_to_Gemv_row_by_row()
    {
        const int cols = 256;
        var plain = InterleavedLayoutTests.PlainRows(GgmlType.Q8_0, Rows, cols, seed: 11);
        var group = InterleavedLayoutTests.Pack(Layout, plain, cols);
        var rowBytes = cols / 32 * BlockBytes;
        for (var count = 1; count <= 16; count++)
        {
            var acts = new byte[count * rowBytes];
            for (var b = 0; b < count; b++)
                QuantCases.Activations(GgmlType.Q8_0, QuantRows.Make("mixed-signs", cols, seed: b)).CopyTo(acts, b * rowBytes);
            foreach (var level in SimdPath.Supported)
            {
                var results = new float[count * Rows];
                Layout.Gemm(level, group, acts, rowBytes, count, cols, results, Rows);
                var single = new float[Rows];
                for (var b = 0; b < count; b++)
                {
                    Layout.Gemv(level, group, acts.AsSpan(b * rowBytes, rowBytes), cols, single);
                    Assert.Equal(single, results.AsSpan(b * Rows, Rows).ToArray());
                }
            }
        }
    }

    [Fact]
    public void Short_buffers_are_rejected_by_name()
    {
        var group = new byte[Layout.GroupBytes(64)];
        var act = new byte[2 * BlockBytes];
        var ex = Assert.Throws<ArgumentException>(() => Layout.Gemv(SimdLevel.Scalar, group.AsSpan(1), act, 64, new float[Rows]));
        Assert.Contains("group", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Layout.Gemm(SimdLevel.Scalar, group, act, act.Length, 2, 64, new float[16], Rows));
        Assert.Contains("activations", ex.Message);
        Assert.Throws<ArgumentException>(() => Layout.Pack(new byte[10], 64, group));
    }

    private static void AssertEveryPath(byte[] plain, byte[] act, int cols, float[] expected, bool exact)
    {
        var group = InterleavedLayoutTests.Pack(Layout, plain, cols);
        foreach (var level in SimdPath.Supported)
        {
            var results = new float[Rows];
            Layout.Gemv(level, group, act, cols, results);
            var tile = new float[4 * Rows];
            var acts = new byte[4 * act.Length];
            for (var b = 0; b < 4; b++)
                act.CopyTo(acts, b * act.Length);
            Layout.Gemm(level, group, acts, act.Length, 4, cols, tile, Rows);
            for (var j = 0; j < Rows; j++)
            {
                var tolerance = exact || float.IsInfinity(expected[j]) ? 0 : 2e-5 * Math.Max(1, Math.Abs(expected[j]));
                Assert.True(expected[j].Equals(results[j]) || Math.Abs(results[j] - expected[j]) <= tolerance,
                    $"path {level} row {j}: Gemv {results[j]:R}, reference {expected[j]:R}");
                Assert.Equal(results[j], tile[3 * Rows + j]);
            }
        }
    }
}
