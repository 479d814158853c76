using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Tests.Quants.Interleaved;

/// <summary>
/// <see cref="Q6_Kx8"/> beyond the shared contract: every path gives the scalar path's bits, integer sums stay
/// exact at the int16 edges of vpmaddubsw (levels 63 against activations −128), and any bytes survive a repack.
/// </summary>
public class Q6_Kx8Tests
{
    private const int PlainBlock = Q6_K.BlockBytes;

    private static readonly WeightLayout Layout = InterleavedLayouts.Default(GgmlType.Q6_K)!;

    [Fact]
    public void Q6_K_is_repacked_into_Q6_Kx8_of_the_same_size()
    {
        Assert.Equal("Q6_Kx8", Layout.Name);
        Assert.Equal(8, Layout.RowGroup);
        Assert.Equal(8 * GgmlTypes.Get(GgmlType.Q6_K).RowBytes(4096), Layout.GroupBytes(4096));
        Assert.True(Layout.Fits(4096, 11008));
        Assert.False(Layout.Fits(4100, 4096));
    }

    [Fact]
    public void Any_bytes_survive_pack_and_unpack()
    {
        var rng = new Random(5);
        foreach (var cols in new[] { 256, 768 })
        {
            var plain = new byte[8 * GgmlTypes.Get(GgmlType.Q6_K).RowBytes(cols)];
            rng.NextBytes(plain);
            var group = new byte[Layout.GroupBytes(cols)];
            Layout.Pack(plain, cols, group);
            var back = new byte[plain.Length];
            Layout.Unpack(group, cols, back);
            Assert.Equal(plain, back);
        }
    }

    public static TheoryData<int, int, sbyte> Extremes() => new()
    {
        // level, activation, scale: the largest |vpmaddubsw| pair sums of both signs, and the offset's extremes.
        { 63, -128, -128 }, { 63, 127, 127 }, { 63, -128, 127 }, { 0, -128, -128 }, { 0, 127, 127 }, { 32, -128, -128 }, { 31, 127, -128 },
    };

    [Theory]
    [MemberData(nameof(Extremes))]
    public void Integer_sums_are_exact_at_the_int16_edges(int level, int activation, sbyte scale)
    {
        const int cols = 256;
        var plain = new byte[8 * PlainBlock];
        for (var j = 0; j < 8; j++)
            WriteBlock(plain.AsSpan(j * PlainBlock, PlainBlock), [.. Enumerable.Repeat(level, 256)],
                [.. Enumerable.Range(0, 16).Select(g => (sbyte)(j % 2 == 0 ? scale : g % 2 == 0 ? scale : -1))], d: 1f);
        var act = Activations([.. Enumerable.Repeat((sbyte)activation, cols)]);
        var group = new byte[Layout.GroupBytes(cols)];
        Layout.Pack(plain, cols, group);
        foreach (var path in SimdPath.Supported)
        {
            var results = new float[8];
            Layout.Gemv(path, group, act, cols, results);
            for (var j = 0; j < 8; j++)
            {
                long exact = 0;
                for (var g = 0; g < 16; g++)
                    exact += (long)(j % 2 == 0 ? scale : g % 2 == 0 ? scale : -1) * 16 * (level - 32) * activation;
                Assert.Equal((float)exact, results[j]);
            }
        }
    }

    [Fact]
    public void Mixed_extreme_levels_and_activations_match_the_plain_scalar_dot()
    {
        const int cols = 512;
        var rng = new Random(11);
        var plain = new byte[8 * 2 * PlainBlock];
        for (var j = 0; j < 16; j++)
            WriteBlock(plain.AsSpan(j * PlainBlock, PlainBlock), [.. Enumerable.Range(0, 256).Select(_ => rng.Next(2) * 63)],
                [.. Enumerable.Range(0, 16).Select(_ => (sbyte)(rng.Next(2) == 0 ? -128 : 127))], d: 1f / (1 + j));
        var act = Activations([.. Enumerable.Range(0, cols).Select(_ => (sbyte)(rng.Next(2) == 0 ? -128 : 127))]);
        var group = new byte[Layout.GroupBytes(cols)];
        Layout.Pack(plain, cols, group);
        // Sums beyond 2^24 round when converted to float: each path within a few ulps of the plain dot.
        var scalar = new float[8];
        Layout.Gemv(SimdLevel.Scalar, group, act, cols, scalar);
        for (var j = 0; j < 8; j++)
        {
            var expected = Q6_K.DotReference(plain.AsSpan(j * 2 * PlainBlock, 2 * PlainBlock), act, cols);
            Assert.True(Math.Abs(scalar[j] - expected) <= 4e-6 * Math.Abs(expected), $"row {j}: {scalar[j]:R} vs {expected:R}");
        }
        foreach (var path in SimdPath.Supported)
        {
            var results = new float[8];
            Layout.Gemv(path, group, act, cols, results);
            Assert.Equal(scalar, results);
        }
    }

    [Fact]
    public void Every_path_and_batch_size_gives_the_scalar_bits()
    {
        const int cols = 1024;
        var plain = InterleavedLayoutTests.PlainRows(GgmlType.Q6_K, 8, cols, seed: 21);
        var group = InterleavedLayoutTests.Pack(Layout, plain, cols);
        var actBytes = (int)GgmlTypes.Get(GgmlType.Q8_K).RowBytes(cols);
        const int count = 37; // more than one 16-row pass, with a tail
        var acts = new byte[count * actBytes];
        for (var b = 0; b < count; b++)
            QuantCases.Activations(GgmlType.Q6_K, QuantRows.Make(QuantRows.Kinds[b % QuantRows.Kinds.Length], cols, seed: b)).CopyTo(acts, b * actBytes);
        var expected = new float[count * 8];
        for (var b = 0; b < count; b++)
            Layout.Gemv(SimdLevel.Scalar, group, acts.AsSpan(b * actBytes, actBytes), cols, expected.AsSpan(b * 8, 8));
        foreach (var path in SimdPath.Supported)
        {
            var results = new float[count * 8];
            Layout.Gemm(path, group, acts, actBytes, count, cols, results, 8);
            Assert.Equal(expected, results);
        }
    }

    [Fact]
    public void Bad_shapes_are_argument_errors()
    {
        var group = new byte[Layout.GroupBytes(256)];
        var act = new byte[Q8_K.BlockBytes];
        var results = new float[8];
        Assert.Throws<ArgumentException>(() => Layout.Gemv(SimdPath.Current, group, act, 512, results));
        Assert.Throws<ArgumentException>(() => Layout.Gemv(SimdPath.Current, group, act, 100, results));
        Assert.Throws<ArgumentException>(() => Layout.Gemv(SimdPath.Current, group, act, 256, new float[7]));
        Assert.Throws<ArgumentException>(() => Layout.Gemm(SimdPath.Current, group, act, Q8_K.BlockBytes, 2, 256, new float[16], 8));
        Assert.Throws<ArgumentException>(() => Layout.Gemm(SimdPath.Current, group, act, Q8_K.BlockBytes, -1, 256, results, 8));
        Assert.Throws<ArgumentException>(() => Layout.Pack(new byte[PlainBlock], 256, group));
        Layout.Gemm(SimdPath.Current, group, act, Q8_K.BlockBytes, 0, 256, results, 8); // nothing to do
        Assert.All(results, r => Assert.Equal(0f, r));
    }

    /// <summary>A plain Q6_K block with the given levels, group scales and fp16 <c>d</c>.</summary>
    private static void WriteBlock(Span<byte> block, int[] level, sbyte[] scale, float d)
    {
        var values = new float[256];
        block.Clear();
        for (var half = 0; half < 2; half++)
            for (var l = 0; l < 32; l++)
            {
                int q1 = level[128 * half + l], q2 = level[128 * half + l + 32], q3 = level[128 * half + l + 64], q4 = level[128 * half + l + 96];
                block[64 * half + l] = (byte)((q1 & 0xF) | (q3 & 0xF) << 4);
                block[64 * half + l + 32] = (byte)((q2 & 0xF) | (q4 & 0xF) << 4);
                block[128 + 32 * half + l] = (byte)(q1 >> 4 | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
            }
        for (var g = 0; g < 16; g++)
            block[192 + g] = (byte)scale[g];
        KQuantHelpers.WriteHalf(block, 208, d);
        // The block decodes back to the levels asked for (checks this helper against the format's own reader).
        Q6_K.Dequantize(block, values);
        var dHalf = KQuantHelpers.ReadHalf(block, 208);
        for (var e = 0; e < 256; e++)
            Assert.Equal(dHalf * scale[e / 16] * (level[e] - 32), values[e]);
    }

    /// <summary>A Q8_K row (d = 1) with the given quants and their group sums.</summary>
    private static byte[] Activations(sbyte[] quant)
    {
        var cols = quant.Length;
        var row = new byte[GgmlTypes.Get(GgmlType.Q8_K).RowBytes(cols)];
        for (var i = 0; i < cols / 256; i++)
        {
            var block = row.AsSpan(i * Q8_K.BlockBytes, Q8_K.BlockBytes);
            BitConverter.TryWriteBytes(block, 1f);
            for (var g = 0; g < 16; g++)
            {
                short sum = 0;
                for (var e = 16 * g; e < 16 * g + 16; e++)
                {
                    var q = quant[256 * i + e];
                    block[4 + e] = (byte)q;
                    sum += q;
                }
                BitConverter.TryWriteBytes(block[(260 + 2 * g)..], sum);
            }
        }
        return row;
    }
}
