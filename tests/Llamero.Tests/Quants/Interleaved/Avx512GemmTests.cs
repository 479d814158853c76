using System.Runtime.Intrinsics.X86;
using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Tests.Quants.Interleaved;

/// <summary>
/// The AVX-512 Gemm kernels against the AVX2 ones, bit for bit. The kernels are written over <see cref="IAvx512Ops"/>, so
/// an AVX2 machine runs their very code through <see cref="Avx512Emulation"/> (every operation one instruction's
/// semantics from two AVX2 halves); where AVX-512 runs, the real instructions (<see cref="Avx512Hardware"/>, and the
/// Avx512 level of <c>Gemm</c>) are compared too. Data: quantizer rows, random bytes with finite scales and saturated
/// bytes, against quantized, random and constant ±extreme activations, 1..33 activation rows (odd counts included).
/// </summary>
public class Avx512GemmTests
{
    public static TheoryData<string> Layouts() => new() { "Q4_Kx8", "Q6_Kx8", "Q8_0x8", "Q4_0x8" };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Emulated_AVX512_Gemm_is_bit_identical_to_the_AVX2_Gemm(string name)
    {
        if (!Avx2.IsSupported || !Fma.IsSupported)
            return; // The emulation is built from AVX2 (non-x86 CI runs neither kernel).
        Assert.True(Compare(name, Kernel.Emulated) > 0);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Hardware_AVX512_Gemm_is_bit_identical_to_the_AVX2_Gemm(string name)
    {
        if (!Avx512BW.IsSupported)
        {
            // No AVX-512 here: the level must not be offered, and the same kernel code is checked through the emulation.
            Assert.DoesNotContain(SimdLevel.Avx512, SimdPath.Supported);
            if (Avx2.IsSupported && Fma.IsSupported)
                Assert.True(Compare(name, Kernel.Emulated) > 0);
            return;
        }
        Assert.Contains(SimdLevel.Avx512, SimdPath.Supported);
        Assert.True(Compare(name, Kernel.Hardware) > 0);
        // The level's dispatch with the 512-bit Gemm on (off by default; either way the bits are the AVX2 kernel's, so
        // tests running beside this one see the same results).
        var enabled = Avx512Kernels.GemmEnabled;
        Avx512Kernels.GemmEnabled = true;
        try
        {
            Assert.True(Compare(name, Kernel.Avx512Level) > 0);
        }
        finally
        {
            Avx512Kernels.GemmEnabled = enabled;
        }
    }

    internal enum Kernel
    {
        Emulated,
        Hardware,
        Avx512Level,
    }

    private static int Compare(string name, Kernel kernel) => name switch
    {
        "Q4_Kx8" => Compare<Q4_Kx8>(kernel, weightBlockBytes: 144, halves: [0, 2], blockSize: 256),
        "Q6_Kx8" => Compare<Q6_Kx8>(kernel, weightBlockBytes: 210, halves: [208], blockSize: 256),
        "Q8_0x8" => Compare<Q8_0x8>(kernel, weightBlockBytes: 34, halves: [0], blockSize: 32),
        "Q4_0x8" => Compare<Q4_0x8>(kernel, weightBlockBytes: 18, halves: [0], blockSize: 32),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Every weight case against every activation case and count; returns the number of results compared.</summary>
    private static int Compare<TLayout>(Kernel kernel, int weightBlockBytes, int[] halves, int blockSize)
        where TLayout : IInterleavedFormat, IAvx512Gemm
    {
        var compared = 0;
        var colsList = blockSize == 256 ? new[] { 256, 768 } : new[] { 64, 256 };
        foreach (var cols in colsList)
        {
            var rowBytes = (int)GgmlTypes.Get(TLayout.Type).RowBytes(cols);
            foreach (var (weightKind, plain) in WeightCases(TLayout.Type, cols, rowBytes, weightBlockBytes, halves))
            {
                var group = new byte[TLayout.GroupBytes(cols)];
                TLayout.Pack(plain, cols, group);
                var counts = cols == colsList[0] ? Enumerable.Range(1, 33) : [1, 2, 5, 16, 17];
                foreach (var actKind in new[] { "quantized", "random", "min", "max" })
                    foreach (var count in counts)
                        compared += CompareOne<TLayout>(kernel, group, cols, count, actKind, $"{weightKind} weights, {actKind} activations");
            }
        }
        return compared;
    }

    private static int CompareOne<TLayout>(Kernel kernel, byte[] group, int cols, int count, string actKind, string what)
        where TLayout : IInterleavedFormat, IAvx512Gemm
    {
        var partner = GgmlTypes.Get(QuantFormats.Get(TLayout.Type).DotPartner);
        var actBytes = (int)partner.RowBytes(cols);
        var stride = actBytes + 36; // rows need not be packed or aligned
        const int resultStride = 11;
        var acts = new byte[(count - 1) * stride + actBytes];
        for (var b = 0; b < count; b++)
            Activations(TLayout.Type, partner.Type, cols, actKind, seed: 100 * count + b).CopyTo(acts, b * stride);
        var compared = 0;
        // The whole row in one call, then (layouts with K-blocking) ranges of one block and of two then one.
        var blocks = cols / partner.BlockSize;
        int[][] splits = TLayout.HasGemmRange && blocks > 1 ? [[blocks], [1], [2, 1]] : [[blocks]];
        foreach (var split in splits)
        {
            var expected = new float[(count - 1) * resultStride + 8];
            var actual = new float[expected.Length];
            expected.AsSpan().Fill(float.NaN);
            actual.AsSpan().Fill(float.NaN);
            var expectedCarry = new float[count * TLayout.GemmCarry];
            var actualCarry = new float[expectedCarry.Length];
            for (int first = 0, k = 0; first < blocks; k++)
            {
                var width = Math.Min(split[k % split.Length], blocks - first);
                var range = (first == 0 ? RowRange.First : RowRange.Middle) | (first + width == blocks ? RowRange.Last : RowRange.Middle);
                var w = group.AsSpan((int)(TLayout.GroupBytes(cols) / blocks * first));
                var a = acts.AsSpan((int)partner.RowBytes(first * partner.BlockSize));
                var n = width * partner.BlockSize;
                Run<TLayout>(null, w, a, stride, count, n, expected, resultStride, expectedCarry, range);
                Run<TLayout>(kernel, w, a, stride, count, n, actual, resultStride, actualCarry, range);
                var at = $"{typeof(TLayout).Name} {kernel} cols {cols} count {count} {what}, range [{first}, {first + width}) of {blocks}";
                AssertBits(expected, actual, resultStride, at);
                AssertBits(expectedCarry, actualCarry, Math.Max(1, TLayout.GemmCarry), at + " (carry)");
                compared += count * 8;
                first += width;
            }
        }
        return compared;
    }

    /// <summary>One (ranged) Gemm call: the AVX2 kernel for a null <paramref name="kernel"/>, else the AVX-512 one it names.</summary>
    private static void Run<TLayout>(Kernel? kernel, ReadOnlySpan<byte> group, ReadOnlySpan<byte> acts, int stride, int count, int cols,
        Span<float> results, int resultStride, Span<float> carry, RowRange range) where TLayout : IInterleavedFormat, IAvx512Gemm
    {
        switch (kernel)
        {
            case null or Kernel.Avx512Level:
                var level = kernel is null ? SimdLevel.Avx2 : SimdLevel.Avx512;
                if (range == RowRange.Whole)
                    TLayout.Gemm(level, group, acts, stride, count, cols, results, resultStride);
                else
                    TLayout.GemmRange(level, group, acts, stride, count, cols, results, resultStride, carry, range);
                break;
            case Kernel.Emulated:
                TLayout.GemmAvx512<Avx512Emulation>(group, acts, stride, count, cols, results, resultStride, carry, range);
                break;
            default:
                TLayout.GemmAvx512<Avx512Hardware>(group, acts, stride, count, cols, results, resultStride, carry, range);
                break;
        }
    }

    private static void AssertBits(float[] expected, float[] actual, int stride, string at)
    {
        for (var i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{at}: value {i} (act {i / stride}, row {i % stride}) AVX2 {expected[i]:R}, AVX-512 {actual[i]:R}");
    }

    /// <summary>Eight plain rows: the quantizer's, random bytes (fp16 fields finite) and every byte 0xFF (fp16 fields finite).</summary>
    private static IEnumerable<(string, byte[])> WeightCases(GgmlType type, int cols, int rowBytes, int blockBytes, int[] halves)
    {
        yield return ("quantized", InterleavedLayoutTests.PlainRows(type, 8, cols, seed: cols));
        var rng = new Random(cols);
        var random = new byte[8 * rowBytes];
        rng.NextBytes(random);
        var saturated = new byte[8 * rowBytes];
        saturated.AsSpan().Fill(0xFF);
        for (var block = 0; block < random.Length / blockBytes; block++)
            foreach (var h in halves)
            {
                KQuantHelpers.WriteHalf(random, block * blockBytes + h, (float)(rng.NextDouble() * 4 - 2));
                KQuantHelpers.WriteHalf(saturated, block * blockBytes + h, block % 2 == 0 ? 1f : -0.75f);
            }
        yield return ("random", random);
        yield return ("saturated", saturated);
    }

    /// <summary>One activation row of the partner format: quantized floats, random quants, or every quant at the minimum or maximum.</summary>
    private static byte[] Activations(GgmlType type, GgmlType partner, int cols, string kind, int seed)
    {
        if (kind == "quantized")
            return QuantCases.Activations(type, QuantRows.Make(seed % 2 == 0 ? "gaussian" : "mixed-signs", cols, seed));
        var rng = new Random(seed);
        // Q8_0 activations come from a symmetric quantizer (the AVX2 Q8_0 kernel's sign trick relies on |q| <= 127).
        var min = partner == GgmlType.Q8_K ? -128 : -127;
        var quants = new sbyte[cols];
        for (var k = 0; k < cols; k++)
            quants[k] = (sbyte)(kind switch { "min" => min, "max" => 127, _ => rng.Next(min, 128) });
        return partner == GgmlType.Q8_K ? Q8KRow(quants, rng) : Q8_0Row(quants, rng);
    }

    private static byte[] Q8KRow(sbyte[] quants, Random rng)
    {
        var row = new byte[quants.Length / 256 * Q8_K.BlockBytes];
        for (var i = 0; i < quants.Length / 256; i++)
        {
            var block = row.AsSpan(i * Q8_K.BlockBytes, Q8_K.BlockBytes);
            BitConverter.TryWriteBytes(block, (float)(rng.NextDouble() * 0.02 + 1e-4));
            for (var k = 0; k < 256; k++)
                block[4 + k] = (byte)quants[256 * i + k];
            for (var g = 0; g < 16; g++)
            {
                var sum = 0;
                for (var k = 0; k < 16; k++)
                    sum += quants[256 * i + 16 * g + k];
                BitConverter.TryWriteBytes(block[(260 + 2 * g)..], (short)sum);
            }
        }
        return row;
    }

    private static byte[] Q8_0Row(sbyte[] quants, Random rng)
    {
        var row = new byte[quants.Length / 32 * 34];
        for (var i = 0; i < quants.Length / 32; i++)
        {
            KQuantHelpers.WriteHalf(row, 34 * i, (float)(rng.NextDouble() * 0.02 + 1e-4));
            for (var k = 0; k < 32; k++)
                row[34 * i + 2 + k] = (byte)quants[32 * i + k];
        }
        return row;
    }
}
