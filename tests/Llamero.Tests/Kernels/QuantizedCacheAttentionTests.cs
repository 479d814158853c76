using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Tests.Oracle;

namespace Llamero.Tests.Kernels;

/// <summary>
/// The block-quantized KV cache kernels (<see cref="KvRowCodec"/>, <see cref="QuantizedCacheAttention"/>) against ggml's
/// own row functions and against attention over the dequantized rows, on every SIMD path the CPU supports.
/// </summary>
public class QuantizedCacheAttentionTests
{
    public static TheoryData<GgmlType> BlockTypes => new() { GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.IQ4_NL };

    private static float[] RandomFloats(Random rng, int n, float spread) =>
        Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * spread).ToArray();

    private static byte[] Quantize(KvRowCodec codec, float[] rows)
    {
        var bytes = new byte[codec.RowBytes(rows.Length)];
        codec.Quantize(rows, bytes);
        return bytes;
    }

    [Theory]
    [MemberData(nameof(BlockTypes))]
    public void Stored_rows_are_the_bytes_of_ggml_cpu_from_float_and_widen_as_ggml_dequantizes(GgmlType type)
    {
        var codec = KvRowCodec.For(type)!;
        var rng = new Random((int)type);
        // 128-element head rows; a zero block and a block with a rounding tie for the multipliers.
        var row = RandomFloats(rng, 5 * 128, 3);
        Array.Clear(row, 32, 32);
        row[64] = 127f;
        row[65] = 0.5f;
        var ours = Quantize(codec, row);
        var cpu = new byte[ours.Length];
        GgmlNative.QuantizeRowCpu(type, row, cpu); // ggml-cpu's from_float, what set_rows stores in the cache
        Assert.Equal(cpu, ours);
        if (type != GgmlType.Q8_0)
        {
            GgmlNative.QuantizeRowReference(type, row, cpu); // the same bytes: ggml-cpu's from_float calls the _ref
            Assert.Equal(cpu, ours);
        }
        var expected = new float[row.Length];
        GgmlNative.DequantizeRow(type, ours, expected);
        foreach (var level in SimdPath.Supported)
        {
            var widened = new float[row.Length];
            codec.Dequantize(ours, widened, level);
            Assert.Equal(expected, widened);
        }
    }

    [Theory]
    [MemberData(nameof(BlockTypes))]
    public void Scores_are_the_block_dot_products_of_ggml_scaled_on_every_path(GgmlType type)
    {
        const int headSize = 128, heads = 7, count = 37, stride = 40;
        var codec = KvRowCodec.For(type)!;
        var rng = new Random(10 + (int)type);
        var keys = Quantize(codec, RandomFloats(rng, count * headSize, 2));
        var queries = RandomFloats(rng, heads * headSize, 1);
        var quantized = new byte[heads * codec.QueryRowBytes(headSize)];
        codec.QuantizeQueries(queries, quantized);
        var cpu = new byte[quantized.Length];
        GgmlNative.QuantizeRowCpu(codec.QueryType, queries, cpu); // flash attention's q_to_vec_dot
        Assert.Equal(cpu, quantized);

        int rowBytes = codec.RowBytes(headSize), queryBytes = codec.QueryRowBytes(headSize);
        const float scale = 0.0883883f;
        foreach (var level in SimdPath.Supported)
        {
            var scores = new float[heads * stride];
            codec.Scores(keys, count, quantized, heads, headSize, scale, scores, stride, level);
            for (var g = 0; g < heads; g++)
                for (var t = 0; t < count; t++)
                {
                    var k = keys.AsSpan(t * rowBytes, rowBytes);
                    var q = quantized.AsSpan(g * queryBytes, queryBytes);
                    // The scalar path is ggml's _generic dot exactly. AVX2 forms ggml's AVX2 block sums (exactly its dot
                    // for the rows after the last whole group of eight and for Q4_1/Q5_1, but not IQ4_NL, whose ggml
                    // kernel sums alternate blocks into two accumulators; the eight-row kernel of
                    // QuantizedKeyScores orders the final lane sum differently); the portable paths sum the same
                    // blocks in another order.
                    var generic = GgmlNative.VecDot(type, codec.QueryType, k, q, headSize, generic: true) * scale;
                    var simd = GgmlNative.VecDot(type, codec.QueryType, k, q, headSize, generic: false) * scale;
                    var actual = scores[g * stride + t];
                    if (level == SimdLevel.Scalar)
                        Assert.Equal(generic, actual);
                    else if (level == SimdLevel.Avx2 && (t >= count / 8 * 8 || type is GgmlType.Q4_1 or GgmlType.Q5_1) && type != GgmlType.IQ4_NL)
                        Assert.Equal(simd, actual);
                    else
                        Assert.True(Math.Abs(generic - actual) <= 1e-5 * (1 + Math.Abs(generic)), $"{level} head {g} row {t}: {actual} vs {generic}");
                }
        }
    }

    public static TheoryData<GgmlType, GgmlType> Pairs => new()
    {
        { GgmlType.Q8_0, GgmlType.Q8_0 }, { GgmlType.Q4_0, GgmlType.Q4_0 }, { GgmlType.Q4_1, GgmlType.Q5_1 }, { GgmlType.Q5_0, GgmlType.Q4_1 },
        { GgmlType.Q8_0, GgmlType.F16 }, { GgmlType.F16, GgmlType.Q8_0 }, { GgmlType.F32, GgmlType.Q4_0 }, { GgmlType.Q5_1, GgmlType.F32 },
        { GgmlType.IQ4_NL, GgmlType.IQ4_NL },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Attention_over_a_quantized_cache_is_attention_over_the_dequantized_rows(GgmlType keyType, GgmlType valueType)
    {
        // Four query heads of 64 sharing one KV head over 77 positions (two whole blocks of 32 and a tail).
        const int headSize = 64, heads = 4, length = 77;
        var rng = new Random(20 + (int)keyType * 7 + (int)valueType);
        var queries = RandomFloats(rng, heads * headSize, 1);
        var keyRows = RandomFloats(rng, length * headSize, 1.5f);
        var valueRows = RandomFloats(rng, length * headSize, 2);
        var (keys, keysSeen) = Store(keyType, keyRows);
        var (values, valuesSeen) = Store(valueType, valueRows);
        // The query as the kernel sees it: quantized to the key type's partner, or rounded through F16 for F16 keys.
        var querySeen = QuerySeen(keyType, queries, headSize);
        var expected = Reference(querySeen, keysSeen, valuesSeen, heads, headSize, length, roundWeights: valueType == GgmlType.F16);
        foreach (var level in SimdPath.Supported)
        {
            var scores = new float[heads * length];
            var output = new float[heads * headSize];
            QuantizedCacheAttention.Heads(queries, heads, keys, keyType, values, valueType, headSize, length, scores, length, output, level);
            for (var i = 0; i < output.Length; i++)
                Assert.True(Math.Abs(expected[i] - output[i]) <= 2e-5 * (1 + Math.Abs(expected[i])),
                    $"{level}, element {i}: expected {expected[i]}, got {output[i]}");
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(256)]
    public void The_fast_hadamard_rotation_is_the_matrix_llama_cpp_builds_and_its_own_inverse(int n)
    {
        // ggml_gen_hadamard: H[0][0] = 1/√n, then each quadrant doubling copies the block and negates the lower right.
        var h = new double[n, n];
        h[0, 0] = 1 / Math.Sqrt(n);
        for (var s = 1; s < n; s *= 2)
            for (var i = 0; i < s; i++)
                for (var j = 0; j < s; j++)
                {
                    h[i + s, j] = h[i, j];
                    h[i, j + s] = h[i, j];
                    h[i + s, j + s] = -h[i, j];
                }
        var rng = new Random(n);
        var x = RandomFloats(rng, 2 * n, 4);
        var y = (float[])x.Clone();
        Hadamard.Transform(y, n);
        for (var b = 0; b < 2; b++)
            for (var i = 0; i < n; i++)
            {
                var expected = Enumerable.Range(0, n).Sum(j => h[i, j] * x[b * n + j]);
                Assert.True(Math.Abs(expected - y[b * n + i]) <= 1e-5, $"block {b} element {i}: {y[b * n + i]} vs {expected}");
            }
        Hadamard.Transform(y, n);
        for (var i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(x[i] - y[i]) <= 1e-5, $"H·H·x element {i}: {y[i]} vs {x[i]}");
        Assert.Throws<ArgumentException>(() => Hadamard.Transform(new float[96], 64));
    }

    [Fact]
    public void Rows_that_are_not_whole_blocks_are_refused()
    {
        var scores = new float[40];
        var output = new float[40];
        var e = Assert.Throws<ArgumentException>(() => QuantizedCacheAttention.Heads(new float[40], 1, new byte[400], GgmlType.Q8_0,
            new byte[400], GgmlType.Q8_0, 40, 1, scores, 40, output, SimdLevel.Scalar));
        Assert.Contains("q8_0", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Throws<NotSupportedException>(() => KvRowCodec.For(GgmlType.Q4_K));
    }

    // The stored bytes of rows of one type, and the floats they hold.
    private static (byte[] Bytes, float[] Seen) Store(GgmlType type, float[] rows)
    {
        switch (type)
        {
            case GgmlType.F32:
                return (System.Runtime.InteropServices.MemoryMarshal.AsBytes(rows.AsSpan()).ToArray(), rows);
            case GgmlType.F16:
                var halves = rows.Select(Fp16.FromFloat).ToArray();
                return (System.Runtime.InteropServices.MemoryMarshal.AsBytes(halves.AsSpan()).ToArray(), halves.Select(Fp16.ToFloat).ToArray());
            default:
                var codec = KvRowCodec.For(type)!;
                var bytes = Quantize(codec, rows);
                var seen = new float[rows.Length];
                GgmlNative.DequantizeRow(type, bytes, seen);
                return (bytes, seen);
        }
    }

    private static float[] QuerySeen(GgmlType keyType, float[] queries, int headSize)
    {
        if (keyType == GgmlType.F32)
            return queries;
        if (keyType == GgmlType.F16)
            return queries.Select(q => Fp16.ToFloat(Fp16.FromFloat(q))).ToArray();
        var codec = KvRowCodec.For(keyType)!;
        var quantized = new byte[queries.Length / headSize * codec.QueryRowBytes(headSize)];
        codec.QuantizeQueries(queries, quantized);
        var seen = new float[queries.Length];
        // ggml has no dequantize_row_q8_1: d·q is the same for both partners.
        if (codec.QueryType == GgmlType.Q8_1)
            Q8_1.Dequantize(quantized, seen);
        else
            GgmlNative.DequantizeRow(codec.QueryType, quantized, seen);
        return seen;
    }

    // softmax(K·q/√d)·V in double per head (the weights rounded to F16 for an F16 value cache, as the kernel does).
    private static float[] Reference(float[] q, float[] k, float[] v, int heads, int headSize, int length, bool roundWeights)
    {
        var output = new float[heads * headSize];
        for (var g = 0; g < heads; g++)
        {
            var logits = Enumerable.Range(0, length)
                .Select(t => Enumerable.Range(0, headSize).Sum(i => (double)q[g * headSize + i] * k[t * headSize + i]) / Math.Sqrt(headSize)).ToArray();
            var max = logits.Max();
            var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
            var sum = exp.Sum();
            var weights = exp.Select(e => roundWeights ? Fp16.ToFloat(Fp16.FromFloat((float)(e / sum))) : e / sum).ToArray();
            for (var i = 0; i < headSize; i++)
                output[g * headSize + i] = (float)Enumerable.Range(0, length).Sum(t => weights[t] * v[t * headSize + i]);
        }
        return output;
    }
}
