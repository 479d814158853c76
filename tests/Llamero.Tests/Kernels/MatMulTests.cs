using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Tests.Quants;

namespace Llamero.Tests.Kernels;

/// <summary>
/// MatMul against two references: the same dot product called row by row (must match exactly: partitioning,
/// tiling and threading change no bits), and a naive dequantize-then-float product in double (agrees within
/// the activation quantization error).
/// </summary>
[Collection(nameof(MatMulThreads))]
public class MatMulTests
{
    public static TheoryData<GgmlType> WeightTypes() => new(
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
        GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void Equals_row_by_row_dots_for_every_shape(GgmlType type)
    {
        foreach (var (rows, cols, batch) in new[] { (1, 256, 1), (37, 256, 3), (300, 512, 1), (260, 768, 21), (2048, 256, 2) })
        {
            var (weights, wBytes) = MakeWeights(type, rows, cols);
            var x = QuantRows.Make("gaussian", batch * cols, seed: rows);
            var y = new float[batch * rows];
            MatMul.Multiply(in weights.Matrix, x, y, batch);

            var format = QuantFormats.Get(type);
            var partner = GgmlTypes.Get(format.DotPartner);
            var act = new byte[partner.RowBytes(cols)];
            for (var b = 0; b < batch; b++)
            {
                MatMul.ActivationQuantizer(format.DotPartner)(x.AsSpan(b * cols, cols), act);
                for (var r = 0; r < rows; r++)
                {
                    var expected = format.Dot(wBytes.AsSpan((int)(r * weights.Matrix.RowBytes), (int)weights.Matrix.RowBytes), act, cols);
                    Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(y[b * rows + r]),
                        $"{type} {rows}x{cols} batch {batch}: y[{b},{r}] = {y[b * rows + r]:R}, dot = {expected:R}");
                }
            }
            weights.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void Agrees_with_naive_float_product(GgmlType type)
    {
        const int rows = 96, cols = 1024, batch = 3;
        var (weights, wBytes) = MakeWeights(type, rows, cols);
        var x = QuantRows.Make("uniform", batch * cols, seed: 4);
        var y = new float[batch * rows];
        MatMul.Multiply(in weights.Matrix, x, y, batch);

        var w = new float[cols];
        var rowBytes = (int)weights.Matrix.RowBytes;
        for (var r = 0; r < rows; r++)
        {
            QuantFormats.Get(type).Dequantize(wBytes.AsSpan(r * rowBytes, rowBytes), w);
            for (var b = 0; b < batch; b++)
            {
                double sum = 0, magnitude = 0;
                for (var i = 0; i < cols; i++)
                {
                    sum += (double)w[i] * x[b * cols + i];
                    magnitude += Math.Abs((double)w[i] * x[b * cols + i]);
                }
                // 8-bit activations err by at most half a step of amax/127 per element (≈0.4% of |x|); 16-bit
                // floats by 2^-9 (BF16) relative; F32 only by summation order.
                var tolerance = type switch { GgmlType.F32 => 1e-5, GgmlType.F16 => 2e-3, GgmlType.BF16 => 8e-3, _ => 1e-2 } * magnitude;
                Assert.True(Math.Abs(y[b * rows + r] - sum) <= tolerance, $"{type} y[{b},{r}] = {y[b * rows + r]}, naive {sum}, tolerance {tolerance}");
            }
        }
        weights.Dispose();
    }

    [Theory]
    [InlineData(GgmlType.Q4_K, GgmlType.Q4_K, GgmlType.Q6_K)] // one shared partner (Q8_K), as Q4_K_M's Q/K/V
    [InlineData(GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.F16)]  // three partners, quantized separately
    [InlineData(GgmlType.Q8_0, GgmlType.Q5_K, GgmlType.Q5_0)]
    public void Several_matrices_with_one_input_equal_separate_products(GgmlType t0, GgmlType t1, GgmlType t2)
    {
        const int cols = 512;
        var (w0, _) = MakeWeights(t0, 300, cols);
        var (w1, _) = MakeWeights(t1, 44, cols);
        var (w2, _) = MakeWeights(t2, 129, cols);
        var before = MatMul.Threads;
        try
        {
            foreach (var threads in new[] { 1, 2, 3 })
            {
                MatMul.Threads = threads;
                foreach (var batch in new[] { 1, 3, 21, 130 }) // 130 rows of 512 are quantized on the pool
                {
                    var x = QuantRows.Make("gaussian", batch * cols, seed: batch);
                    float[] e0 = new float[batch * 300], e1 = new float[batch * 44], e2 = new float[batch * 129];
                    MatMul.Multiply(in w0.Matrix, x, e0, batch);
                    MatMul.Multiply(in w1.Matrix, x, e1, batch);
                    MatMul.Multiply(in w2.Matrix, x, e2, batch);

                    float[] y0 = new float[batch * 300], y1 = new float[batch * 44], y2 = new float[batch * 129];
                    MatMul.Multiply(x, batch, in w0.Matrix, y0, in w1.Matrix, y1, in w2.Matrix, y2);
                    Assert.Equal(e0, y0);
                    Assert.Equal(e1, y1);
                    Assert.Equal(e2, y2);

                    Array.Clear(y0);
                    Array.Clear(y2);
                    MatMul.Multiply(x, batch, in w0.Matrix, y0, in w2.Matrix, y2);
                    Assert.Equal(e0, y0);
                    Assert.Equal(e2, y2);
                }
            }
        }
        finally
        {
            MatMul.Threads = before;
            w0.Dispose();
            w1.Dispose();
            w2.Dispose();
        }
    }

    [Fact]
    public void Several_matrices_check_every_shape()
    {
        var (a, _) = MakeWeights(GgmlType.Q8_0, 8, 64);
        var (b, _) = MakeWeights(GgmlType.Q8_0, 4, 64);
        var ex = Assert.Throws<ArgumentException>(() => MatMul.Multiply(new float[64], 1, in a.Matrix, new float[8], in b.Matrix, new float[3]));
        Assert.Contains("4x64", ex.Message, StringComparison.Ordinal);
        var (wide, _) = MakeWeights(GgmlType.Q8_0, 4, 128);
        ex = Assert.Throws<ArgumentException>(() => MatMul.Multiply(new float[128], 1, in a.Matrix, new float[8], in wide.Matrix, new float[4]));
        Assert.Contains("4x128", ex.Message, StringComparison.Ordinal);
        a.Dispose();
        b.Dispose();
        wide.Dispose();
    }

    [Fact]
    public void Thread_count_is_configurable_and_results_do_not_depend_on_it()
    {
        var (weights, _) = MakeWeights(GgmlType.Q4_0, 512, 512);
        var x = QuantRows.Make("gaussian", 4 * 512);
        var reference = new float[4 * 512];
        var before = MatMul.Threads;
        try
        {
            MatMul.Threads = 1;
            MatMul.Multiply(in weights.Matrix, x, reference, 4);
            foreach (var threads in new[] { 2, 3, 8 })
            {
                MatMul.Threads = threads;
                Assert.Equal(threads, MatMul.Threads);
                var y = new float[4 * 512];
                MatMul.Multiply(in weights.Matrix, x, y, 4);
                Assert.Equal(reference, y);
            }
        }
        finally
        {
            MatMul.Threads = before;
            weights.Dispose();
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.Threads = 0);
    }

    [Fact]
    public void Changing_threads_while_other_threads_multiply_is_safe()
    {
        var (weights, _) = MakeWeights(GgmlType.Q4_K, 640, 512);
        var x = QuantRows.Make("gaussian", 2 * 512);
        var reference = new float[2 * 640];
        var before = MatMul.Threads;
        try
        {
            MatMul.Threads = 1;
            MatMul.Multiply(in weights.Matrix, x, reference, 2);
            using var stop = new CancellationTokenSource();
            var failures = 0;
            var callers = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
            {
                var y = new float[2 * 640];
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        MatMul.Multiply(in weights.Matrix, x, y, 2);
                        if (!y.AsSpan().SequenceEqual(reference))
                            Interlocked.Increment(ref failures);
                    }
                    catch (ObjectDisposedException)
                    {
                        Interlocked.Increment(ref failures); // the pool was stopped under a running multiplication
                    }
                }
            })).ToArray();
            foreach (var t in callers)
                t.Start();
            for (var i = 0; i < 200; i++)
            {
                MatMul.Threads = 1 + i % 3;
                Thread.Yield();
            }
            stop.Cancel();
            foreach (var t in callers)
                t.Join();
            Assert.Equal(0, failures);
        }
        finally
        {
            MatMul.Threads = before;
            weights.Dispose();
        }
    }

    [Fact]
    public void Bad_shapes_and_types_are_named()
    {
        var (weights, _) = MakeWeights(GgmlType.Q8_0, 4, 64);
        var ex = Assert.Throws<ArgumentException>(() => MatMul.Multiply(in weights.Matrix, new float[63], new float[4], 1));
        Assert.Contains("4x64", ex.Message, StringComparison.Ordinal);
        var iq = new WeightMatrix(GgmlType.IQ2_XS, weights.Matrix.Data, 1, 256);
        var nse = Assert.Throws<NotSupportedException>(() => MatMul.Multiply(in iq, new float[256], new float[1], 1));
        Assert.Contains("IQ2_XS", nse.Message, StringComparison.Ordinal);
        weights.Dispose();
    }

    /// <summary>Random weights quantized to <paramref name="type"/>, in pinned memory the matrix points at.</summary>
    internal static (PinnedMatrix, byte[]) MakeWeights(GgmlType type, int rows, int cols)
    {
        var format = QuantFormats.Get(type);
        var rowBytes = (int)format.Traits.RowBytes(cols);
        var bytes = GC.AllocateArray<byte>(rows * rowBytes, pinned: true);
        var rng = new Random(rows * 31 + cols);
        var row = new float[cols];
        for (var r = 0; r < rows; r++)
        {
            for (var i = 0; i < cols; i++)
                row[i] = QuantRows.Gaussian(rng);
            format.Quantize(row, bytes.AsSpan(r * rowBytes, rowBytes));
        }
        return (new PinnedMatrix(bytes, new WeightMatrix(type, Marshal.UnsafeAddrOfPinnedArrayElement(bytes, 0), rows, cols)), bytes);
    }

    /// <summary>Keeps the pinned array alive as long as the matrix is used.</summary>
    internal sealed class PinnedMatrix(byte[] bytes, WeightMatrix matrix) : IDisposable
    {
        public readonly WeightMatrix Matrix = matrix;
        public byte[] Bytes { get; } = bytes;

        public void Dispose() => GC.KeepAlive(Bytes);
    }
}

/// <summary>Tests that change <see cref="MatMul.Threads"/> don't run beside other MatMul tests.</summary>
[CollectionDefinition(nameof(MatMulThreads), DisableParallelization = true)]
public class MatMulThreads;
