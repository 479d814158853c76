using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Tests.Oracle;

namespace Llamero.Tests.Quants;

/// <summary>Every format against llama.cpp's own row functions, bit for bit, on random and adversarial rows.</summary>
public class FormatOracleTests
{
    // 37 blocks of 32 (1184 elements): not a power of two, several blocks of every kind.
    private const int N = 37 * 32;

    [Theory]
    [MemberData(nameof(QuantCases.TypesAndKinds), MemberType = typeof(QuantCases))]
    public void Quantize_is_byte_identical_to_ggml_ref(GgmlType type, string kind)
    {
        var x = QuantRows.Make(kind, N);
        var ours = QuantCases.Quantize(type, x);
        var theirs = new byte[ours.Length];
        OracleRows.QuantizeReference(type, x, theirs);
        Assert.Equal(theirs, ours);
    }

    [Theory]
    [MemberData(nameof(QuantCases.TypesAndKinds), MemberType = typeof(QuantCases))]
    public void Dequantize_is_bit_identical_to_ggml(GgmlType type, string kind)
    {
        if (type == GgmlType.Q8_1)
            return; // ggml has no dequantize_row_q8_1 (an activation-only type).
        var x = QuantRows.Make(kind, N);
        var bytes = new byte[GgmlTypes.Get(type).RowBytes(N)];
        OracleRows.QuantizeReference(type, x, bytes);
        var theirs = new float[N];
        OracleRows.Dequantize(type, bytes, theirs);
        AssertSameBits(theirs, QuantCases.Dequantize(type, bytes, N));
    }

    [Theory]
    [MemberData(nameof(QuantCases.Types), MemberType = typeof(QuantCases))]
    public void Dequantize_of_random_bytes_is_bit_identical_to_ggml(GgmlType type)
    {
        if (type == GgmlType.Q8_1)
            return;
        // Arbitrary bit patterns: scales that are NaN, infinite or subnormal included.
        var traits = GgmlTypes.Get(type);
        var bytes = new byte[traits.RowBytes(N)];
        new Random(5).NextBytes(bytes);
        var theirs = new float[N];
        OracleRows.Dequantize(type, bytes, theirs);
        AssertSameBits(theirs, QuantCases.Dequantize(type, bytes, N));
    }

    [Theory]
    [MemberData(nameof(QuantCases.TypesAndKinds), MemberType = typeof(QuantCases))]
    public void DotReference_equals_ggml_generic(GgmlType type, string kind)
    {
        if (QuantCases.IsFloat(type) || type == GgmlType.Q8_1)
            return; // ggml exports no scalar float dot (see Avx2_float_dot_equals_ggml_avx2_build), none for Q8_1 rows.
        var format = QuantFormats.Get(type);
        var w = QuantCases.Quantize(type, QuantRows.Make(kind, N));
        var a = QuantCases.Activations(type, QuantRows.Make("gaussian", N, seed: 2));
        var theirs = OracleRows.Dot(type, format.DotPartner, w, a, N);
        AssertSameBits([theirs], [format.DotReference(w, a, N)]);
    }

    [Theory]
    [MemberData(nameof(QuantCases.Types), MemberType = typeof(QuantCases))]
    public void Avx2_float_dot_equals_ggml_avx2_build(GgmlType type)
    {
        if (!QuantCases.IsFloat(type) || !SimdPath.IsSupported(SimdLevel.Avx2))
            return;
        foreach (var n in QuantCases.TailLengths(type))
        {
            var w = QuantCases.Quantize(type, QuantRows.Make("gaussian", n));
            var a = QuantCases.Activations(type, QuantRows.Make("uniform", n, seed: 3));
            var theirs = OracleRows.Dot(type, type, w, a, n);
            var ours = QuantCases.Paths[type](SimdLevel.Avx2, w, a, n);
            Assert.True(BitConverter.SingleToInt32Bits(theirs) == BitConverter.SingleToInt32Bits(ours), $"n={n}: ggml {theirs:R}, Llamero {ours:R}");
        }
    }

    [Theory]
    [MemberData(nameof(QuantRows.KindData), MemberType = typeof(QuantRows))]
    public void Activation_quantizers_match_ggml_cpu_backend(string kind)
    {
        var x = QuantRows.Make(kind, N);
        var ours = new byte[GgmlTypes.Get(GgmlType.Q8_0).RowBytes(N)];
        var theirs = new byte[ours.Length];
        Q8_0.QuantizeForDot(x, ours);
        GgmlNative.QuantizeRowCpu(GgmlType.Q8_0, x, theirs);
        Assert.Equal(theirs, ours);

        ours = new byte[GgmlTypes.Get(GgmlType.Q8_1).RowBytes(N)];
        theirs = new byte[ours.Length];
        Q8_1.QuantizeForDot(x, ours);
        GgmlNative.QuantizeRowCpu(GgmlType.Q8_1, x, theirs);
        Assert.Equal(theirs, ours);
    }

    [Fact]
    public void Every_half_and_bfloat16_bit_pattern_converts_like_ggml()
    {
        var bits = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan()).ToArray();
        foreach (var type in new[] { GgmlType.F16, GgmlType.BF16 })
        {
            var theirs = new float[bits.Length];
            OracleRows.Dequantize(type, bytes, theirs);
            AssertSameBits(theirs, QuantCases.Dequantize(type, bytes, bits.Length));
            // And back: every float a half/bfloat16 widens to (NaN aside) rounds back to the same bits.
            var finite = theirs.Where(f => !float.IsNaN(f)).ToArray();
            var again = new byte[finite.Length * 2];
            var theirsAgain = new byte[finite.Length * 2];
            QuantFormats.Get(type).Quantize(finite, again);
            OracleRows.QuantizeReference(type, finite, theirsAgain);
            Assert.Equal(theirsAgain, again);
        }
    }

    internal static void AssertSameBits(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var same = BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i])
                || (float.IsNaN(expected[i]) && float.IsNaN(actual[i]));
            Assert.True(same, $"element {i}: ggml {expected[i]:R}, Llamero {actual[i]:R}");
        }
    }
}
