using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;

namespace Llamero.Tests.Quants;

/// <summary>
/// The K-quant batch dot (one weight row against many activation rows, the prompt kernel) on every SIMD path
/// this CPU runs: each result bit-identical to the single-row dot of the same rows on the same path, for batch
/// sizes that hit every row-group tail (groups of four, chunks of sixteen), padded strides and scattered results.
/// </summary>
public class KQuantBatchDotPathTests
{
    public static TheoryData<GgmlType, SimdLevel> FormatsAndPaths() => KQuantsDotPathTests.FormatsAndPaths();

    [Theory]
    [MemberData(nameof(FormatsAndPaths))]
    public void Each_row_equals_the_single_row_dot_on_the_same_path(GgmlType type, SimdLevel level)
    {
        var f = KQuantTestData.Get(type);
        foreach (var n in new[] { 256, 768 })
            foreach (var weightKind in new[] { "outlier", "random-blocks" })
            {
                var w = weightKind == "random-blocks" ? KQuantTestData.RandomBlocks(f, n / 256, seed: n + 1) : Quantized(f, weightKind, n);
                foreach (var count in new[] { 1, 2, 3, 4, 5, 7, 8, 16, 17, 21 })
                    AssertBatchMatches(f, level, w, n, count);
            }
    }

    [Theory]
    [MemberData(nameof(FormatsAndPaths))]
    public void Extreme_activations_stay_exact(GgmlType type, SimdLevel level)
    {
        // Activations at ±127 with the largest weight levels: the int16 pair sums of every kernel at their limit.
        var f = KQuantTestData.Get(type);
        const int n = 512;
        var w = KQuantTestData.RandomBlocks(f, n / 256, seed: 5);
        for (var b = 0; b < n / 256; b++)
            foreach (var (start, length) in f.QuantRanges)
                w.AsSpan(b * f.BlockBytes + start, length).Fill(0xFF);
        var rows = new[] { 127f, -127f, 0f }.Select(v => Activations(Enumerable.Repeat(v, n).ToArray())).ToList();
        rows.Add(Activations(KQuantTestData.Row("alternating", n, seed: 1)));
        rows.Add(Activations(KQuantTestData.Row("huge", n, seed: 2)));
        AssertBatchMatches(f, level, w, n, rows);
    }

    [Theory]
    [MemberData(nameof(FormatsAndPaths))]
    public void Shapes_that_do_not_fit_are_named(GgmlType type, SimdLevel level)
    {
        var f = KQuantTestData.Get(type);
        var w = new byte[2 * f.BlockBytes];
        var a = new byte[2 * Q8_K.BlockBytes];
        var results = new float[4];
        var e = Assert.Throws<ArgumentException>(() => f.DotBatchWith(level, w, a, Q8_K.BlockBytes, 2, 512, results, 1));
        Assert.Contains(f.ToString(), e.Message);
        e = Assert.Throws<ArgumentException>(() => f.DotBatchWith(level, w.AsSpan(0, f.BlockBytes - 1), a, Q8_K.BlockBytes, 2, 256, results, 1));
        Assert.Contains(f.ToString(), e.Message);
        Assert.Throws<ArgumentException>(() => f.DotBatchWith(level, w, a, Q8_K.BlockBytes, 2, 100, results, 1));
        f.DotBatchWith(level, w, a, Q8_K.BlockBytes, 0, 256, results, 1); // an empty batch is fine
    }

    private static void AssertBatchMatches(KFormat f, SimdLevel level, byte[] w, int n, int count)
    {
        var rows = new List<byte[]>();
        for (var i = 0; i < count; i++)
            rows.Add(Activations(KQuantTestData.Row(i % 3 == 0 ? "gaussian" : i % 3 == 1 ? "outlier" : "huge", n, seed: 100 + i)));
        AssertBatchMatches(f, level, w, n, rows);
    }

    private static void AssertBatchMatches(KFormat f, SimdLevel level, byte[] w, int n, IReadOnlyList<byte[]> rows)
    {
        var count = rows.Count;
        var rowBytes = rows[0].Length;
        var stride = rowBytes + 36; // padded, and not a multiple of 32
        var acts = new byte[(count - 1) * stride + rowBytes];
        for (var i = 0; i < count; i++)
            rows[i].CopyTo(acts, i * stride);
        const int resultStride = 5;
        var results = new float[(count - 1) * resultStride + 1];
        f.DotBatchWith(level, w, acts, stride, count, n, results, resultStride);
        for (var i = 0; i < count; i++)
        {
            var single = f.DotWith(level, w, rows[i], n);
            Assert.True(BitConverter.SingleToInt32Bits(single) == BitConverter.SingleToInt32Bits(results[i * resultStride]),
                $"{f} {level} n={n} count={count} row {i}: Dot {single:R}, DotBatch {results[i * resultStride]:R}");
        }
    }

    private static byte[] Activations(float[] x)
    {
        var a = new byte[x.Length / 256 * Q8_K.BlockBytes];
        Q8_K.Quantize(x, a);
        return a;
    }

    private static byte[] Quantized(KFormat f, string kind, int n)
    {
        var w = new byte[n / 256 * f.BlockBytes];
        f.Format.Quantize(KQuantTestData.Row(kind, n, seed: n), w);
        return w;
    }
}
