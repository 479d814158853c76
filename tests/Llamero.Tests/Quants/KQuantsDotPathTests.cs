using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;

namespace Llamero.Tests.Quants;

/// <summary>
/// Every SIMD path this CPU runs against the scalar reference, on lengths that hit every loop tail.
/// The integer sums of all paths are exact; paths differ only in how float block scales are accumulated
/// (eight lane sums vs one per block, FMA vs not), so they agree to within a few ulps of the magnitude of the
/// terms summed: <see cref="Tolerance"/> allows 1e-5 of it.
/// </summary>
public class KQuantsDotPathTests
{
    public static TheoryData<GgmlType, SimdLevel> FormatsAndPaths()
    {
        var data = new TheoryData<GgmlType, SimdLevel>();
        foreach (var f in KQuantTestData.Formats)
            foreach (var level in SimdPath.Supported)
                data.Add(f.Type, level);
        return data;
    }

    internal static double Tolerance(KFormat f, byte[] w, byte[] a, int n) => 1e-5 * KQuantTestData.Magnitude(f, w, a, n) + 1e-37;

    [Theory]
    [MemberData(nameof(FormatsAndPaths))]
    public void Every_path_agrees_with_the_reference(GgmlType type, SimdLevel level)
    {
        var f = KQuantTestData.Get(type);
        foreach (var n in new[] { 256, 512, 768, 1024, 1280, 4096 })
            foreach (var kind in new[] { "gaussian", "outlier", "huge", "positive", "random-blocks" })
            {
                var w = kind == "random-blocks" ? KQuantTestData.RandomBlocks(f, n / 256, n) : Quantized(f, kind, n);
                var a = new byte[n / 256 * Q8_K.BlockBytes];
                Q8_K.Quantize(KQuantTestData.Row("gaussian", n, seed: n ^ 0x55), a);
                var reference = f.Format.DotReference(w, a, n);
                var fast = f.DotWith(level, w, a, n);
                var tolerance = Tolerance(f, w, a, n);
                Assert.True(Math.Abs(fast - reference) <= tolerance,
                    $"{f} {level} {kind} n={n}: {fast:R} vs reference {reference:R} (tolerance {tolerance:G3})");
            }
    }

    [Theory]
    [MemberData(nameof(FormatsAndPaths))]
    public void Every_path_is_exact_for_integer_data(GgmlType type, SimdLevel level)
    {
        // With unit scales the whole sum is an exact integer below 2^24: any summation order gives the same float.
        var f = KQuantTestData.Get(type);
        var n = 512;
        var w = KQuantTestData.RandomBlocks(f, n / 256, seed: 9);
        foreach (var off in f.HalfOffsets)
            for (var b = 0; b < n / 256; b++)
                BitConverter.TryWriteBytes(w.AsSpan(b * f.BlockBytes + off), (Half)1f);
        var a = new byte[n / 256 * Q8_K.BlockBytes];
        var rng = new Random(3);
        for (var b = 0; b < n / 256; b++)
        {
            var block = a.AsSpan(b * Q8_K.BlockBytes, Q8_K.BlockBytes);
            BitConverter.TryWriteBytes(block, 1f);
            for (var g = 0; g < 16; g++)
            {
                var sum = 0;
                for (var k = 0; k < 16; k++)
                {
                    var v = (sbyte)rng.Next(-4, 5);
                    block[Q8_K.QsOffset + 16 * g + k] = (byte)v;
                    sum += v;
                }
                BitConverter.TryWriteBytes(block[(Q8_K.BSumsOffset + 2 * g)..], (short)sum);
            }
        }
        var reference = f.Format.DotReference(w, a, n);
        Assert.True(Math.Abs(reference) < 1 << 24);
        Assert.Equal(reference, f.DotWith(level, w, a, n));
    }

    [Theory]
    [MemberData(nameof(FormatsAndPaths))]
    public void Bad_lengths_name_the_format(GgmlType type, SimdLevel level)
    {
        var f = KQuantTestData.Get(type);
        var w = new byte[f.BlockBytes];
        var a = new byte[Q8_K.BlockBytes];
        var e = Assert.Throws<ArgumentException>(() => f.DotWith(level, w, a, 100));
        Assert.Contains(f.ToString(), e.Message);
        e = Assert.Throws<ArgumentException>(() => f.DotWith(level, w, a, 512));
        Assert.Contains(f.ToString(), e.Message);
    }

    private static byte[] Quantized(KFormat f, string kind, int n)
    {
        var w = new byte[n / 256 * f.BlockBytes];
        f.Format.Quantize(KQuantTestData.Row(kind, n, seed: n), w);
        return w;
    }
}
