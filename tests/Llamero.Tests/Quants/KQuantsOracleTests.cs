using System.Runtime.CompilerServices;
using Llamero.Gguf;
using Llamero.Quants;
using Llamero.Tests.Oracle;

namespace Llamero.Tests.Quants;

/// <summary>Every K-quant against llama.cpp's own row functions: same floats, same bytes, same dot products.</summary>
public class KQuantsOracleTests
{
    public static TheoryData<GgmlType> FormatTypes() => [.. KQuantTestData.Formats.Select(f => f.Type)];

    public static TheoryData<GgmlType, string> FormatsAndRows()
    {
        var data = new TheoryData<GgmlType, string>();
        foreach (var f in KQuantTestData.Formats)
            foreach (var kind in KQuantTestData.RowKinds)
                data.Add(f.Type, kind);
        return data;
    }

    [Fact]
    public void Block_structs_have_ggml_sizes()
    {
        Assert.Equal(84, Unsafe.SizeOf<BlockQ2_K>());
        Assert.Equal(110, Unsafe.SizeOf<BlockQ3_K>());
        Assert.Equal(144, Unsafe.SizeOf<BlockQ4_K>());
        Assert.Equal(176, Unsafe.SizeOf<BlockQ5_K>());
        Assert.Equal(210, Unsafe.SizeOf<BlockQ6_K>());
        Assert.Equal(292, Unsafe.SizeOf<BlockQ8_K>());
        foreach (var type in new[] { GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K })
            Assert.Equal(GgmlTypes.Get(type).BytesPerBlock, QuantFormats.Get(type).Traits.BytesPerBlock);
    }

    [Theory]
    [MemberData(nameof(FormatTypes))]
    public void Dequantize_equals_ggml_bit_for_bit_on_random_blocks(GgmlType type)
    {
        var f = KQuantTestData.Get(type);
        foreach (var n in KQuantTestData.Lengths)
        {
            var blocks = KQuantTestData.RandomBlocks(f, n / 256, seed: n);
            var ours = new float[n];
            var theirs = new float[n];
            f.Format.Dequantize(blocks, ours);
            GgmlNative.DequantizeRow(type, blocks, theirs);
            AssertBitEqual(theirs, ours, $"{f} n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(FormatsAndRows))]
    public void Quantize_equals_ggml_reference_byte_for_byte(GgmlType type, string kind)
    {
        var f = KQuantTestData.Get(type);
        foreach (var n in new[] { 256, 768 })
        {
            var x = KQuantTestData.Row(kind, n, seed: kind.Length * 31 + n);
            var ours = new byte[n / 256 * f.BlockBytes];
            var theirs = new byte[ours.Length];
            f.Format.Quantize(x, ours);
            GgmlNative.QuantizeRowReference(type, x, theirs);
            Assert.True(theirs.AsSpan().SequenceEqual(ours), $"{f} {kind} n={n}: first difference at byte {FirstDifference(theirs, ours)}");

            var back = new float[n];
            var backTheirs = new float[n];
            f.Format.Dequantize(ours, back);
            GgmlNative.DequantizeRow(type, theirs, backTheirs);
            AssertBitEqual(backTheirs, back, $"{f} {kind} round trip");
        }
    }

    [Theory]
    [MemberData(nameof(FormatsAndRows))]
    public void Dot_reference_equals_ggml_generic_and_simd_within_rounding(GgmlType type, string kind)
    {
        var f = KQuantTestData.Get(type);
        foreach (var n in KQuantTestData.Lengths)
        {
            var w = new byte[n / 256 * f.BlockBytes];
            f.Format.Quantize(KQuantTestData.Row(kind, n, seed: n + 1), w);
            var a = new byte[n / 256 * Q8_K.BlockBytes];
            Q8_K.Quantize(KQuantTestData.Row("gaussian", n, seed: n + 2), a);
            AssertDotMatchesGgml(f, w, a, n, kind);

            // Raw random blocks reach quant and scale combinations the quantizer never writes.
            AssertDotMatchesGgml(f, KQuantTestData.RandomBlocks(f, n / 256, seed: n + 3), a, n, kind + "/random-blocks");
        }
    }

    [Theory]
    [MemberData(nameof(RowKinds))]
    public void Q8_K_quantize_equals_the_cpu_backend_and_the_reference(string kind)
    {
        foreach (var n in KQuantTestData.Lengths)
        {
            var x = KQuantTestData.Row(kind, n, seed: n * 7 + kind.Length);
            var ours = new byte[n / 256 * Q8_K.BlockBytes];
            var cpu = new byte[ours.Length];
            var reference = new byte[ours.Length];
            Q8_K.Quantize(x, ours);
            GgmlNative.QuantizeRowCpu(GgmlType.Q8_K, x, cpu);
            GgmlNative.QuantizeRowReference(GgmlType.Q8_K, x, reference);
            if (kind == "zeros")
            {
                // ggml leaves bsums of an all-zero block unwritten; compare scale and quants only.
                for (var b = 0; b < n / 256; b++)
                    cpu.AsSpan(b * Q8_K.BlockBytes + Q8_K.BSumsOffset, 32).Clear();
                reference = cpu;
            }
            Assert.True(cpu.AsSpan().SequenceEqual(ours), $"Q8_K {kind} n={n} vs cpu: byte {FirstDifference(cpu, ours)}");
            Assert.True(reference.AsSpan().SequenceEqual(ours), $"Q8_K {kind} n={n} vs ref: byte {FirstDifference(reference, ours)}");

            var back = new float[n];
            var backTheirs = new float[n];
            Q8_K.Dequantize(ours, back);
            GgmlNative.DequantizeRow(GgmlType.Q8_K, ours, backTheirs);
            AssertBitEqual(backTheirs, back, $"Q8_K {kind} dequantize");
        }
    }

    public static TheoryData<string> RowKinds() => [.. KQuantTestData.RowKinds];

    private static void AssertDotMatchesGgml(KFormat f, byte[] w, byte[] a, int n, string what)
    {
        var reference = f.Format.DotReference(w, a, n);
        var generic = GgmlNative.VecDot(f.Type, GgmlType.Q8_K, w, a, n, generic: true);
        Assert.True(BitConverter.SingleToInt32Bits(generic) == BitConverter.SingleToInt32Bits(reference),
            $"{f} {what} n={n}: reference {reference:R} vs ggml generic {generic:R}");

        var tolerance = KQuantsDotPathTests.Tolerance(f, w, a, n);
        var simd = GgmlNative.VecDot(f.Type, GgmlType.Q8_K, w, a, n, generic: false);
        Assert.True(Math.Abs(simd - reference) <= tolerance, $"{f} {what} n={n}: reference {reference:R} vs ggml SIMD {simd:R} (tolerance {tolerance:G3})");
        var ours = f.Format.Dot(w, a, n);
        Assert.True(Math.Abs(ours - reference) <= tolerance, $"{f} {what} n={n}: reference {reference:R} vs Dot {ours:R} (tolerance {tolerance:G3})");
    }

    internal static void AssertBitEqual(float[] expected, float[] actual, string what)
    {
        for (var i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, ggml says {expected[i]:R}");
    }

    private static int FirstDifference(byte[] a, byte[] b)
    {
        for (var i = 0; i < a.Length; i++)
            if (a[i] != b[i])
                return i;
        return -1;
    }
}
