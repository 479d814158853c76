using Llamero.Kernels;

namespace Llamero.Tests.Models;

/// <summary>The non-matmul kernels of the forward pass, every SIMD path this CPU runs against the scalar specification,
/// over lengths that hit every vector tail.</summary>
public class ForwardKernelTests
{
    public static TheoryData<SimdLevel> Levels()
    {
        var data = new TheoryData<SimdLevel>();
        foreach (var level in SimdPath.Supported)
            data.Add(level);
        return data;
    }

    private static readonly int[] Lengths = [1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 172, 512, 4096];

    private static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (var i = 0; i < n; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return x;
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float relative, float absolute)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var tol = absolute + relative * Math.Abs(expected[i]);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"[{i}] expected {expected[i]}, got {actual[i]}");
        }
    }

    [Theory, MemberData(nameof(Levels))]
    public void RmsNorm_matches_the_reference(SimdLevel level)
    {
        foreach (var n in Lengths)
        {
            var x = Random(2 * n, n, 3f);
            var w = Random(n, n + 1);
            var expected = new float[2 * n];
            RmsNorm.Reference(x.AsSpan(0, n), w, expected.AsSpan(0, n), 1e-5f);
            RmsNorm.Reference(x.AsSpan(n, n), w, expected.AsSpan(n, n), 1e-5f);
            var actual = new float[2 * n];
            RmsNorm.Apply(x, w, actual, 2, 1e-5f, level);
            AssertClose(expected, actual, 1e-6f, 1e-7f);
            RmsNorm.Apply(x, w, x, 2, 1e-5f, level); // in place
            AssertClose(expected, x, 1e-6f, 1e-7f);
        }
    }

    [Theory, MemberData(nameof(Levels))]
    public void Softmax_matches_the_reference_and_sums_to_one(SimdLevel level)
    {
        foreach (var n in Lengths)
        {
            var x = Random(n, n, 20f);
            var expected = (float[])x.Clone();
            Softmax.Reference(expected);
            Softmax.Apply(x, level);
            AssertClose(expected, x, 1e-5f, 1e-8f);
            Assert.Equal(1.0, x.Sum(v => (double)v), 5);
        }
    }

    [Theory, MemberData(nameof(Levels))]
    public void SwiGlu_matches_the_reference(SimdLevel level)
    {
        foreach (var n in Lengths)
        {
            var gate = Random(n, n, 12f);
            var up = Random(n, n + 7, 2f);
            var expected = gate.Select((g, i) => SwiGlu.Reference(g, up[i])).ToArray();
            SwiGlu.Apply(gate, up, level);
            AssertClose(expected, gate, 1e-5f, 1e-7f);
        }
    }

    [Theory, MemberData(nameof(Levels))]
    public void Attention_matches_the_reference_for_every_kv_head_and_length(SimdLevel level)
    {
        const int kvHeads = 2, headSize = 24, maxLength = 37;
        var stride = kvHeads * headSize;
        var keys = Random(maxLength * stride, 1, 2f);
        var values = Random(maxLength * stride, 2);
        var query = Random(headSize, 3, 2f);
        var scores = new float[maxLength];
        var expected = new float[headSize];
        var actual = new float[headSize];
        for (var kv = 0; kv < kvHeads; kv++)
        {
            for (var length = 1; length <= maxLength; length++)
            {
                Attention.Reference(query, keys, values, stride, kv * headSize, headSize, length, expected);
                Attention.Head(query, keys, values, stride, kv * headSize, headSize, length, scores, actual, level);
                AssertClose(expected, actual, 1e-5f, 1e-6f);
            }
        }
    }

    [Fact]
    public void Attention_rejects_a_length_past_the_cache()
    {
        var cache = new float[4 * 8];
        var ex = Assert.Throws<ArgumentException>(() =>
            Attention.Head(new float[8], cache, cache, 8, 0, 8, 5, new float[5], new float[8]));
        Assert.Contains("5 positions", ex.Message);
    }

    [Fact]
    public void Rope_rotates_pairs_by_position_times_base_power()
    {
        var rope = new Rope(new RopeParameters(Dimensions: 8, FreqBase: 10000f));
        var cosSin = new float[8];
        rope.Fill(5, cosSin);
        for (var i = 0; i < 4; i++)
        {
            var theta = 5 * Math.Pow(10000, -2.0 * i / 8);
            Assert.Equal(Math.Cos(theta), cosSin[2 * i], 5);
            Assert.Equal(Math.Sin(theta), cosSin[2 * i + 1], 5);
        }
        // Two heads of 10 with 8 rotated: pairs rotate, the last two floats of each head pass through.
        var v = Random(20, 4);
        var original = (float[])v.Clone();
        rope.Rotate(v, 2, 10, cosSin);
        for (var h = 0; h < 2; h++)
        {
            for (var i = 0; i < 8; i += 2)
            {
                var (x0, x1) = (original[h * 10 + i], original[h * 10 + i + 1]);
                Assert.Equal(x0 * cosSin[i] - x1 * cosSin[i + 1], v[h * 10 + i], 6);
                Assert.Equal(x0 * cosSin[i + 1] + x1 * cosSin[i], v[h * 10 + i + 1], 6);
            }
            Assert.Equal(original[h * 10 + 8], v[h * 10 + 8]);
            Assert.Equal(original[h * 10 + 9], v[h * 10 + 9]);
        }
    }

    [Fact]
    public void Rope_rotations_compose_so_cached_keys_can_be_shifted()
    {
        foreach (var scaling in new[] { RopeScalingType.None, RopeScalingType.Linear, RopeScalingType.Yarn })
        {
            var rope = new Rope(new RopeParameters(16, 10000f, scaling, 4f, 64));
            var direct = Random(16, 5);
            var shifted = (float[])direct.Clone();
            var cs = new float[16];
            rope.Fill(30, cs);
            rope.Rotate(direct, 1, 16, cs);
            rope.Fill(100, cs);
            rope.Rotate(shifted, 1, 16, cs);
            rope.Fill(-70, cs, applyMagnitude: false);
            rope.Rotate(shifted, 1, 16, cs);
            AssertClose(direct, shifted, 1e-4f, 1e-5f);
        }
    }

    [Fact]
    public void Rope_linear_scaling_divides_the_angle_and_yarn_keeps_high_frequencies()
    {
        var plain = new float[16];
        new Rope(new RopeParameters(16)).Fill(40, plain);
        var linear = new float[16];
        new Rope(new RopeParameters(16, Scaling: RopeScalingType.Linear, ScalingFactor: 4f)).Fill(160, linear);
        AssertClose(plain, linear, 1e-4f, 1e-4f);

        // YaRN: the fastest pair (i = 0) extrapolates (angle = pos), the slowest interpolates (angle = pos / factor),
        // and both carry the magnitude 1 + 0.1 ln(factor).
        var yarn = new float[16];
        new Rope(new RopeParameters(16, Scaling: RopeScalingType.Yarn, ScalingFactor: 4f, OriginalContextLength: 512)).Fill(3, yarn);
        var m = 1 + 0.1 * Math.Log(4);
        Assert.Equal(Math.Cos(3) * m, yarn[0], 5);
        Assert.Equal(Math.Sin(3) * m, yarn[1], 5);
        var slow = 3 * Math.Pow(10000, -14.0 / 16) / 4;
        Assert.Equal(Math.Cos(slow) * m, yarn[14], 5);
        Assert.Equal(Math.Sin(slow) * m, yarn[15], 5);
    }
}
