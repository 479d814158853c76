using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;

namespace Llamero.Tests.Quants;

/// <summary>
/// <see cref="IQuantFormat.DotBatch"/> is the prompt kernel: one weight row against several activation rows. Its
/// contract is that each result is bit-identical to <see cref="IQuantFormat.Dot"/> of the same rows, whatever
/// the batch size, strides or row contents.
/// </summary>
public class BatchDotTests
{
    public static TheoryData<GgmlType> MatMulTypes() => new(
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);

    [Theory]
    [MemberData(nameof(MatMulTypes))]
    public void Each_result_equals_the_single_row_dot(GgmlType type)
    {
        var format = QuantFormats.Get(type);
        // Float rows get a ragged tail; block formats whole 256-element super-blocks.
        foreach (var n in new[] { 256, 1024 })
        {
            var length = QuantCases.IsFloat(type) ? n + 7 : n;
            var weights = QuantCases.Quantize(type, QuantRows.Make("outlier", length, seed: 3));
            foreach (var count in new[] { 1, 2, 3, 4, 5, 8, 9, 16 })
            {
                var rows = new byte[count][];
                for (var i = 0; i < count; i++)
                    rows[i] = QuantCases.Activations(type, QuantRows.Make(i % 2 == 0 ? "gaussian" : "mixed-signs", length, seed: 10 + i));
                var rowBytes = rows[0].Length;
                var stride = rowBytes + 64; // rows need not be packed
                var acts = new byte[(count - 1) * stride + rowBytes];
                for (var i = 0; i < count; i++)
                    rows[i].CopyTo(acts, i * stride);
                const int resultStride = 3;
                var results = new float[(count - 1) * resultStride + 1];
                DotBatchOf(type, weights, acts, stride, count, length, results, resultStride);
                for (var i = 0; i < count; i++)
                {
                    var single = format.Dot(weights, rows[i], length);
                    Assert.True(BitConverter.SingleToInt32Bits(single) == BitConverter.SingleToInt32Bits(results[i * resultStride]),
                        $"{type} n={length} count={count} row {i}: Dot {single:R}, DotBatch {results[i * resultStride]:R} (path {SimdPath.Current})");
                }
            }
        }
    }

    [Fact]
    public void Shapes_that_do_not_fit_are_named()
    {
        var weights = QuantCases.Quantize(GgmlType.Q4_K, QuantRows.Make("gaussian", 256));
        var act = QuantCases.Activations(GgmlType.Q4_K, QuantRows.Make("gaussian", 256));
        var results = new float[4];
        var e = Assert.Throws<ArgumentException>(() => Q4_K.DotBatch(weights, act, act.Length, 2, 256, results, 1));
        Assert.Contains("Q4_K", e.Message);
        Assert.Throws<ArgumentException>(() => Q4_K.DotBatch(weights, act, act.Length, 1, 256, results, 0));
        Assert.Throws<ArgumentException>(() => Q4_K.DotBatch(weights, act, act.Length, 2, 256, results, 4));
    }

    private static void DotBatchOf(GgmlType type, byte[] w, byte[] a, int stride, int count, int n, float[] results, int resultStride)
    {
        switch (type)
        {
            case GgmlType.F32: F32.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.F16: F16.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.BF16: BF16.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.Q4_0: Q4_0.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.Q4_1: Q4_1.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.Q5_0: Q5_0.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.Q5_1: Q5_1.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.Q8_0: Q8_0.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.Q8_1: Q8_1.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.Q2_K: Q2_K.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.Q3_K: Q3_K.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.Q4_K: Q4_K.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.Q5_K: Q5_K.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.Q6_K: Q6_K.DotBatch(w, a, stride, count, n, results, resultStride); break;
            case GgmlType.Q8_K: Q8_K.DotBatch(w, a, stride, count, n, results, resultStride); break;
            default: throw new InvalidOperationException($"No DotBatch case for {type}.");
        }
    }
}
