using Llamero.Kernels;
using Llamero.Quants;

namespace Llamero.Tests.Kernels;

/// <summary>The block loops of attention (<see cref="AttentionBlocks"/>) and the grouped driver over F32 and F16 caches
/// (<see cref="CacheAttention"/>) against their scalar specifications, on every SIMD path this CPU runs.</summary>
public class AttentionBlocksTests
{
    public static TheoryData<SimdLevel> Levels() => [.. SimdPath.Supported];

    private static float[] Random(int n, int seed, float spread = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * spread).ToArray();
    }

    [Theory, MemberData(nameof(Levels))]
    public void Scores_and_weighted_sums_match_their_specifications_for_every_width_and_row_count(SimdLevel level)
    {
        // Widths that hit the 64-float register block, its 8-float remainder, and the row-by-row fallback (not a
        // multiple of 8); row counts that hit the 8-row blocks and their tails.
        foreach (var width in new[] { 5, 8, 24, 64, 72, 128, 136 })
        {
            var stride = width + 16;
            for (var count = 0; count <= 19; count++)
            {
                var rows = Random(Math.Max(1, count) * stride, width * 31 + count, 2f);
                var query = Random(width, count + 7);
                var expected = new float[count];
                var actual = new float[count];
                AttentionBlocks.ScoresReference(query, rows, stride, count, 0.125f, expected);
                AttentionBlocks.Scores(query, rows, stride, count, 0.125f, actual, level);
                for (var t = 0; t < count; t++)
                    Assert.True(Math.Abs(expected[t] - actual[t]) <= 1e-5f * (1 + Math.Abs(expected[t])), $"width {width}, row {t} of {count}: {expected[t]} vs {actual[t]}");

                var weights = Random(count, count + 3);
                var sumExpected = Random(width, 11);
                var sumActual = (float[])sumExpected.Clone();
                AttentionBlocks.WeightedSumReference(weights, rows, stride, count, sumExpected);
                AttentionBlocks.WeightedSum(weights, rows, stride, count, sumActual, level);
                // The AVX2 path does one fused multiply-add per row in row order, as the specification: the same bits.
                // The row-by-row fallback (VectorOps.MultiplyAdd) may round its scalar tail apart.
                if (level >= SimdLevel.Avx2 && width % 8 == 0)
                    Assert.Equal(sumExpected, sumActual);
                for (var i = 0; i < width; i++)
                    Assert.True(Math.Abs(sumExpected[i] - sumActual[i]) <= 1e-6f * (1 + Math.Abs(sumExpected[i])), $"width {width}, element {i}");
            }
        }
    }

    [Fact]
    public void Rounding_through_half_is_ggml_rounding_for_every_length()
    {
        for (var n = 0; n <= 600; n += 37)
        {
            var x = Random(n, n, 70000f);
            x.AsSpan(0, Math.Min(n, 3)).Fill(float.NaN);
            var expected = (float[])x.Clone();
            HalfVectorOps.RoundThroughHalfReference(expected);
            HalfVectorOps.RoundThroughHalf(x);
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), x.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Theory, MemberData(nameof(Levels))]
    public void The_short_widening_is_exact_for_every_finite_half_and_the_check_finds_every_infinity_and_nan(SimdLevel level)
    {
        var finite = Enumerable.Range(0, 65536).Select(h => (ushort)h).Where(h => (h & 0x7C00) != 0x7C00).ToArray();
        var expected = new float[finite.Length];
        Fp16.ToSingle(finite, expected);
        // An odd length leaves a scalar tail.
        var actual = new float[finite.Length - 3];
        HalfVectorOps.WidenFinite(finite.AsSpan(0, actual.Length), actual, level);
        Assert.Equal(expected.AsSpan(0, actual.Length).ToArray().Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
        Assert.False(HalfVectorOps.AnyInfinityOrNaN(finite));
        foreach (var special in new ushort[] { 0x7C00, 0xFC00, 0x7E00, 0xFFFF })
        {
            for (var at = 0; at < 40; at++)
            {
                var halves = finite.AsSpan(1000, 40).ToArray();
                halves[at] = special;
                Assert.True(HalfVectorOps.AnyInfinityOrNaN(halves), $"{special:X4} at {at}");
            }
        }
    }

    [Fact]
    public void A_cache_holding_an_infinite_half_attends_through_the_exact_widening()
    {
        const int headSize = 16, kvHeads = 2, length = 40;
        var keys = Random(length * kvHeads * headSize, 6);
        var values = Random(length * kvHeads * headSize, 7);
        values[3 * kvHeads * headSize + headSize + 5] = 70000f; // beyond the largest half: stored as infinity
        var cache = new Llamero.Models.KvCache(1, length, kvHeads * headSize, Llamero.Models.KvCacheOptions.F16, kvHeads);
        cache.Store(0, 0, keys, values);
        var query = Random(headSize, 8);
        var actual = new float[headSize];
        cache.Attend(0, query, 1, 1, length, new float[length], length, actual);
        // The same cache contents (per head, positions in a run) through the exact path.
        var keyHalves = new ushort[length * headSize];
        var valueHalves = new ushort[length * headSize];
        for (var t = 0; t < length; t++)
            for (var i = 0; i < headSize; i++)
            {
                keyHalves[t * headSize + i] = Fp16.FromFloat(keys[(t * kvHeads + 1) * headSize + i]);
                valueHalves[t * headSize + i] = Fp16.FromFloat(values[(t * kvHeads + 1) * headSize + i]);
            }
        var expected = new float[headSize];
        CacheAttention.Heads<ushort, ushort>(query, 1, keyHalves, valueHalves, headSize, 0, headSize, length, new float[length], length, expected, SimdPath.Current);
        Assert.Equal(expected, actual);
        Assert.Equal(float.PositiveInfinity, expected[5]);
    }

    [Theory, MemberData(nameof(Levels))]
    public void A_group_of_heads_gives_each_head_what_it_gets_alone_over_either_cache_type(SimdLevel level)
    {
        // Positions past one block (CacheAttention.BlockRows) and a block tail.
        const int headSize = 64, kvHeads = 2, heads = 3, stride = kvHeads * headSize, length = CacheAttention.BlockRows * 2 + 5;
        var queries = Random(heads * headSize, 1);
        var keys = Random(length * stride, 2);
        var values = Random(length * stride, 3, 2f);
        var keyHalves = keys.Select(Fp16.FromFloat).ToArray();
        var valueHalves = values.Select(Fp16.FromFloat).ToArray();
        Check<float, float>(keys, values);
        Check<ushort, ushort>(keyHalves, valueHalves);
        Check<ushort, float>(keyHalves, values);
        Check<float, ushort>(keys, valueHalves);

        void Check<TKey, TValue>(TKey[] k, TValue[] v)
            where TKey : unmanaged
            where TValue : unmanaged
        {
            var together = new float[heads * headSize];
            CacheAttention.Heads<TKey, TValue>(queries, heads, k, v, stride, headSize, headSize, length, new float[heads * (length + 3)], length + 3, together, level);
            for (var g = 0; g < heads; g++)
            {
                var alone = new float[headSize];
                CacheAttention.Heads<TKey, TValue>(queries.AsSpan(g * headSize, headSize), 1, k, v, stride, headSize, headSize, length, new float[length], length, alone, level);
                Assert.Equal(alone, together.AsSpan(g * headSize, headSize).ToArray());
            }
        }
    }
}
