using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;

namespace Llamero.Tests.Quants;

/// <summary>
/// The batch kernels of the float and 32-element block formats on every SIMD path this CPU runs: each result
/// bit-identical to the single-row dot on the same path, for batch sizes around the kernels' row groups, odd
/// and even block counts, and rows that are not packed.
/// </summary>
public class BatchDotPathTests
{
    public static TheoryData<GgmlType, SimdLevel> TypesAndPaths()
    {
        var data = new TheoryData<GgmlType, SimdLevel>();
        foreach (var t in QuantCases.Batches.Keys)
            foreach (var level in SimdPath.Supported)
                data.Add(t, level);
        return data;
    }

    [Theory]
    [MemberData(nameof(TypesAndPaths))]
    public void Each_result_equals_the_single_row_dot_on_the_same_path(GgmlType type, SimdLevel level)
    {
        var lengths = QuantCases.IsFloat(type) ? new[] { 1, 31, 32, 33, 64, 95, 257 } : new[] { 32, 64, 96, 7 * 32, 16 * 32 };
        foreach (var n in lengths)
        {
            var weights = QuantCases.Quantize(type, QuantRows.Make("outlier", n, seed: 4));
            foreach (var count in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 16 })
                AssertBatchMatches(type, level, weights, n, count, i => QuantRows.Make(i % 3 == 0 ? "gaussian" : "mixed-signs", n, seed: 20 + i));
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndPaths))]
    public void Zero_rows_write_nothing(GgmlType type, SimdLevel level)
    {
        var n = 64;
        var weights = QuantCases.Quantize(type, QuantRows.Make("gaussian", n));
        var results = new[] { 42f };
        QuantCases.Batches[type](level, weights, [], 0, 0, n, results, 1);
        Assert.Equal(42f, results[0]);
    }

    [Theory]
    [InlineData(0x7C00)] // +infinity
    [InlineData(0xFC00)] // -infinity
    [InlineData(0x7E00)] // NaN
    public void Half_rows_with_infinities_or_NaN_take_the_exact_path(int special)
    {
        foreach (var level in SimdPath.Supported)
        {
            var n = 96;
            var weights = QuantCases.Quantize(GgmlType.F16, QuantRows.Make("gaussian", n, seed: 6));
            // The special value in the weights, in one activation row, or nowhere.
            var withSpecial = (byte[])weights.Clone();
            BitConverter.TryWriteBytes(withSpecial.AsSpan(2 * 40), (ushort)special);
            foreach (var w in new[] { weights, withSpecial })
            {
                AssertBatchMatches(GgmlType.F16, level, w, n, 5, i => QuantRows.Make("uniform", n, seed: 30 + i),
                    (i, a) => { if (i == 3) BitConverter.TryWriteBytes(a.AsSpan(2 * 70), (ushort)special); });
                // And the single dot against the scalar specification (IEEE: products with infinity or NaN).
                var act = QuantCases.Activations(GgmlType.F16, QuantRows.Make("uniform", n, seed: 8));
                var expected = F16.DotReference(w, act, n);
                var actual = F16.DotOn(level, w, act, n);
                Assert.True(float.IsNaN(expected) ? float.IsNaN(actual) : expected == actual || Math.Abs(expected - actual) <= 1e-3 * Math.Abs(expected),
                    $"{level} special 0x{special:X4}: scalar {expected:R}, path {actual:R}");
            }
        }
    }

    private static void AssertBatchMatches(GgmlType type, SimdLevel level, byte[] weights, int n, int count, Func<int, float[]> row,
        Action<int, byte[]>? edit = null)
    {
        var rows = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            rows[i] = QuantCases.Activations(type, row(i));
            edit?.Invoke(i, rows[i]);
        }
        var rowBytes = rows[0].Length;
        var stride = rowBytes + 36; // not packed, and not a multiple of any block size
        var acts = new byte[(count - 1) * stride + rowBytes];
        for (var i = 0; i < count; i++)
            rows[i].CopyTo(acts, i * stride);
        const int resultStride = 2;
        var results = new float[(count - 1) * resultStride + 1];
        QuantCases.Batches[type](level, weights, acts, stride, count, n, results, resultStride);
        for (var i = 0; i < count; i++)
        {
            var single = QuantCases.Paths[type](level, weights, rows[i], n);
            var batch = results[i * resultStride];
            Assert.True(BitConverter.SingleToInt32Bits(single) == BitConverter.SingleToInt32Bits(batch)
                || (float.IsNaN(single) && float.IsNaN(batch)),
                $"{type} {level} n={n} count={count} row {i}: Dot {single:R}, DotBatch {batch:R}");
        }
    }
}
