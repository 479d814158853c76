using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Tests.Quants.Interleaved;

/// <summary>
/// Q4_Kx8 beyond the layout contract: bytes no quantizer writes (every nibble 15, 6-bit scales and mins at 63,
/// activations at −128, random scale bits, infinite, NaN and subnormal d or dmin) must still give the plain scalar dot on
/// every path, and Gemv the bits of Gemm, which proves the int16 sums of the AVX2 kernels cannot overflow, that every bit
/// of the packed scales is decoded and that the Gemv's fast fp16 widening falls back to the exact one when it must.
/// </summary>
public class Q4_Kx8Tests
{
    private const int BlockBytes = 144;

    private static readonly WeightLayout Layout = InterleavedLayouts.Default(GgmlType.Q4_K)!;

    [Fact]
    public void Q4_K_is_repacked_into_Q4_Kx8_of_the_same_size()
    {
        Assert.Equal("Q4_Kx8", Layout.Name);
        Assert.Equal(8, Layout.RowGroup);
        Assert.Equal(8 * GgmlTypes.Get(GgmlType.Q4_K).RowBytes(4096), Layout.GroupBytes(4096));
    }

    [Theory]
    [InlineData(15, 0xFF, -128)]
    [InlineData(15, 0xFF, 127)]
    [InlineData(0, 0xFF, -128)]
    [InlineData(15, 0x3F, -128)]
    public void Extreme_levels_scales_and_activations_match_the_scalar_dot(int level, int scaleBytes, int activation)
    {
        const int cols = 512;
        var plain = new byte[8 * 2 * BlockBytes];
        for (var b = 0; b < plain.Length / BlockBytes; b++)
        {
            var block = plain.AsSpan(b * BlockBytes, BlockBytes);
            KQuantHelpers.WriteHalf(block, 0, 0.5f + b);
            KQuantHelpers.WriteHalf(block, 2, 0.25f * (b % 3));
            block.Slice(4, 12).Fill((byte)scaleBytes);
            block[16..].Fill((byte)(level | (level << 4)));
        }
        var act = ConstantActivations(cols, (sbyte)activation);
        AssertMatches(plain, act, cols);
    }

    [Fact]
    public void Random_bytes_with_finite_scales_match_the_scalar_dot()
    {
        const int cols = 768;
        var rng = new Random(11);
        var (plain, act) = RandomBlocks(rng, cols / 256);
        AssertMatches(plain, act, cols);
    }

    [Theory]
    [InlineData(0, 0x7C00)] // d +infinity
    [InlineData(0, 0xFC00)] // d −infinity
    [InlineData(2, 0x7E00)] // dmin NaN
    [InlineData(2, 0x0001)] // dmin the smallest subnormal
    [InlineData(0, 0x83FF)] // d the largest negative subnormal
    public void Infinite_NaN_or_subnormal_scales_match_the_scalar_dot_and_Gemm(int offset, int half)
    {
        const int cols = 512;
        var (plain, act) = RandomBlocks(new Random(5), cols / 256);
        // Row 5: a negative d in its first block (its sign must not hide the special half from the kernel's check),
        // the special half in its second.
        KQuantHelpers.WriteHalf(plain, 5 * 2 * BlockBytes, -0.75f);
        BitConverter.TryWriteBytes(plain.AsSpan(5 * 2 * BlockBytes + BlockBytes + offset), (ushort)half);
        AssertMatches(plain, act, cols);
    }

    /// <summary>Eight rows of <paramref name="blocks"/> random plain blocks with finite scales, and one random activation row.</summary>
    private static (byte[] Plain, byte[] Activations) RandomBlocks(Random rng, int blocks)
    {
        var plain = new byte[8 * blocks * BlockBytes];
        rng.NextBytes(plain);
        for (var b = 0; b < plain.Length / BlockBytes; b++)
        {
            KQuantHelpers.WriteHalf(plain, b * BlockBytes, (float)(rng.NextDouble() * 2 - 1));
            KQuantHelpers.WriteHalf(plain, b * BlockBytes + 2, (float)rng.NextDouble());
        }
        var act = new byte[blocks * Q8_K.BlockBytes];
        for (var i = 0; i < blocks; i++)
        {
            var block = act.AsSpan(i * Q8_K.BlockBytes, Q8_K.BlockBytes);
            BitConverter.TryWriteBytes(block, 0.01f);
            WriteQuants(block, Enumerable.Range(0, 256).Select(_ => (sbyte)rng.Next(-128, 128)).ToArray());
        }
        return (plain, act);
    }

    private static byte[] ConstantActivations(int cols, sbyte value)
    {
        var act = new byte[cols / 256 * Q8_K.BlockBytes];
        for (var i = 0; i < cols / 256; i++)
        {
            var block = act.AsSpan(i * Q8_K.BlockBytes, Q8_K.BlockBytes);
            BitConverter.TryWriteBytes(block, 1f / 64);
            WriteQuants(block, Enumerable.Repeat(value, 256).ToArray());
        }
        return act;
    }

    /// <summary>Writes a Q8_K block's quants and their 16-element sums.</summary>
    private static void WriteQuants(Span<byte> block, sbyte[] qs)
    {
        for (var k = 0; k < 256; k++)
            block[4 + k] = (byte)qs[k];
        for (var g = 0; g < 16; g++)
            BitConverter.TryWriteBytes(block[(260 + 2 * g)..], (short)qs.Skip(16 * g).Take(16).Sum(q => q));
    }

    private static void AssertMatches(byte[] plain, byte[] act, int cols)
    {
        var rowBytes = plain.Length / 8;
        var group = new byte[Layout.GroupBytes(cols)];
        Layout.Pack(plain, cols, group);
        var back = new byte[plain.Length];
        Layout.Unpack(group, cols, back);
        Assert.Equal(plain, back);
        var results = new float[8];
        var batch = new float[4 * 8];
        var acts = new byte[4 * act.Length];
        for (var b = 0; b < 4; b++)
            act.CopyTo(acts, b * act.Length);
        foreach (var level in SimdPath.Supported)
        {
            Layout.Gemv(level, group, act, cols, results);
            Layout.Gemm(level, group, acts, act.Length, 4, cols, batch, 8);
            for (var r = 0; r < 8; r++)
            {
                var expected = Q4_K.DotReference(plain.AsSpan(r * rowBytes, rowBytes), act, cols);
                // A non-finite plain dot (an infinite or NaN scale) may come out as infinity or NaN, depending on the order of the float steps.
                Assert.True(Math.Abs(results[r] - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)) || (!float.IsFinite(expected) && !float.IsFinite(results[r])),
                    $"path {level} row {r}: Gemv {results[r]:R}, scalar dot {expected:R}");
                for (var b = 0; b < 4; b++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(results[r]), BitConverter.SingleToInt32Bits(batch[8 * b + r]));
            }
        }
    }
}
