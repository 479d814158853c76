using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Llamero.Quants;

namespace Llamero.Tests.Quants;

/// <summary>
/// The vectorised half conversions (<see cref="Fp16.ToSingle"/>, <see cref="Fp16.FromSingle"/> and the vector
/// forms the F16 kernels use) against the scalar ones, which the oracle tests hold to ggml bit for bit.
/// </summary>
public class Fp16VectorTests
{
    private static readonly ushort[] AllHalves = [.. Enumerable.Range(0, 65536).Select(i => (ushort)i)];

    [Fact]
    public void ToSingle_widens_every_half_like_the_scalar_conversion()
    {
        // Odd lengths and offsets: every vector width and every tail.
        foreach (var (start, length) in new[] { (0, 65536), (1, 65535), (3, 13), (5, 7), (0, 1), (9, 0) })
        {
            var src = AllHalves.AsSpan(start, length);
            var dst = new float[length];
            Fp16.ToSingle(src, dst);
            for (var i = 0; i < length; i++)
                AssertSameBits(Fp16.Compute(src[i]), dst[i], $"half 0x{src[i]:X4}");
        }
    }

    [Fact]
    public void Table_lookup_equals_the_arithmetic_for_every_half()
    {
        foreach (var h in AllHalves)
            AssertSameBits(Fp16.Compute(h), Fp16.ToFloat(h), $"half 0x{h:X4}");
    }

    [Fact]
    public void Vector_forms_widen_every_half_exactly()
    {
        for (var i = 0; i < AllHalves.Length; i += 8)
        {
            var zeroExtended = Vector256.Create(AllHalves.AsSpan(i, 8).ToArray().Select(h => (uint)h).ToArray());
            var signExtended = Vector256.Create(AllHalves.AsSpan(i, 8).ToArray().Select(h => (int)(short)h).ToArray());
            var wide = Fp16.ToFloat(zeroExtended);
            var wideSigned = Fp16.ToFloatSignExtended(signExtended);
            var narrow = Fp16.ToFloat(zeroExtended.GetLower());
            var fast = Fp16.ToFloatFinite(signExtended);
            var scales = Fp16.ToFloatFiniteScales(signExtended);
            for (var j = 0; j < 8; j++)
            {
                var h = AllHalves[i + j];
                var expected = Fp16.Compute(h);
                AssertSameBits(expected, wide[j], $"Vector256 half 0x{h:X4}");
                AssertSameBits(expected, wideSigned[j], $"sign-extended half 0x{h:X4}");
                if (j < 4)
                    AssertSameBits(expected, narrow[j], $"Vector128 half 0x{h:X4}");
                if ((h & 0x7C00) != 0x7C00)
                {
                    AssertSameBits(expected, fast[j], $"finite-only half 0x{h:X4}");
                    AssertSameBits(expected, scales[j], $"finite-only scale half 0x{h:X4}");
                }
            }
        }
    }

    [Fact]
    public void Infinite_and_NaN_halves_are_seen_by_the_magnitude_check()
    {
        for (var i = 0; i < AllHalves.Length; i += 16)
        {
            var block = Vector256.Create(AllHalves.AsSpan(i, 16).ToArray());
            var special = AllHalves.AsSpan(i, 16).ToArray().Any(h => (h & 0x7C00) == 0x7C00);
            Assert.Equal(special, Fp16.SawInfinityOrNaN(Fp16.MaxMagnitude(Vector256<ushort>.Zero, block)));
        }
    }

    [Fact]
    public void Subnormal_halves_are_seen_by_the_minimum_check()
    {
        for (var i = 0; i < AllHalves.Length; i += 8)
        {
            var halves = AllHalves.AsSpan(i, 8).ToArray();
            var magnitudes = Vector256.Create(halves.Select(h => h & 0x7FFF).ToArray());
            var subnormal = halves.Any(h => (h & 0x7FFF) is > 0 and < 0x400);
            Assert.Equal(subnormal, Fp16.SawSubnormal(Fp16.MinMagnitudeLessOne(Vector256<uint>.AllBitsSet, magnitudes)));
        }
        // Zeros of either sign are not subnormal.
        Assert.False(Fp16.SawSubnormal(Fp16.MinMagnitudeLessOne(Vector256<uint>.AllBitsSet, Vector256<int>.Zero)));
    }

    [Fact]
    public void FromSingle_rounds_like_the_scalar_conversion()
    {
        var values = new List<float>();
        // Every half value and its float neighbours (the rounding boundaries), and the midpoints between halves.
        foreach (var h in AllHalves)
        {
            var f = Fp16.Compute(h);
            var bits = BitConverter.SingleToInt32Bits(f);
            values.AddRange([f, BitConverter.Int32BitsToSingle(bits + 1), BitConverter.Int32BitsToSingle(bits - 1)]);
            var next = Fp16.Compute((ushort)(h + 1));
            values.Add((f + next) / 2);
        }
        // A sweep over all float bit patterns (NaN payloads, huge, tiny and subnormal floats included).
        for (long b = 0; b <= uint.MaxValue; b += 4093)
            values.Add(BitConverter.UInt32BitsToSingle((uint)b));
        values.AddRange([float.PositiveInfinity, float.NegativeInfinity, float.NaN, -0f, 65520f, -65520f, 65519.996f, float.MaxValue, float.Epsilon]);
        var src = values.ToArray();
        // The 128-bit twin directly (FromSingle takes the 256-bit one where the CPU has it).
        for (var i = 0; i + 4 <= src.Length; i += 4)
        {
            var narrow = Fp16.FromFloat(Vector128.Create(src.AsSpan(i, 4)));
            for (var j = 0; j < 4; j++)
                Assert.True(Fp16.FromFloat(src[i + j]) == narrow[j], $"Vector128 float 0x{BitConverter.SingleToUInt32Bits(src[i + j]):X8}");
        }
        foreach (var start in new[] { 0, 1, 3 })
        {
            var slice = src.AsSpan(start, src.Length - start - (start == 3 ? 2 : 0));
            var dst = new ushort[slice.Length];
            Fp16.FromSingle(slice, dst);
            for (var i = 0; i < slice.Length; i++)
            {
                var expected = Fp16.FromFloat(slice[i]);
                Assert.True(expected == dst[i], $"float 0x{BitConverter.SingleToUInt32Bits(slice[i]):X8}: scalar 0x{expected:X4}, vector 0x{dst[i]:X4}");
            }
        }
    }

    [Fact]
    public void Short_destinations_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Fp16.ToSingle(new ushort[9], new float[8]));
        Assert.Throws<ArgumentException>(() => Fp16.FromSingle(new float[9], new ushort[8]));
    }

    private static void AssertSameBits(float expected, float actual, string what) =>
        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
            $"{what}: expected 0x{BitConverter.SingleToUInt32Bits(expected):X8}, got 0x{BitConverter.SingleToUInt32Bits(actual):X8}");
}
